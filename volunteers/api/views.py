"""REST API under /api/v1/volunteers/: read-only lists and details, one POST per transition."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from core.api.views import ID_LOOKUP_REGEX, validated
from core.exceptions import ApplicationError
from core.types import signed_in_user
from residents.models import Resident
from territory.models import Compound
from volunteers import selectors
from volunteers.api import serializers as io
from volunteers.filters import (
    ActivityFilter,
    CareFileFilter,
    HoursEntryFilter,
    MicroWishFilter,
    ProxyServiceFilter,
    ShiftFilter,
    VolunteerFilter,
)
from volunteers.models import (
    Activity,
    ActivitySignup,
    CareFile,
    CareFileAccessLog,
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
from volunteers.services import activities, care, proxy, rosters, wishes


def _user(request: Request) -> User:
    """The caller: every endpoint here is behind DRF's IsAuthenticated (the default)."""
    return signed_in_user(request.user)


def _me_volunteer(request: Request) -> Volunteer:
    volunteer = selectors.volunteer_for_user(request.user)
    if volunteer is None:
        raise ApplicationError(_("您还不是志愿者，请先登记。"))
    return volunteer


def _me_resident(request: Request) -> Resident:
    resident = selectors.resident_for_user(request.user)
    if resident is None:
        raise ApplicationError(_("只有登记在册的居民可以提交。"))
    return resident


class TeamViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Team]):
    lookup_value_regex = ID_LOOKUP_REGEX
    serializer_class = io.TeamOutput

    def get_queryset(self) -> QuerySet[Team]:
        return selectors.team_list(user=self.request.user)

    @extend_schema(parameters=[OpenApiParameter("year", int)],
                   responses=io.TeamRankingOutput(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def ranking(self, request: Request, pk: str) -> Response:
        team = self.get_object()
        year = serializers.IntegerField(min_value=1, max_value=9999).run_validation(
            request.query_params.get("year") or timezone.localdate().year)
        rows = selectors.team_ranking(team=team, year=year)[:100]
        return Response(io.TeamRankingOutput(rows, many=True).data)


class VolunteerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       viewsets.GenericViewSet[Volunteer]):
    lookup_value_regex = ID_LOOKUP_REGEX
    serializer_class = io.VolunteerOutput
    filterset_class = VolunteerFilter

    def get_queryset(self) -> QuerySet[Volunteer]:
        return selectors.volunteer_list(user=self.request.user)

    @extend_schema(request=None, responses={201: io.VolunteerOutput})
    @action(detail=False, methods=["post"])
    def register(self, request: Request) -> Response:
        volunteer = activities.volunteer_register(user=_user(request))
        return Response(io.VolunteerOutput(volunteer).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=io.HoursYearTotalOutput(many=True))
    @action(detail=False, methods=["get"], url_path="me/hours", pagination_class=None)
    def my_hours(self, request: Request) -> Response:
        volunteer = _me_volunteer(request)
        totals = selectors.hours_yearly_totals(volunteer_id=volunteer.pk)
        return Response(io.HoursYearTotalOutput(totals, many=True).data)


class ActivityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      viewsets.GenericViewSet[Activity]):
    lookup_value_regex = ID_LOOKUP_REGEX
    serializer_class = io.ActivityOutput
    filterset_class = ActivityFilter

    def get_queryset(self) -> QuerySet[Activity]:
        return selectors.activity_list(user=self.request.user)

    @extend_schema(request=io.ActivityCreateInput, responses={201: io.ActivityOutput})
    def create(self, request: Request) -> Response:
        data = validated(io.ActivityCreateInput, request.data)
        compound = get_object_or_404(Compound.objects.select_related("community"),
                                     pk=data.pop("compound"))
        team_id = data.pop("team", None)
        team = compound.volunteer_teams.filter(pk=team_id).first() if team_id else None
        activity = activities.activity_create(compound=compound, actor=_user(request), team=team,
                                              **data)
        activity = selectors.activity_list(user=request.user).get(pk=activity.pk)
        return Response(io.ActivityOutput(activity).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={201: io.ActivitySignupOutput})
    @action(detail=True, methods=["post"])
    def signup(self, request: Request, pk: str) -> Response:
        activity = self.get_object()
        signup = activities.activity_signup(activity=activity, volunteer=_me_volunteer(request))
        return Response(io.ActivitySignupOutput(signup).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=io.VolunteerReasonInput, responses=io.ActivityOutput)
    @action(detail=True, methods=["post"], url_path="cancel")
    def cancel_activity(self, request: Request, pk: str) -> Response:
        activity = selectors.activity_staff_get(user=request.user, activity_id=int(pk))
        data = validated(io.VolunteerReasonInput, request.data)
        activities.activity_cancel(activity=activity, actor=_user(request), reason=data["reason"])
        activity = selectors.activity_list(user=request.user).get(pk=activity.pk)
        return Response(io.ActivityOutput(activity).data)

    @extend_schema(responses=io.ActivitySignupOutput(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def signups(self, request: Request, pk: str) -> Response:
        activity = selectors.activity_staff_get(user=request.user, activity_id=int(pk))
        rows = selectors.activity_signups(activity=activity)
        return Response(io.ActivitySignupOutput(rows, many=True).data)


class SignupViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet[ActivitySignup]):
    """A sign-up: cancelled by its volunteer; checked in and out by code, or by staff."""
    lookup_value_regex = ID_LOOKUP_REGEX

    serializer_class = io.ActivitySignupOutput
    queryset = ActivitySignup.objects.none()  # for the schema; rows come from get_object

    def get_object(self) -> ActivitySignup:
        return selectors.signup_get_for_user(user=self.request.user,
                                             signup_id=int(self.kwargs["pk"]))

    @extend_schema(request=None, responses=io.ActivitySignupOutput)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        signup = activities.activity_signup_cancel(signup=self.get_object(), user=_user(request))
        return Response(io.ActivitySignupOutput(signup).data)

    @extend_schema(request=io.CheckInCodeInput, responses=io.ActivitySignupOutput)
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request: Request, pk: str) -> Response:
        data = validated(io.CheckInCodeInput, request.data)
        signup = activities.signup_check_in(signup=self.get_object(), user=_user(request),
                                            code=data.get("code"))
        return Response(io.ActivitySignupOutput(signup).data)

    @extend_schema(request=io.CheckInCodeInput, responses=io.HoursEntryOutput)
    @action(detail=True, methods=["post"], url_path="check-out")
    def check_out(self, request: Request, pk: str) -> Response:
        data = validated(io.CheckInCodeInput, request.data)
        entry = activities.signup_check_out(signup=self.get_object(), user=_user(request),
                                            code=data.get("code"))
        return Response(io.HoursEntryOutput(entry).data)


class HoursEntryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[HoursEntry]):
    lookup_value_regex = ID_LOOKUP_REGEX
    serializer_class = io.HoursEntryOutput
    filterset_class = HoursEntryFilter

    def get_queryset(self) -> QuerySet[HoursEntry]:
        return selectors.hours_entry_list(user=self.request.user)

    @extend_schema(request=io.HoursAddInput, responses={201: io.HoursEntryOutput})
    def create(self, request: Request) -> Response:
        data = validated(io.HoursAddInput, request.data)
        volunteer = selectors.volunteer_get_for_staff(user=request.user,
                                                      volunteer_id=data.pop("volunteer"))
        entry = activities.hours_entry_add(volunteer=volunteer, actor=_user(request), **data)
        return Response(io.HoursEntryOutput(entry).data, status=status.HTTP_201_CREATED)

    def _decide(self, request: Request, pk: str, *, approve: bool) -> Response:
        entry = selectors.hours_entry_get_for_staff(user=request.user, entry_id=int(pk))
        data = validated(io.HoursDecideInput, request.data)
        entry = activities.hours_entry_decide(entry=entry, actor=_user(request), approve=approve,
                                              **data)
        return Response(io.HoursEntryOutput(entry).data)

    @extend_schema(request=io.HoursDecideInput, responses=io.HoursEntryOutput)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        return self._decide(request, pk, approve=True)

    @extend_schema(request=io.HoursDecideInput, responses=io.HoursEntryOutput)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        return self._decide(request, pk, approve=False)


class ZoneViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[ResponsibilityZone]):
    serializer_class = io.ZoneOutput
    pagination_class = None

    def get_queryset(self) -> QuerySet[ResponsibilityZone]:
        return selectors.zone_list(user=self.request.user)


class ServicePostViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[ServicePost]):
    serializer_class = io.ServicePostOutput
    pagination_class = None

    def get_queryset(self) -> QuerySet[ServicePost]:
        return selectors.post_list(user=self.request.user)


class ShiftViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                   viewsets.GenericViewSet[Shift]):
    lookup_value_regex = ID_LOOKUP_REGEX
    serializer_class = io.ShiftOutput
    filterset_class = ShiftFilter

    def get_queryset(self) -> QuerySet[Shift]:
        return selectors.shift_list(user=self.request.user)

    @extend_schema(request=io.SwapRequestInput, responses={201: io.ShiftSwapOutput})
    @action(detail=True, methods=["post"])
    def swap(self, request: Request, pk: str) -> Response:
        shift = self.get_object()
        data = validated(io.SwapRequestInput, request.data)
        to_volunteer = get_object_or_404(Volunteer, pk=data["to_volunteer"],
                                         compound_id=shift.post.compound_id)
        swap = rosters.shift_swap_request(shift=shift, user=_user(request),
                                          to_volunteer=to_volunteer, reason=data["reason"])
        return Response(io.ShiftSwapOutput(swap).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=io.ShiftOutput)
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request: Request, pk: str) -> Response:
        shift = rosters.shift_check_in(shift=self.get_object(), user=_user(request))
        return Response(io.ShiftOutput(shift).data)


class ShiftSwapViewSet(viewsets.GenericViewSet[ShiftSwap]):
    lookup_value_regex = ID_LOOKUP_REGEX
    serializer_class = io.ShiftSwapOutput
    queryset = ShiftSwap.objects.none()  # for the schema; rows are looked up per user

    @extend_schema(request=io.SwapDecideInput, responses=io.ShiftSwapOutput)
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str) -> Response:
        swap = ShiftSwap.objects.filter(pk=pk, to_volunteer__user=_user(request)).first()
        if swap is None:
            raise Http404
        data = validated(io.SwapDecideInput, request.data)
        swap = rosters.shift_swap_decide(swap=swap, user=_user(request), accept=data["accept"])
        return Response(io.ShiftSwapOutput(swap).data)


class MicroWishViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       viewsets.GenericViewSet[MicroWish]):
    lookup_value_regex = ID_LOOKUP_REGEX
    serializer_class = io.MicroWishOutput
    filterset_class = MicroWishFilter
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_queryset(self) -> QuerySet[MicroWish]:
        return selectors.micro_wish_list(user=self.request.user)

    def _out(self, wish: MicroWish) -> Response:
        wish = selectors.micro_wish_get_for_user(user=self.request.user, wish_id=wish.pk)
        return Response(io.MicroWishOutput(wish, context={"request": self.request}).data)

    @extend_schema(request=io.WishCreateInput, responses={201: io.MicroWishOutput})
    def create(self, request: Request) -> Response:
        data = validated(io.WishCreateInput, request.data)
        wish = wishes.micro_wish_submit(resident=_me_resident(request), **data)
        response = self._out(wish)
        response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(request=None, responses=io.MicroWishOutput)
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str) -> Response:
        return self._out(wishes.micro_wish_publish(wish=self.get_object(), actor=_user(request)))

    @extend_schema(request=io.VolunteerReasonInput, responses=io.MicroWishOutput)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        data = validated(io.VolunteerReasonInput, request.data)
        return self._out(wishes.micro_wish_reject(wish=self.get_object(), actor=_user(request),
                                                  reason=data["reason"]))

    @extend_schema(request=None, responses=io.MicroWishOutput)
    @action(detail=True, methods=["post"])
    def claim(self, request: Request, pk: str) -> Response:
        return self._out(wishes.micro_wish_claim(wish=self.get_object(), user=_user(request)))

    @extend_schema(request=io.WishFulfilInput, responses=io.MicroWishOutput)
    @action(detail=True, methods=["post"])
    def fulfil(self, request: Request, pk: str) -> Response:
        data = validated(io.WishFulfilInput, request.data)
        return self._out(wishes.micro_wish_fulfil(wish=self.get_object(), user=_user(request),
                                                  note=data["note"],
                                                  photo=data.get("photo")))

    @extend_schema(request=None, responses=io.MicroWishOutput)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str) -> Response:
        return self._out(wishes.micro_wish_confirm(wish=self.get_object(), user=_user(request)))

    @extend_schema(request=None, responses=io.MicroWishOutput)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str) -> Response:
        return self._out(wishes.micro_wish_withdraw(wish=self.get_object(),
                                                    user=_user(request)))


class ProxyServiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          viewsets.GenericViewSet[ProxyService]):
    lookup_value_regex = ID_LOOKUP_REGEX
    serializer_class = io.ProxyServiceOutput
    filterset_class = ProxyServiceFilter

    def get_queryset(self) -> QuerySet[ProxyService]:
        return selectors.proxy_service_list(user=self.request.user)

    def _out(self, service: ProxyService) -> Response:
        service = selectors.proxy_service_get_for_user(user=self.request.user,
                                                       service_id=service.pk)
        return Response(io.ProxyServiceOutput(service, context={"request": self.request}).data)

    @extend_schema(request=io.ProxyServiceCreateInput, responses={201: io.ProxyServiceOutput})
    def create(self, request: Request) -> Response:
        data = validated(io.ProxyServiceCreateInput, request.data)
        service = proxy.proxy_service_request(resident=_me_resident(request), **data)
        response = self._out(service)
        response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(request=io.ProxyAssignInput, responses=io.ProxyServiceOutput)
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str) -> Response:
        service = self.get_object()
        data = validated(io.ProxyAssignInput, request.data)
        assignee = get_object_or_404(Volunteer, pk=data["assignee"],
                                     compound_id=service.compound_id)
        return self._out(proxy.proxy_service_assign(service=service, assignee=assignee,
                                                    actor=_user(request)))

    @extend_schema(request=io.VolunteerNoteInput, responses=io.ProxyServiceOutput)
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str) -> Response:
        data = validated(io.VolunteerNoteInput, request.data)
        return self._out(proxy.proxy_service_complete(service=self.get_object(),
                                                      user=_user(request), note=data["note"]))

    @extend_schema(request=None, responses=io.ProxyServiceOutput)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str) -> Response:
        return self._out(proxy.proxy_service_confirm(service=self.get_object(),
                                                     user=_user(request)))

    @extend_schema(request=io.VolunteerReasonInput, responses=io.ProxyServiceOutput)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        data = validated(io.VolunteerReasonInput, request.data)
        return self._out(proxy.proxy_service_cancel(service=self.get_object(),
                                                    user=_user(request),
                                                    reason=data["reason"]))


class CareFileViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      viewsets.GenericViewSet[CareFile]):
    """Care files: masked in the list; every detail view is written to the access log."""
    lookup_value_regex = ID_LOOKUP_REGEX

    filterset_class = CareFileFilter

    def get_queryset(self) -> QuerySet[CareFile]:
        return selectors.care_file_list(user=self.request.user)

    def get_serializer_class(self) -> type[io.CareFileListOutput]:
        return io.CareFileListOutput if self.action == "list" else io.CareFileDetailOutput

    def retrieve(self, request: Request, pk: str) -> Response:
        care_file = selectors.care_file_get_for_user(user=request.user, care_file_id=int(pk))
        care.care_file_log_access(care_file=care_file, user=_user(request),
                                  channel=CareFileAccessLog.Channel.API)
        return Response(io.CareFileDetailOutput(care_file).data)

    @extend_schema(request=io.CareVisitInput, responses={201: io.CareVisitOutput})
    @action(detail=True, methods=["post"])
    def visits(self, request: Request, pk: str) -> Response:
        care_file = selectors.care_file_get_for_user(user=request.user, care_file_id=int(pk))
        data = validated(io.CareVisitInput, request.data)
        visit = care.care_visit_log(care_file=care_file, user=_user(request), **data)
        return Response(io.CareVisitOutput(visit).data, status=status.HTTP_201_CREATED)


class DashboardViewSet(viewsets.ViewSet):
    @extend_schema(responses=io.VolunteerCountsOutput)
    def list(self, request: Request) -> Response:
        return Response(selectors.dashboard_counts(user=request.user))
