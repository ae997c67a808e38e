"""Read API for the territory tree and buildings: every authenticated user may read it."""

from __future__ import annotations

from typing import Any, TypeVar

import django_filters
from django.db.models import Model, QuerySet
from django_filters.filterset import FilterSet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.pagination import DefaultCursorPagination
from territory.api.serializers import AreaOutputSerializer, BuildingOutputSerializer
from territory.filters import AreaFilterSet, BuildingFilterSet
from territory.models import Area, Building
from territory.selectors import area_ancestors, area_get, area_list, building_list

_M = TypeVar("_M", bound=Model)


def filterset_parameters(filterset_class: type[FilterSet]) -> list[OpenApiParameter]:
    """Document a FilterSet's query parameters (the selectors apply it, not a filter backend)."""
    parameters = []
    # base_filters is set on each FilterSet class by django-filter's metaclass, which mypy,
    # reading the untyped source, does not see.
    base_filters = filterset_class.base_filters  # type: ignore[attr-defined]
    for name, filter_field in base_filters.items():
        choices = getattr(filter_field, "extra", {}).get("choices")
        numeric = (django_filters.NumberFilter, django_filters.ModelChoiceFilter)
        kind = OpenApiTypes.INT if isinstance(filter_field, numeric) else OpenApiTypes.STR
        parameters.append(OpenApiParameter(
            name, kind, OpenApiParameter.QUERY, required=False,
            description=str(filter_field.label or name),
            enum=[value for value, _label in choices] if choices else None))
    return parameters


class PathCursorPagination(DefaultCursorPagination):
    ordering = "path"


class ReadOnlyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      viewsets.GenericViewSet[_M]):
    filter_backends: list[Any] = []  # the selectors apply the FilterSets
    lookup_value_regex = r"[0-9]{1,15}"  # also keeps ids inside the database's integer range


@extend_schema_view(list=extend_schema(parameters=filterset_parameters(AreaFilterSet)))
class AreaViewSet(ReadOnlyViewSet[Area]):
    """Areas of the territory tree; `?within=<id>` gives a whole subtree in one query."""

    serializer_class = AreaOutputSerializer
    pagination_class = PathCursorPagination
    queryset = Area.objects.none()

    def get_queryset(self) -> QuerySet[Area]:
        return area_list(filters=self.request.query_params)

    def get_object(self) -> Area:
        return area_get(area_id=int(self.kwargs["pk"]))

    @extend_schema(responses=AreaOutputSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def ancestors(self, request: Request, pk: str) -> Response:
        """From the root down to the area's parent."""
        ancestors = area_ancestors(area=self.get_object())
        return Response(AreaOutputSerializer(ancestors, many=True).data)


@extend_schema_view(list=extend_schema(parameters=filterset_parameters(BuildingFilterSet)))
class BuildingViewSet(ReadOnlyViewSet[Building]):
    serializer_class = BuildingOutputSerializer
    queryset = Building.objects.none()

    def get_queryset(self) -> QuerySet[Building]:
        return building_list(filters=self.request.query_params)
