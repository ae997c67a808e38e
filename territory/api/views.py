"""Read API for the territory tree and buildings: every authenticated user may read it."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.pagination import DefaultCursorPagination
from core.api.schema import filterset_parameters
from core.api.views import ReadOnlyViewSet
from territory.api.serializers import AreaOutputSerializer, BuildingOutputSerializer
from territory.filters import AreaFilterSet, BuildingFilterSet
from territory.models import Area, Building
from territory.selectors import area_ancestors, area_get, area_list, building_list


class PathCursorPagination(DefaultCursorPagination):
    ordering = "path"


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
