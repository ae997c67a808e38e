"""FilterSets for households, residents and party members (used by the selectors and the API)."""

from __future__ import annotations

import json
from typing import ClassVar, TypeVar

import django_filters
from django.db.models import Model, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.filterset import FilterSet

from core.crypto import blind_index
from core.filters import IdFilter
from core.protected_lookups import ProtectedLookupFilterSet
from residents.models import Household, PartyMember, Resident
from territory.filters import filter_within

_M = TypeVar("_M", bound=Model)


def filter_tag(queryset: QuerySet[_M], field: str, tag: str) -> QuerySet[_M]:
    """Rows whose JSON list `field` holds `tag`; tags are fixed slugs, so a quoted match is exact.

    (`__contains` on a JSON list is not available on SQLite; the quoted text match works on both.)
    """
    return queryset.filter(**{f"{field}__icontains": json.dumps(tag)})


class HouseholdFilterSet(FilterSet):
    within = IdFilter(method="filter_within", label=_("区域（含下级）"))
    compound = IdFilter(field_name="building__compound_id", label=_("小区"))
    building = IdFilter(field_name="building_id", label=_("楼栋"))
    unit = IdFilter(field_name="unit_id", label=_("单元"))
    room = django_filters.CharFilter(label=_("门牌号"))

    class Meta:
        model = Household
        fields = ["within", "compound", "building", "unit", "room"]

    def filter_within(self, queryset: QuerySet[Household], name: str,
                      value: int | None) -> QuerySet[Household]:
        return filter_within(queryset, Household.SCOPE_PATH, value)


class ResidentFilterSet(ProtectedLookupFilterSet):
    # A whole phone or ID number is a reveal: the caller's reveal scope, audited, throttled.
    protected_lookups: ClassVar[dict[str, str]] = {"phone": "phone", "id_number": "id_number"}
    reveal_path_field = Resident.SCOPE_PATH

    within = IdFilter(method="filter_within", label=_("区域（含下级）"))
    compound = IdFilter(field_name="household__building__compound_id",
                                           label=_("小区"))
    building = IdFilter(field_name="household__building_id", label=_("楼栋"))
    household = IdFilter(field_name="household_id", label=_("户"))
    tag = django_filters.ChoiceFilter(choices=Resident.Tag.choices, method="filter_tag",
                                      label=_("标签"))
    name = django_filters.CharFilter(lookup_expr="icontains", label=_("姓名"))
    phone = django_filters.CharFilter(label=_("手机号（完整）"))
    id_number = django_filters.CharFilter(method="filter_id_number", label=_("身份证号（完整）"))

    class Meta:
        model = Resident
        fields = ["within", "compound", "building", "household", "tag", "name", "phone",
                  "id_number"]

    def filter_within(self, queryset: QuerySet[Resident], name: str,
                      value: int | None) -> QuerySet[Resident]:
        return filter_within(queryset, Resident.SCOPE_PATH, value)

    def filter_tag(self, queryset: QuerySet[Resident], name: str,
                   value: str) -> QuerySet[Resident]:
        return filter_tag(queryset, "tags", value) if value else queryset

    def filter_id_number(self, queryset: QuerySet[Resident], name: str,
                         value: str) -> QuerySet[Resident]:
        # The number is encrypted at rest: an exact match goes through its keyed digest.
        return queryset.filter(id_number_digest=blind_index(value)) if value else queryset


class PartyMemberFilterSet(FilterSet):
    kind = django_filters.ChoiceFilter(choices=PartyMember.Kind.choices, label=_("党员类型"))
    category = django_filters.ChoiceFilter(choices=PartyMember.Category.choices,
                                           label=_("分类管理"))
    org_node = IdFilter(field_name="org_node_id", label=_("所在党组织"))
    compound = IdFilter(field_name="resident__household__building__compound_id",
                                           label=_("小区"))
    building = IdFilter(field_name="resident__household__building_id",
                                           label=_("楼栋"))

    class Meta:
        model = PartyMember
        fields = ["kind", "category", "org_node", "compound", "building"]


class PublicPartyMemberFilterSet(FilterSet):
    compound = IdFilter(field_name="resident__household__building__compound_id",
                                           label=_("小区"))
    org_node = IdFilter(field_name="org_node_id", label=_("所在党组织"))

    class Meta:
        model = PartyMember
        fields = ["compound", "org_node"]
