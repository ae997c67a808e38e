"""Input serializers are plain Serializers; output serializers map the rows (names masked)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from core.masking import mask_name, mask_phone
from core.scope import path_in_scope
from residents.selectors import party_member_public_name
from volunteers.models import (
    Activity,
    ActivitySignup,
    CareFile,
    CareVisit,
    HoursEntry,
    MicroWish,
    ProxyService,
    ResponsibilityZone,
    ServicePost,
    Shift,
    ShiftSwap,
    Team,
    Volunteer,
)


def _viewer_covers(serializer: serializers.BaseSerializer[Any], path: str) -> bool:
    request = serializer.context.get("request")
    return request is not None and path_in_scope(request.user, path)


# --- output -------------------------------------------------------------------------------

class TeamOutput(serializers.ModelSerializer[Team]):
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Team
        fields = ["id", "name", "kind", "description", "compound", "member_count"]


class VolunteerOutput(serializers.ModelSerializer[Volunteer]):
    is_party_member = serializers.BooleanField(read_only=True)
    phone = serializers.SerializerMethodField()

    class Meta:
        model = Volunteer
        fields = ["id", "name", "phone", "identity", "is_party_member", "compound", "skills",
                  "is_active"]

    def get_phone(self, volunteer: Volunteer) -> str:
        return mask_phone(volunteer.phone)


# Read with many=True only (team_ranking's rows): the stubs type a plain Serializer's instance as
# one row, so a queryset cannot be named here.
class TeamRankingOutput(serializers.Serializer[Any]):
    volunteer_id = serializers.IntegerField(source="id")
    name = serializers.CharField()
    is_party_member = serializers.BooleanField()
    year_hours = serializers.DecimalField(max_digits=7, decimal_places=1, allow_null=True)


class ActivityOutput(serializers.ModelSerializer[Activity]):
    confirmed_count = serializers.IntegerField(read_only=True)
    team_name = serializers.CharField(source="team.name", default="", read_only=True)

    class Meta:
        model = Activity
        fields = ["id", "title", "kind", "status", "description", "location", "starts_at",
                  "ends_at", "capacity", "confirmed_count", "team", "team_name", "compound"]


class ActivitySignupOutput(serializers.ModelSerializer[ActivitySignup]):
    volunteer_name = serializers.CharField(source="volunteer.name", read_only=True)

    class Meta:
        model = ActivitySignup
        fields = ["id", "activity", "volunteer", "volunteer_name", "status", "signed_up_at",
                  "checked_in_at", "checked_out_at"]


class HoursEntryOutput(serializers.ModelSerializer[HoursEntry]):
    volunteer_name = serializers.CharField(source="volunteer.name", read_only=True)
    activity_title = serializers.CharField(source="activity.title", default="", read_only=True)

    class Meta:
        model = HoursEntry
        fields = ["id", "volunteer", "volunteer_name", "activity", "activity_title", "source",
                  "status", "hours", "served_on", "note", "decided_at"]


# Read with many=True only (hours_yearly_totals' list), as TeamRankingOutput.
class HoursYearTotalOutput(serializers.Serializer[Any]):
    year = serializers.IntegerField()
    app = serializers.DecimalField(max_digits=7, decimal_places=1)
    staff = serializers.DecimalField(max_digits=7, decimal_places=1)
    total = serializers.DecimalField(max_digits=7, decimal_places=1)


class ZoneOutput(serializers.ModelSerializer[ResponsibilityZone]):
    party_member_name = serializers.SerializerMethodField()
    building_numbers = serializers.SerializerMethodField()
    household_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = ResponsibilityZone
        fields = ["id", "number", "name", "compound", "party_member", "party_member_name",
                  "building_numbers", "household_count", "duties"]

    def get_party_member_name(self, zone: ResponsibilityZone) -> str:
        """张* as on the 亮身份 board; the full name for staff whose scope covers the member."""
        request = self.context.get("request")
        return party_member_public_name(zone.party_member,
                                        viewer=getattr(request, "user", None))

    def get_building_numbers(self, zone: ResponsibilityZone) -> list[str]:
        return [building.number for building in zone.buildings.all()]


class ServicePostOutput(serializers.ModelSerializer[ServicePost]):
    class Meta:
        model = ServicePost
        fields = ["id", "kind", "name", "location", "description", "compound"]


class ShiftOutput(serializers.ModelSerializer[Shift]):
    post_name = serializers.CharField(source="post.name", read_only=True)
    volunteer_name = serializers.CharField(source="volunteer.name", read_only=True)

    class Meta:
        model = Shift
        fields = ["id", "post", "post_name", "volunteer", "volunteer_name", "starts_at",
                  "ends_at", "status", "checked_in_at"]


class ShiftSwapOutput(serializers.ModelSerializer[ShiftSwap]):
    class Meta:
        model = ShiftSwap
        fields = ["id", "shift", "from_volunteer", "to_volunteer", "reason", "status",
                  "decided_at"]


class MicroWishOutput(serializers.ModelSerializer[MicroWish]):
    resident_name = serializers.SerializerMethodField()
    claimed_by_name = serializers.CharField(source="claimed_by.resident.name", default="",
                                            read_only=True)

    class Meta:
        model = MicroWish
        fields = ["id", "title", "description", "status", "compound", "resident_name",
                  "claimed_by", "claimed_by_name", "claimed_at", "claim_expires_at",
                  "fulfilled_at", "fulfilment_note", "confirmed_at", "created_at"]

    def get_resident_name(self, wish: MicroWish) -> str:
        if _viewer_covers(self, wish.compound.community.path):
            return wish.resident.name
        return mask_name(wish.resident.name)


class ProxyServiceOutput(serializers.ModelSerializer[ProxyService]):
    resident_name = serializers.SerializerMethodField()
    assignee_name = serializers.CharField(source="assignee.name", default="", read_only=True)

    class Meta:
        model = ProxyService
        fields = ["id", "kind", "title", "description", "status", "compound", "resident_name",
                  "assignee", "assignee_name", "assigned_at", "done_at", "result_note",
                  "confirmed_at", "created_at"]

    def get_resident_name(self, service: ProxyService) -> str:
        if _viewer_covers(self, service.compound.community.path):
            return service.resident.name
        return mask_name(service.resident.name)


class CareFileListOutput(serializers.ModelSerializer[CareFile]):
    """Lists never carry the notes; the name is masked (PIPL: the minimum needed)."""

    elder_name = serializers.SerializerMethodField()
    building = serializers.CharField(source="resident.household.building.number",
                                     read_only=True)
    caretaker_name = serializers.CharField(source="caretaker.name", default="", read_only=True)

    class Meta:
        model = CareFile
        fields = ["id", "elder_name", "building", "category", "risk", "frequency",
                  "caretaker", "caretaker_name", "next_visit_due", "missed_count", "is_active"]

    def get_elder_name(self, care_file: CareFile) -> str:
        return mask_name(care_file.resident.name)


class CareVisitOutput(serializers.ModelSerializer[CareVisit]):
    visitor_name = serializers.CharField(source="visitor.name", default="", read_only=True)

    class Meta:
        model = CareVisit
        fields = ["id", "visited_on", "condition", "notes", "visitor", "visitor_name"]


class CareFileDetailOutput(CareFileListOutput):
    # DRF lets a subclass declare a field again with another class; the stubs type it as the
    # base's SerializerMethodField.
    elder_name = serializers.CharField(  # type: ignore[assignment]
        source="resident.name", read_only=True)
    household = serializers.CharField(source="resident.household.__str__", read_only=True)
    emergency_phone = serializers.SerializerMethodField()
    visits = CareVisitOutput(many=True, read_only=True)

    class Meta(CareFileListOutput.Meta):
        fields = [*CareFileListOutput.Meta.fields, "household", "health_notes",
                  "living_notes", "emergency_contact", "emergency_phone", "second_miss_on",
                  "flagged_at", "alerted_at", "visits"]

    def get_emergency_phone(self, care_file: CareFile) -> str:
        return care_file.emergency_phone


@extend_schema_serializer(many=False)  # the dashboard's `list` answers one object
class VolunteerCountsOutput(serializers.Serializer[dict[str, Any]]):  # dashboard_counts
    wishes = serializers.DictField(child=serializers.IntegerField())
    services = serializers.DictField(child=serializers.IntegerField())


# --- input --------------------------------------------------------------------------------

class ActivityCreateInput(serializers.Serializer[Any]):  # input only: no instance
    compound = serializers.IntegerField()
    team = serializers.IntegerField(required=False, allow_null=True)
    title = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=Activity.Kind.choices)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    capacity = serializers.IntegerField(min_value=1, max_value=10000)
    location = serializers.CharField(max_length=100, required=False, allow_blank=True,
                                     default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")


class CheckInCodeInput(serializers.Serializer[Any]):  # input only: no instance
    code = serializers.RegexField(r"^\d{6}$", required=False, allow_blank=True,
                                  error_messages={"invalid": "签到码为 6 位数字。"})


class HoursDecideInput(serializers.Serializer[Any]):  # input only: no instance
    hours = serializers.DecimalField(max_digits=4, decimal_places=1, required=False,
                                     min_value=Decimal("0"), max_value=Decimal("24"))
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class HoursAddInput(serializers.Serializer[Any]):  # input only: no instance
    volunteer = serializers.IntegerField()
    hours = serializers.DecimalField(max_digits=4, decimal_places=1, min_value=Decimal("0.5"),
                                     max_value=Decimal("24"))
    served_on = serializers.DateField()
    note = serializers.CharField(max_length=200)


class SwapRequestInput(serializers.Serializer[Any]):  # input only: no instance
    to_volunteer = serializers.IntegerField()
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                   default="")


class SwapDecideInput(serializers.Serializer[Any]):  # input only: no instance
    accept = serializers.BooleanField()


class WishCreateInput(serializers.Serializer[Any]):  # input only: no instance
    title = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class VolunteerReasonInput(serializers.Serializer[Any]):  # input only: no instance
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                   default="")


class WishFulfilInput(serializers.Serializer[Any]):  # input only: no instance
    note = serializers.CharField(required=False, allow_blank=True, default="")
    photo = serializers.ImageField(required=False)


class ProxyServiceCreateInput(serializers.Serializer[Any]):  # input only: no instance
    kind = serializers.ChoiceField(choices=ProxyService.Kind.choices)
    title = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class ProxyAssignInput(serializers.Serializer[Any]):  # input only: no instance
    assignee = serializers.IntegerField()


class VolunteerNoteInput(serializers.Serializer[Any]):  # input only: no instance
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CareVisitInput(serializers.Serializer[Any]):  # input only: no instance
    visited_on = serializers.DateField()
    condition = serializers.ChoiceField(choices=CareVisit.Condition.choices,
                                        default=CareVisit.Condition.GOOD)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
