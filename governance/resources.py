"""Excel/CSV import and export of party members (django-import-export).

The resource sits here, not in residents: a party member belongs to an organisation of the party
(OrgNode), and residents sits below governance. The resident is found as residents' own
resources find one (residents.resources.ScopedResource).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from import_export import fields, widgets

from core.scope import path_in_scope
from governance.models import OrgNode
from residents.models import PartyMember, Resident
from residents.resources import (
    ChoiceLabelWidget,
    DateWidget,
    ScopedResource,
    TextWidget,
    YesNoWidget,
    phone_check,
    text,
)


class PartyMemberResource(ScopedResource):
    """Party members: the resident is found by 手机号, else by 姓名 + 小区/楼号/单元/门牌号."""

    resolved_relations = ("resident", "org_node")

    name = fields.Field(column_name="姓名", dehydrate_method="dehydrate_name")
    phone = fields.Field(column_name="手机号", dehydrate_method="dehydrate_phone")
    compound = fields.Field(column_name="小区", dehydrate_method="dehydrate_compound")
    building_number = fields.Field(column_name="楼号", dehydrate_method="dehydrate_building")
    unit_number = fields.Field(column_name="单元", dehydrate_method="dehydrate_unit")
    room = fields.Field(column_name="门牌号", dehydrate_method="dehydrate_room")
    kind = fields.Field(attribute="kind", column_name="党员类型",
                        widget=ChoiceLabelWidget(PartyMember.Kind.choices, required=True))
    org_node = fields.Field(column_name="所在党组织", dehydrate_method="dehydrate_org_node")
    category = fields.Field(attribute="category", column_name="分类管理",
                            widget=ChoiceLabelWidget(PartyMember.Category.choices))
    joined_on = fields.Field(attribute="joined_on", column_name="入党日期",
                             widget=DateWidget())
    occupation = fields.Field(attribute="occupation", column_name="职业", widget=TextWidget())
    workplace = fields.Field(attribute="workplace", column_name="工作单位", widget=TextWidget())
    skills = fields.Field(attribute="skills", column_name="特长", widget=TextWidget())
    is_public = fields.Field(attribute="is_public", column_name="亮身份", widget=YesNoWidget())
    public_consent_on = fields.Field(attribute="public_consent_on", column_name="亮身份同意日期",
                                     widget=widgets.DateWidget())
    duties = fields.Field(attribute="duties", column_name="定责任", widget=TextWidget())
    pledges = fields.Field(attribute="pledges", column_name="践承诺", widget=TextWidget())

    class Meta:
        model = PartyMember
        fields = ("name", "phone", "compound", "building_number", "unit_number", "room", "kind",
                  "org_node", "category", "joined_on", "occupation", "workplace", "skills",
                  "is_public", "public_consent_on", "duties", "pledges")
        skip_diff = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._org_nodes: dict[str, list[OrgNode]] | None = None

    def before_import_row(self, row: dict[str, Any], **kwargs: Any) -> None:
        row["姓名"], row["手机号"] = text(row.get("姓名")), text(row.get("手机号"))
        row["手机号"] = phone_check(row["手机号"])
        row["_resident"] = self.resident_for_row(row)
        row["_org_node"] = self.org_node_for_row(row)
        if not row.get("分类管理"):
            row["分类管理"] = PartyMember.Category.GENERAL.label

    def resident_for_row(self, row: dict[str, Any]) -> Resident:
        if row["手机号"]:
            matches = list(Resident.objects.select_related("household__building__micro_grid")
                           .filter(phone=row["手机号"])[:2])
            if len(matches) != 1:
                raise ValidationError({"手机号": _("找不到手机号为 %(phone)s 的居民。") % {
                    "phone": row["手机号"]} if not matches else
                    _("手机号 %(phone)s 对应多位居民，请改填姓名和门牌号。") % {
                    "phone": row["手机号"]}})
            resident = matches[0]
        elif row["姓名"]:
            household = self.household_for_row(row)
            named = self.residents_of(household.pk).get(row["姓名"])
            if named is None:
                raise ValidationError({"姓名": _("%(household)s 没有名为“%(name)s”的居民。") % {
                    "household": household, "name": row["姓名"]}})
            resident = named
        else:
            raise ValidationError({"手机号": _("请填写手机号，或姓名加门牌号。")})
        if not path_in_scope(self.actor, resident.household.building.micro_grid.path):
            raise ValidationError({"手机号": _("该居民不在您的管辖范围内。")})
        return resident

    def org_node_for_row(self, row: dict[str, Any]) -> OrgNode:
        name = text(row.get("所在党组织"))
        if not name:
            raise ValidationError({"所在党组织": _("必须填写。")})
        if self._org_nodes is None:
            self._org_nodes = {}
            for node in OrgNode.objects.all():
                self._org_nodes.setdefault(node.name, []).append(node)
        nodes = self._org_nodes.get(name, [])
        if len(nodes) != 1:
            message = (_("找不到党组织“%s”。") if not nodes
                       else _("有多个党组织名为“%s”，请先在后台改名区分。"))
            raise ValidationError({"所在党组织": message % name})
        return nodes[0]

    def get_instance(self, instance_loader: Any, row: dict[str, Any]) -> PartyMember | None:
        return PartyMember.objects.filter(resident=row["_resident"]).first()

    def init_instance(self, row: dict[str, Any] | None = None) -> PartyMember:
        return PartyMember(resident=(row or {}).get("_resident"))

    def import_instance(self, instance: PartyMember, row: dict[str, Any], **kwargs: Any) -> None:
        instance.org_node = row["_org_node"]
        # see UNTYPED_SUPER (residents.resources)
        super().import_instance(instance, row, **kwargs)  # type: ignore[no-untyped-call]

    def get_queryset(self) -> QuerySet[PartyMember]:
        return PartyMember.objects.select_related(
            "resident__household__building__compound", "resident__household__building__micro_grid",
            "resident__household__unit", "org_node")

    def dehydrate_name(self, member: PartyMember) -> str:
        return member.resident.name

    def dehydrate_phone(self, member: PartyMember) -> str:
        return self.contact_of(member.resident, path=getattr(member, "area_path", None))[0]

    def dehydrate_compound(self, member: PartyMember) -> str:
        return member.resident.household.building.compound.name

    def dehydrate_building(self, member: PartyMember) -> str:
        return member.resident.household.building.number

    def dehydrate_unit(self, member: PartyMember) -> str:
        return member.resident.household.unit.number

    def dehydrate_room(self, member: PartyMember) -> str:
        return member.resident.household.room

    def dehydrate_org_node(self, member: PartyMember) -> str:
        return member.org_node.name
