"""REST API under /api/v1/petitions/: list and detail via the selectors, one POST per transition.

Every action parses its input serializer, calls one service from petitions.services and renders
the petition. Permission checks live in the services and selectors (404 for outsiders, 403 for
what a viewer may not do, 409 for an illegal move); this module only maps ids to rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from accounts.api.throttles import ApiKeyRateThrottle, SessionUserRateThrottle
from accounts.models import User
from core.api.pagination import DefaultCursorPagination
from core.api.reveal import RevealOutputSerializer, reveal_response
from core.api.views import ID_LOOKUP_REGEX, validated
from core.exceptions import ApplicationError
from core.queries import values_by_ids
from core.referral import referrer
from petitions import acceptance, dispatch_queue, duplicates, extensions, rules, selectors, services
from petitions.api import serializers as io
from petitions.filters import PetitionFilter
from petitions.models import Category, Petition, PetitionEvent
from residents.models import Household
from territory.models import Area, Building

EXTERNAL_CHANNEL_DEFAULT = Petition.Channel.API
STAFF_CHANNEL_DEFAULT = Petition.Channel.WALK_IN

REFUSED = OpenApiResponse(description="输入有误或违反业务规则（中文 message）")
FORBIDDEN = OpenApiResponse(description="可以查看，但无权进行此操作")
NOT_FOUND = OpenApiResponse(description="诉求不存在或不在您的可见范围内")
CONFLICT = OpenApiResponse(description="当前状态不允许此操作（中文 message）")
TRANSITION_RESPONSES = {
    200: io.PetitionDetailOutput,
    400: REFUSED,
    403: FORBIDDEN,
    404: NOT_FOUND,
    409: CONFLICT,
}


class PetitionCursorPagination(DefaultCursorPagination):
    """Newest first by submission time (then id), as the workbench's 全部 lists them: the
    submitted_at index serves the date filters too. By id alone, a page of rows older than a
    date walked the primary key back through every newer row (758,000 of 1,000,000 for one a
    year and a half back: 248 ms); submitted_at is stamped once, at submission, in id order."""

    ordering = ("-submitted_at", "-id")  # type: ignore[assignment]  # DRF takes a tuple; the base says "-id"


def _filter_parameters() -> list[OpenApiParameter]:
    """The PetitionFilter's query parameters (the selector applies it, not a filter backend)."""
    parameters = []
    for name, field in PetitionFilter.base_filters.items():
        is_many = field.__class__.__name__.startswith("Multiple")
        is_int = name in ("category", "area", "building")
        kind = OpenApiTypes.INT if is_int else OpenApiTypes.STR
        if name in ("overdue", "supervised"):
            kind = OpenApiTypes.BOOL
        elif "after" in name or "before" in name:
            kind = OpenApiTypes.DATETIME
        elif name.endswith("_until"):
            kind = OpenApiTypes.DATE
        choices = field.extra.get("choices")
        parameters.append(
            OpenApiParameter(
                name,
                kind,
                many=is_many,
                description=str(field.label or name),
                enum=[value for value, _label in choices] if choices else None,
            )
        )
    return parameters


def _row_or_refuse(queryset: QuerySet[Any], pk: int | None, message: str) -> Any:
    if pk is None:
        return None
    row = queryset.filter(pk=pk).first()
    if row is None:
        raise ApplicationError(message)
    return row


