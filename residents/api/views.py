"""Read API for households, residents and party members, narrowed by residents.selectors."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from core.api.reveal import RevealOutputSerializer, reveal_response
from core.api.schema import filterset_parameters
from core.api.views import ReadOnlyViewSet
from residents.api.serializers import (
    HouseholdOutputSerializer,
    PartyMemberOutputSerializer,
    PublicPartyMemberOutputSerializer,
    ResidentOutputSerializer,
    ResidentRevealInputSerializer,
)
from residents.filters import (
    HouseholdFilterSet,
    PartyMemberFilterSet,
    PublicPartyMemberFilterSet,
    ResidentFilterSet,
)
from residents.models import Household, PartyMember, Resident
from residents.rules import (
    Viewer,
    may_list_party_members,
    may_list_residents,
    resident_contact_revealable,
)
from residents.selectors import (
    household_get_for_user,
    household_list,
    party_member_get_for_user,
    party_member_list,
    party_member_public_list,
    resident_get_for_user,
    resident_list,
)

_M = TypeVar("_M", bound=Model)


@extend_schema_view(list=extend_schema(parameters=filterset_parameters(HouseholdFilterSet)))
class HouseholdViewSet(ReadOnlyViewSet[Household]):
    """Households in the viewer's scope; a resident sees only their own household."""

    serializer_class = HouseholdOutputSerializer
    queryset = Household.objects.none()

    def get_queryset(self) -> QuerySet[Household]:
        return household_list(user=self.request.user, filters=self.request.query_params)

    def get_object(self) -> Household:
        return household_get_for_user(user=self.request.user, household_id=int(self.kwargs["pk"]))


class PeopleViewSet(ReadOnlyViewSet[_M]):
    """Who may list is the selectors' answer; others are refused (a detail is simply not
    found)."""

    @staticmethod
    def may_list(user: Viewer) -> bool:
        raise NotImplementedError

    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        if not self.may_list(request.user):
            raise PermissionDenied(_("只有工作人员可以查看居民资料。"))
        return super().list(request, *args, **kwargs)


@extend_schema_view(list=extend_schema(parameters=filterset_parameters(ResidentFilterSet)))
class ResidentViewSet(PeopleViewSet[Resident]):
    """Residents in the viewer's scope, phone and ID number masked; an external system gets the
    residents of its key's scope area in the integration field set."""

    serializer_class = ResidentOutputSerializer
    queryset = Resident.objects.none()
    may_list = staticmethod(may_list_residents)

    def get_queryset(self) -> QuerySet[Resident]:
        return resident_list(user=self.request.user, filters=self.request.query_params)

    def get_object(self) -> Resident:
        return resident_get_for_user(user=self.request.user, resident_id=int(self.kwargs["pk"]))

    @extend_schema(summary="显示完整手机号或身份证号（仅限管辖范围，记入审计日志）",
                   request=ResidentRevealInputSerializer,
                   responses={200: RevealOutputSerializer})
    @action(detail=True, methods=["post"])
    def reveal(self, request: Request, pk: str) -> Response:
        serializer = ResidentRevealInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        field = serializer.validated_data["field"]
        resident = self.get_object()
        if not resident_contact_revealable(resident, viewer=request.user, field=field):
            raise Http404
        return reveal_response(request=request, obj=resident, field=field,
                               value=getattr(resident, field))


@extend_schema_view(list=extend_schema(parameters=filterset_parameters(PartyMemberFilterSet)))
class PartyMemberViewSet(PeopleViewSet[PartyMember]):
    """The party-member register, for staff; everyone (other systems too) reads `public/`."""

    serializer_class = PartyMemberOutputSerializer
    queryset = PartyMember.objects.none()
    may_list = staticmethod(may_list_party_members)

    def get_queryset(self) -> QuerySet[PartyMember]:
        return party_member_list(user=self.request.user, filters=self.request.query_params)

    def get_object(self) -> PartyMember:
        return party_member_get_for_user(user=self.request.user,
                                         party_member_id=int(self.kwargs["pk"]))

    @extend_schema(parameters=filterset_parameters(PublicPartyMemberFilterSet),
                   responses=PublicPartyMemberOutputSerializer(many=True))
    @action(detail=False, methods=["get"], permission_classes=[AllowAny],
            throttle_classes=[AnonRateThrottle],
            serializer_class=PublicPartyMemberOutputSerializer)
    def public(self, request: Request) -> Response:
        """亮身份: members who agreed to a public profile; anyone may read it."""
        queryset = party_member_public_list(filters=request.query_params)
        page = self.paginate_queryset(queryset)
        serializer = PublicPartyMemberOutputSerializer(page, many=True,
                                                       context=self.get_serializer_context())
        return self.get_paginated_response(serializer.data)
