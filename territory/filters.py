"""FilterSets shared by the API and the selectors (one filter definition for every reader), and
the subtree filter every app uses to narrow its rows to an area. They are applied with
core.filters.filterset_apply."""

from __future__ import annotations

from typing import TypeVar

import django_filters
from django.db.models import Model, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _
from django_filters.filterset import FilterSet

from core.filters import IdFilter
from territory.models import Area, Building, Compound

_M = TypeVar("_M", bound=Model)


def area_path_subquery(area_id: int) -> Subquery:
    """The path of one area as a subquery, so a subtree filter stays one query."""
    return Subquery(Area.objects.filter(pk=area_id).values("path")[:1])


def filter_within(queryset: QuerySet[_M], path_field: str, area_id: int | None) -> QuerySet[_M]:
    """Rows whose `path_field` lies under the area `area_id` (the area included)."""
    if area_id is None:
        return queryset
    return queryset.filter(**{f"{path_field}__startswith": area_path_subquery(area_id)})


class AreaFilterSet(FilterSet):
    within = IdFilter(method="filter_within", label=_("区域（含下级）"))
    kind = django_filters.ChoiceFilter(choices=Area.Kind.choices, label=_("类型"))
    name = django_filters.CharFilter(lookup_expr="icontains", label=_("名称"))

    class Meta:
        model = Area
        fields = ["within", "kind", "name"]

    def filter_within(self, queryset: QuerySet[Area], name: str,
                      value: int | None) -> QuerySet[Area]:
        return filter_within(queryset, "path", value)


class BuildingFilterSet(FilterSet):
    within = IdFilter(method="filter_within", label=_("区域（含下级）"))
    compound = django_filters.ModelChoiceFilter(queryset=Compound.objects.all(), label=_("小区"))
    micro_grid = IdFilter(field_name="micro_grid_id", label=_("微网格"))
    number = django_filters.CharFilter(label=_("楼号"))

    class Meta:
        model = Building
        fields = ["within", "compound", "micro_grid", "number"]

    def filter_within(self, queryset: QuerySet[Building], name: str,
                      value: int | None) -> QuerySet[Building]:
        return filter_within(queryset, "micro_grid__path", value)
