"""Output serializers; phones, ID numbers and public names are masked per viewer (selectors)."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from residents.models import Household, PartyMember, Resident
from residents.rules import Viewer, is_external_system
from residents.selectors import (
    party_member_public_name,
    resident_contact,
    resident_name_for,
)


def _viewer(serializer: serializers.BaseSerializer[Any]) -> Viewer:
    request = serializer.context.get("request")
    user: Viewer = getattr(request, "user", None)
    return user


class HouseholdOutputSerializer(serializers.ModelSerializer[Household]):
    compound = serializers.CharField(source="building.compound.name", read_only=True)
    building_number = serializers.CharField(source="building.number", read_only=True)
    unit_number = serializers.CharField(source="unit.number", read_only=True)

    class Meta:
        model = Household
        fields = ("id", "compound", "building", "building_number", "unit", "unit_number", "room",
                  "is_occupied")
        read_only_fields = fields


class HouseholdRefSerializer(serializers.Serializer[Household]):
    id = serializers.IntegerField(read_only=True)
    # A declared field named like Field.label: DRF's serializer metaclass takes declared fields
    # out of the class, so this is the output's "label", never the serializer's own label.
    label = serializers.CharField(source="__str__", read_only=True)  # type: ignore[assignment]
    compound = serializers.CharField(source="building.compound.name", read_only=True)


class _MaskedIdNumberField(serializers.CharField):
    """The ID number as the viewer may see it (masked except on their own record)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", **kwargs)

    # source="*" hands the whole resident over; CharField's stub says a str.
    def to_representation(self, resident: Resident) -> str:  # type: ignore[override]
        return resident_contact(resident, viewer=_viewer(self.parent))["id_number"]


# What another system's key reads of a resident: enough to match a 12345 caller to a household.
INTEGRATION_FIELDS = ("id", "name", "phone", "is_household_head", "household")
_STAFF_ONLY = "仅工作人员可见（外部系统的回答不含此字段）"


class ResidentOutputSerializer(serializers.ModelSerializer[Resident]):
    """A resident. Staff read every field; another system (an API key) reads id, name (masked),
    phone (masked), is_household_head and household only."""

    # The staff-only fields are declared optional rather than read-only (which drf-spectacular
    # marks required), so that both answers match the one schema; nothing is written through
    # this serializer.
    household = HouseholdRefSerializer(read_only=True)
    name = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()
    id_number = _MaskedIdNumberField(required=False, help_text=f"超出查看者管辖范围时打码；"
                                                                 f"{_STAFF_ONLY}")
    tag_labels = serializers.ListField(child=serializers.CharField(), required=False,
                                       help_text=_STAFF_ONLY)

    class Meta:
        model = Resident
        fields = ("id", "name", "phone", "id_number", "gender", "birth_year", "tags",
                  "tag_labels", "is_household_head", "household")
        read_only_fields = INTEGRATION_FIELDS
        extra_kwargs = {name: {"required": False, "help_text": _STAFF_ONLY}
                        for name in ("gender", "birth_year", "tags")}

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        if is_external_system(_viewer(self)):
            return {name: field for name, field in fields.items() if name in INTEGRATION_FIELDS}
        return fields

    @extend_schema_field(serializers.CharField(help_text="外部系统：打码（张*）"))
    def get_name(self, resident: Resident) -> str:
        return resident_name_for(resident, viewer=_viewer(self))

    @extend_schema_field(serializers.CharField(help_text="超出查看者管辖范围时打码"))
    def get_phone(self, resident: Resident) -> str:
        return resident_contact(resident, viewer=_viewer(self))["phone"]


class OrgNodeRefSerializer(serializers.Serializer[Model]):  # a governance.OrgNode
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    kind = serializers.CharField(read_only=True)


class PartyMemberOutputSerializer(serializers.ModelSerializer[PartyMember]):
    name = serializers.CharField(source="resident.name", read_only=True)
    phone = serializers.SerializerMethodField()
    household = HouseholdRefSerializer(source="resident.household", read_only=True)
    org_node = OrgNodeRefSerializer(read_only=True)

    class Meta:
        model = PartyMember
        fields = ("id", "name", "phone", "household", "kind", "category", "org_node",
                  "occupation", "workplace", "skills", "joined_on", "is_public", "duties",
                  "pledges")
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(help_text="超出查看者管辖范围时打码"))
    def get_phone(self, member: PartyMember) -> str:
        member.resident.area_path = getattr(member, "area_path", None)  # type: ignore[attr-defined]
        return resident_contact(member.resident, viewer=_viewer(self))["phone"]


class PublicPartyMemberOutputSerializer(serializers.ModelSerializer[PartyMember]):
    """The 亮身份 board: a masked name (张*) unless the viewer's staff scope covers the member."""

    name = serializers.SerializerMethodField()
    org_node = serializers.CharField(source="org_node.name", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = PartyMember
        fields = ("id", "name", "org_node", "kind", "kind_label", "duties", "pledges")
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_name(self, member: PartyMember) -> str:
        return party_member_public_name(member, viewer=_viewer(self))


class ResidentRevealInputSerializer(serializers.Serializer[Any]):  # input only: no instance
    field = serializers.ChoiceField(choices=["phone", "id_number"], help_text="要显示的字段")