def _actor(request: Request) -> User:
    """The caller, typed: IsAuthenticated (the default permission) lets only accounts in."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated
    return user


class PetitionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[Petition]):
    """诉求：列表、详情、提交，以及每一步办理动作（各自一个 POST）。"""

    serializer_class = io.PetitionListOutput
    pagination_class = PetitionCursorPagination
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    throttle_classes = [ApiKeyRateThrottle, SessionUserRateThrottle]
    filter_backends: list[Any] = []  # PetitionFilter is applied inside the selector
    queryset = Petition.objects.none()  # for the schema; rows come from the selectors
    lookup_value_regex = ID_LOOKUP_REGEX

    def get_queryset(self) -> QuerySet[Petition]:
        return selectors.petition_list(user=self.request.user, filters=self.request.query_params)

    def _detail(self, petition: Petition, *, code: int = status.HTTP_200_OK) -> Response:
        user = self.request.user
        context = {
            "now": timezone.now(),
            "timeline": selectors.petition_timeline(user=user, petition=petition),
            "contact_phone": selectors.petition_contact_phone_for(user=user, petition=petition),
        }
        return Response(io.PetitionDetailOutput(petition, context=context).data, status=code)

    def _transition(
        self,
        request: Request,
        pk: str,
        service: Callable[..., Petition],
        serializer_class: type[Serializer[dict[str, Any]]] | None = None,
        **extra: Any,
    ) -> Response:
        data = validated(serializer_class, request.data) if serializer_class else {}
        petition = service(petition_id=self._petition_id(pk), actor=_actor(request), **data,
                           **extra)
        return self._detail(petition)

    @staticmethod
    def _petition_id(pk: str) -> int:
        return int(pk)  # lookup_value_regex lets only short digit strings through

    @extend_schema(
        summary="诉求列表（游标分页）",
        parameters=_filter_parameters(),
        responses={200: io.PetitionListOutput(many=True), 400: REFUSED},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # The page's ids (and the cursor's column) from the petitions table alone, then its rows
        # through a statement compiled once per thread (core.queries.values_by_ids): compiling
        # the joins and 24 columns for every page cost more than running them. Dicts, not
        # instances: the cursor reads a dict's "submitted_at" as it reads an attribute.
        page = self.paginate_queryset(self.get_queryset().values("id", "submitted_at")) or []
        rows = values_by_ids(Petition, io.LIST_VALUES, [row["id"] for row in page])
        return self.get_paginated_response(io.petition_list_rows(rows, now=timezone.now()))

    @extend_schema(
        summary="诉求详情（含办理时间线）", responses={200: io.PetitionDetailOutput, 404: NOT_FOUND}
    )
    def retrieve(self, request: Request, pk: str) -> Response:
        petition = selectors.petition_get_for_user(user=request.user, petition_id=pk)
        return self._detail(petition)

    @extend_schema(summary="显示完整联系电话（承办人和管辖范围内的工作人员，记入审计日志）",
                   request=None, responses={200: RevealOutputSerializer, 404: NOT_FOUND})
    @action(detail=True, methods=["post"], url_path="reveal-contact")
    def reveal_contact(self, request: Request, pk: str) -> Response:
        petition = selectors.petition_get_for_user(user=request.user, petition_id=pk)
        if not rules.may_reveal_contact(request.user, petition):
            raise Http404
        return reveal_response(request=request, obj=petition, field="contact_phone",
                               value=petition.contact_phone)

    @extend_schema(
        summary="提交诉求",
        description=(
            "居民、登记来访/来电的工作人员或外部系统提交。外部系统带 external_ref 重试时，"
            "返回首次创建的诉求（200，同一编号）而不会重复创建。"
        ),
        request={
            "application/json": io.PetitionSubmitInput,
            "multipart/form-data": io.PetitionSubmitInput,
        },
        responses={
            201: io.PetitionDetailOutput,
            200: io.PetitionDetailOutput,
            400: REFUSED,
            403: FORBIDDEN,
        },
    )
    def create(self, request: Request) -> Response:
        data = validated(io.PetitionSubmitInput, request.data)
        user = _actor(request)
        data["category"] = _row_or_refuse(
            Category.objects.all(), data["category"], _("分类不存在。")
        )
        data["household"] = _row_or_refuse(
            Household.objects.select_related("building"), data.get("household"), _("住户不存在。")
        )
        data["building"] = _row_or_refuse(
            Building.objects.select_related("micro_grid"), data.get("building"), _("楼栋不存在。")
        )
        data["area"] = _row_or_refuse(Area.objects.all(), data.get("area"), _("区域不存在。"))
        _check_answers(data["category"], data["answers"])
        data["channel"] = data.get("channel") or _default_channel(user)
        data["external_ref"] = data.get("external_ref") or None
        petition = services.petition_submit(actor=user, **data)
        # A retry with a known external_ref gets the first petition back: 200, not 201. The
        # service says which; a clock comparison would call a retry that races its original new.
        code = status.HTTP_201_CREATED if petition.was_created else status.HTTP_200_OK
        return self._detail(petition, code=code)

    @extend_schema(
        summary="分级（小事/大事/难事）",
        request=io.PetitionTriageInput,
        responses=TRANSITION_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def triage(self, request: Request, pk: str) -> Response:
        return self._transition(request, pk, services.petition_triage, io.PetitionTriageInput)

    @extend_schema(summary="派单", request=io.PetitionDispatchInput, responses=TRANSITION_RESPONSES)
    @action(detail=True, methods=["post"], url_path="dispatch")
    def dispatch_to_holder(self, request: Request, pk: str) -> Response:
        data = validated(io.PetitionDispatchInput, request.data)
        holder = _row_or_refuse(
            User.objects.filter(is_active=True), data["holder"], _("承办人不存在。")
        )
        petition = services.petition_dispatch(
            petition_id=self._petition_id(pk), actor=_actor(request), holder=holder,
            note=data["note"],
        )
        return self._detail(petition)

    @extend_schema(summary="签收（承办人确认接单）", request=None, responses=TRANSITION_RESPONSES)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str) -> Response:
        return self._transition(request, pk, acceptance.petition_accept)

    @extend_schema(summary="到场签到", request=None, responses=TRANSITION_RESPONSES)
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request: Request, pk: str) -> Response:
        return self._transition(request, pk, services.petition_check_in)

    @extend_schema(
        summary="添加办理记录（可带照片）",
        request={
            "application/json": io.PetitionNoteInput,
            "multipart/form-data": io.PetitionNoteInput,
        },
        responses={201: io.PetitionEventOutput, 400: REFUSED, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def notes(self, request: Request, pk: str) -> Response:
        data = validated(io.PetitionNoteInput, request.data)
        event = services.petition_add_note(
            petition_id=self._petition_id(pk), actor=_actor(request), **data
        )
        event = (
            PetitionEvent.objects.select_related("actor", "petition")
            .prefetch_related("photos")
            .get(pk=event.pk)
        )
        return Response(io.PetitionEventOutput(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="办结（可带照片）",
        request={
            "application/json": io.PetitionResolveInput,
            "multipart/form-data": io.PetitionResolveInput,
        },
        responses=TRANSITION_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str) -> Response:
        return self._transition(request, pk, services.petition_resolve, io.PetitionResolveInput)

    @extend_schema(
        summary="核实办理结果", request=io.PetitionVerifyInput, responses=TRANSITION_RESPONSES
    )
    @action(detail=True, methods=["post"])
    def verify(self, request: Request, pk: str) -> Response:
        return self._transition(request, pk, services.petition_verify, io.PetitionVerifyInput)

    @extend_schema(
        summary="评价（满意/基本满意/不满意）",
        request=io.PetitionRateInput,
        responses=TRANSITION_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def rate(self, request: Request, pk: str) -> Response:
        return self._transition(request, pk, services.petition_rate, io.PetitionRateInput)

    @extend_schema(
        summary="重办（仅一次）", request=io.PetitionReasonInput, responses=TRANSITION_RESPONSES
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str) -> Response:
        return self._transition(request, pk, services.petition_reopen, io.PetitionReasonInput)

    @extend_schema(
        summary="退回（派错了）", request=io.PetitionReasonInput, responses=TRANSITION_RESPONSES
    )
    @action(detail=True, methods=["post"], url_path="return")
    def return_to_dispatcher(self, request: Request, pk: str) -> Response:
        return self._transition(request, pk, services.petition_return, io.PetitionReasonInput)

    @extend_schema(
        summary="改派（退回后）", request=io.PetitionRerouteInput, responses=TRANSITION_RESPONSES
    )
    @action(detail=True, methods=["post"])
    def reroute(self, request: Request, pk: str) -> Response:
        data = validated(io.PetitionRerouteInput, request.data)
        building = _row_or_refuse(
            Building.objects.select_related("micro_grid"), data.get("building"), _("楼栋不存在。")
        )
        area = _row_or_refuse(Area.objects.all(), data.get("area"), _("区域不存在。"))
        holder = _row_or_refuse(
            User.objects.filter(is_active=True), data.get("holder"), _("承办人不存在。")
        )
        petition = services.petition_reroute(
            petition_id=self._petition_id(pk),
            actor=_actor(request),
            building=building,
            area=area,
            holder=holder,
            note=data["note"],
        )
        return self._detail(petition)

    @extend_schema(
        summary="定位（待分派 → 楼栋或微网格，并派给该层级的承办人）",
        request=io.PetitionPlaceInput,
        responses=TRANSITION_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def place(self, request: Request, pk: str) -> Response:
        data = validated(io.PetitionPlaceInput, request.data)
        petition = dispatch_queue.petition_place(
            petition_id=self._petition_id(pk),
            actor=_actor(request),
            building_id=data.get("building"),
            area_id=data.get("area"),
            note=data["note"],
        )
        return self._detail(petition)

    @extend_schema(
        summary="不予受理", request=io.PetitionReasonInput, responses=TRANSITION_RESPONSES
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        return self._transition(request, pk, services.petition_reject, io.PetitionReasonInput)

    @extend_schema(
        summary="升级到上一层级", request=io.PetitionReasonInput, responses=TRANSITION_RESPONSES
    )
    @action(detail=True, methods=["post"])
    def escalate(self, request: Request, pk: str) -> Response:
        return self._transition(
            request, pk, services.petition_escalate_by_hand, io.PetitionReasonInput
        )

    @extend_schema(
        summary="转议事", request=io.PetitionReferInput, responses=TRANSITION_RESPONSES
    )
    @action(detail=True, methods=["post"])
    def refer(self, request: Request, pk: str) -> Response:
        # Through deliberation's service (core.referral's referrer): the topic and the
        # petition's move are one transaction, so a referral always lands on the agenda.
        data = validated(io.PetitionReferInput, request.data)
        petition_id = self._petition_id(pk)
        referrer()(petition_id=petition_id, actor=_actor(request), **data)
        return self._detail(selectors.petition_get_for_user(user=request.user,
                                                            petition_id=petition_id))

    @extend_schema(
        summary="疑似重复的诉求（同一地点、同类、时间窗口内，按内容相似度排序；工作人员）",
        responses=io.PetitionDuplicatesOutput,
    )
    @action(detail=True, methods=["get"])
    def duplicates(self, request: Request, pk: str) -> Response:
        petition = selectors.petition_get_for_user(user=request.user,
                                                   petition_id=self._petition_id(pk))
        if not rules.is_staff(request.user):
            raise Http404(_("诉求不存在。"))
        found = duplicates.petition_likely_duplicates_for_user(user=request.user,
                                                               petition=petition)
        return Response(io.PetitionDuplicatesOutput({"duplicates": found}).data)

    @extend_schema(
        summary="合并重复诉求：本诉求并入 into（管辖两件诉求的社区工作人员或街道管理员）",
        request=io.PetitionMergeInput, responses=TRANSITION_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, pk: str) -> Response:
        data = validated(io.PetitionMergeInput, request.data)
        petition_id = self._petition_id(pk)
        duplicates.petition_merge(petition_id=petition_id, into_id=data["into"],
                                  actor=_actor(request), note=data["note"])
        return self._detail(selectors.petition_get_for_user(user=request.user,
                                                            petition_id=petition_id))

    @extend_schema(summary="申请延期（承办人，须上一级审批）", request=io.PetitionExtensionInput,
                   responses=TRANSITION_RESPONSES)
    @action(detail=True, methods=["post"])
    def extension(self, request: Request, pk: str) -> Response:
        data = validated(io.PetitionExtensionInput, request.data)
        petition_id = self._petition_id(pk)
        extensions.petition_request_extension(petition_id=petition_id, actor=_actor(request),
                                              days=data["days"], reason=data["reason"])
        return self._detail(selectors.petition_get_for_user(user=request.user,
                                                            petition_id=petition_id))

    @extend_schema(summary="审批延期申请（上一级：批准不超过申请的天数，或驳回并说明理由）",
                   request=io.PetitionExtensionDecisionInput, responses=TRANSITION_RESPONSES)
    @action(detail=True, methods=["post"], url_path="extension-decision")
    def extension_decision(self, request: Request, pk: str) -> Response:
        data = validated(io.PetitionExtensionDecisionInput, request.data)
        petition = selectors.petition_get_for_user(user=request.user,
                                                   petition_id=self._petition_id(pk))
        pending = extensions.extension_pending_for_petition(petition_id=petition.pk)
        if pending is None:
            raise Http404(_("该诉求没有待审批的延期申请。"))
        extensions.petition_decide_extension(
            extension_id=pending.pk, actor=_actor(request), grant=data["grant"],
            days=data.get("days") or pending.days_requested, note=data["note"])
        return self._detail(selectors.petition_get_for_user(user=request.user,
                                                            petition_id=petition.pk))

    @extend_schema(summary="关闭", request=io.PetitionCommentInput, responses=TRANSITION_RESPONSES)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str) -> Response:
        return self._transition(request, pk, services.petition_close, io.PetitionCommentInput)


def _check_answers(category: Category, answers: dict[str, Any]) -> None:
    """The category's required extra questions must be answered (as on the HTML form). The API
    names the first unanswered one only, where the service names them all: its 400 body stays."""
    unanswered = services.unanswered_questions(category, answers)
    if unanswered:
        raise ApplicationError(_("请回答：%(label)s") % {"label": unanswered[0]["label"]})


class PetitionCategoryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[Category]):
    """诉求分类（提交时用其编号；extra_questions 为补充问题）。"""

    serializer_class = io.PetitionCategoryOutput
    pagination_class = None
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Category]:
        return Category.objects.filter(is_active=True).order_by("sort_order", "id")

    @extend_schema(summary="诉求分类列表")
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)


def _default_channel(user: User) -> str:
    if user.role == User.Role.EXTERNAL_SYSTEM:
        return EXTERNAL_CHANNEL_DEFAULT
    if user.is_staff_role or user.is_superuser:
        return STAFF_CHANNEL_DEFAULT
    return Petition.Channel.MOBILE_WEB
