"""Reads of the territory tree, compounds and buildings (a constant query count)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from core.filters import filterset_apply
from territory.filters import AreaFilterSet, BuildingFilterSet
from territory.models import Area, Building, Compound


def area_list(*, filters: dict[str, Any] | None = None) -> QuerySet[Area]:
    return filterset_apply(AreaFilterSet, filters, Area.objects.all())


def street_name() -> str:
    """The name of the street (街道) the portal serves: the first street at the top of the
    territory; "" before the territory is set up."""
    return (Area.objects.filter(kind=Area.Kind.STREET).order_by("path")
            .values_list("name", flat=True).first() or "")


def area_get(*, area_id: int) -> Area:
    area = Area.objects.filter(pk=area_id).first()
    if area is None:
        raise Http404
    return area


def area_ancestors(*, area: Area) -> list[Area]:
    """From the root down to the area's parent: one query whatever the depth."""
    return list(Area.objects.get_ancestors(area))


def building_list(*, filters: dict[str, Any] | None = None) -> QuerySet[Building]:
    queryset = Building.objects.select_related("compound", "micro_grid")
    if not filters:  # an empty FilterSet narrows nothing but costs a form's validation
        return queryset
    return filterset_apply(BuildingFilterSet, filters, queryset)


def compound_list() -> QuerySet[Compound]:
    return Compound.objects.select_related("community").order_by("name")


def compound_get(*, compound_id: int) -> Compound:
    compound = compound_list().filter(pk=compound_id).first()
    if compound is None:
        raise Http404
    return compound
