"""The street admins' tool. Every change of state goes through petitions.services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts.models import User
from core.admin import GenericModelAdmin, GenericTabularInline, ReadOnlyAdminMixin
from core.admin_scope import ScopedChoicesMixin, choice_scope_register, everywhere
from core.admin_widgets import ADMIN_DURATION_OVERRIDES, duration_text
from core.exceptions import ApplicationError
from core.masking import mask_phone
from core.protected_lookups import ProtectedSearchAdminMixin
from core.workdays import WorkCalendar
from petitions import rules, selectors, services
from petitions.cards import cards_rearm_for_rule
from petitions.models import (
    AssessmentExclusion,
    BuildingPlaque,
    CardRule,
    Category,
    CoHandlingRequest,
    Petition,
    PetitionCard,
    PetitionEvent,
    PetitionExtension,
    PetitionPhoto,
    PetitionState,
    RecurrenceSuggestion,
    SlaPolicy,
    WebhookDelivery,
)
from petitions.rules import Viewer
from petitions.webhooks import webhook_delivery_attempt


def _admin_user(request: HttpRequest) -> User:
    """The signed-in staff member: the admin site lets no one else run an action."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def _of_visible_petition(user: Viewer) -> Q:
    condition = rules.visibility_q(user)
    if not condition:
        return condition
    return Q(petition__in=Petition.objects.filter(condition).values("pk"))


# The rows of each model a staff member may pick in the admin (core.admin_scope).
choice_scope_register(Petition, rule=rules.visibility_q)
choice_scope_register(PetitionEvent, rule=_of_visible_petition)
choice_scope_register(PetitionPhoto, rule=_of_visible_petition)
choice_scope_register(WebhookDelivery, rule=_of_visible_petition)
choice_scope_register(AssessmentExclusion, rule=_of_visible_petition)
choice_scope_register(CoHandlingRequest, rule=_of_visible_petition)
choice_scope_register(Category, rule=everywhere)
choice_scope_register(CardRule, rule=everywhere)
choice_scope_register(PetitionCard, rule=_of_visible_petition)
choice_scope_register(PetitionExtension, rule=_of_visible_petition)
choice_scope_register(SlaPolicy, rule=everywhere)
choice_scope_register(BuildingPlaque, "building__micro_grid__path")
choice_scope_register(RecurrenceSuggestion, "area_path")


class PetitionEventInline(GenericTabularInline[PetitionEvent, Petition]):
    model = PetitionEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "actor_label", "from_state", "to_state", "from_tier",
              "to_tier", "note", "is_internal")
    readonly_fields = fields
    ordering = ("created_at", "id")
    verbose_name_plural = _lazy("办理时间线")

    @admin.display(description=_lazy("操作人"))
    def actor_label(self, obj: PetitionEvent) -> str:
        return _event_actor(obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[PetitionEvent]:
        return super().get_queryset(request).select_related("actor", "petition")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PetitionPhotoInline(GenericTabularInline[PetitionPhoto, Petition]):
    model = PetitionPhoto
    extra = 0
    can_delete = False
    fields = ("image", "event", "uploaded_by", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _event_actor(event: PetitionEvent) -> str:
    """As on the pages: an anonymous petition's submitter is 匿名, never the account."""
    return selectors.petition_event_actor_label(event=event, petition=event.petition) or "-"


def _run_for_each(request: HttpRequest, queryset: QuerySet[Petition],
                  call: Callable[[Petition], Any], done: str) -> None:
    succeeded, failures = 0, []
    for petition in queryset:
        try:
            call(petition)
        except (ApplicationError, ValidationError, Http404) as error:
            failures.append(f"#{petition.pk}: {getattr(error, 'message', error)}")
        else:
            succeeded += 1
    if succeeded:
        messages.success(request, _("%(count)s 件诉求%(done)s。") % {"count": succeeded,
                                                                     "done": done})
    for failure in failures[:10]:
        messages.error(request, failure)


class DispatchQueueFilter(admin.SimpleListFilter):
    """待分派: accepted and held by nobody (unplaced, or no worker in its area)."""

    title = _lazy("待分派")
    parameter_name = "dispatch_queue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _lazy("待分派")), ("no", _lazy("已有承办人或已结束"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Petition]) -> QuerySet[Petition]:
        waiting = Q(state=PetitionState.SUBMITTED, holder__isnull=True)
        if self.value() == "yes":
            return queryset.filter(waiting)
        if self.value() == "no":
            return queryset.exclude(waiting)
        return queryset


@admin.register(Petition)
class PetitionAdmin(ProtectedSearchAdminMixin, ScopedChoicesMixin, GenericModelAdmin[Petition]):
    list_display = ("id", "short_description", "category", "state", "tier", "size", "holder",
                    "masked_phone", "due_at", "supervised", "channel", "placement",
                    "placement_reason", "submitted_at")
    list_filter = (DispatchQueueFilter, "state", "tier", "size", "category", "supervised",
                   "channel", "placement", "arrival_missed", "rating", "deadline_estimated")
    search_fields = ("=id", "description", "external_ref")
    protected_search_fields = {"contact_phone": "contact_phone"}
    protected_search_path = "area_path"
    list_select_related = ("category", "holder")
    date_hierarchy = "submitted_at"
    ordering = ("-submitted_at",)
    inlines = (PetitionEventInline, PetitionPhotoInline)
    actions = ("escalate_by_hand", "reject", "close", "recount_deadlines")
    # The workflow fields change only through services (the actions), never by editing.
    readonly_fields = (
        "state", "tier", "holder", "area", "area_path", "origin_path", "submitter_label",
        "recorded_by", "external_system", "external_ref", "submitted_at", "clock_started_at",
        "dispatched_at", "arrival_due_at", "arrived_at", "arrival_missed", "microgrid_due_at",
        "grid_due_at", "street_due_at", "due_at", "resolved_at", "resolved_on_time",
        "resolved_tier", "verified_at", "closed_at", "supervised", "supervised_at",
        "reopened_count", "rating", "rating_comment", "rated_at", "callback_by", "callback_method",
        "rejection_reason",
        "deliberation_topic_id", "referred_at", "channel", "household", "building", "size",
        "deadline_estimated", "placement", "placed_at", "placement_reason", "no_visit_reason",
        "no_visit_note", "accept_due_at", "accepted_at", "accept_overdue_at", "last_progress_at",
    )
    fields = ("description", "category", "answers", "location_text", "unit_number", "room",
              "latitude", "longitude", "is_public", "contact_name", "resolution",
              *readonly_fields)

    @admin.display(description=_lazy("诉求内容"))
    def short_description(self, obj: Petition) -> str:
        return obj.description[:30]

    @admin.display(description=_lazy("联系电话"))
    def masked_phone(self, obj: Petition) -> str:
        return mask_phone(obj.contact_phone)

    @admin.display(description=_lazy("提交人"))
    def submitter_label(self, obj: Petition) -> str:
        if obj.submitter_id is None:
            return "-"
        return (obj.contact_name if not obj.is_anonymous else "") or _("匿名")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Petition]:
        return super().get_queryset(request).filter(rules.visibility_q(request.user))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # petitions are accepted through petition_submit (pages, API)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_lazy("手动升级一级"))
    def escalate_by_hand(self, request: HttpRequest, queryset: QuerySet[Petition]) -> None:
        actor = _admin_user(request)
        _run_for_each(request, queryset, lambda petition: services.petition_escalate_by_hand(
            petition_id=petition.pk, actor=actor, reason=_("管理后台手动升级")),
            _("已升级"))

    @admin.action(description=_lazy("不予受理（重复或不属受理范围）"))
    def reject(self, request: HttpRequest, queryset: QuerySet[Petition]) -> None:
        actor = _admin_user(request)
        _run_for_each(request, queryset, lambda petition: services.petition_reject(
            petition_id=petition.pk, actor=actor,
            reason=_("经核查，该诉求重复或不属于受理范围。")), _("已不予受理"))

    @admin.action(description=_lazy("按节假日表重新计算估算的时限"))
    def recount_deadlines(self, request: HttpRequest, queryset: QuerySet[Petition]) -> None:
        actor = _admin_user(request)
        workdays = WorkCalendar()  # one read of the holiday table for the whole selection
        _run_for_each(request, queryset, lambda petition: services.petition_deadlines_recount(
            petition_id=petition.pk, actor=actor, workdays=workdays), _("已重新计算时限"))

    @admin.action(description=_lazy("关闭（已核实或已评价）"))
    def close(self, request: HttpRequest, queryset: QuerySet[Petition]) -> None:
        actor = _admin_user(request)
        _run_for_each(request, queryset, lambda petition: services.petition_close(
            petition_id=petition.pk, actor=actor, note=_("管理后台关闭")), _("已关闭"))


@admin.register(AssessmentExclusion)
class AssessmentExclusionAdmin(ReadOnlyAdminMixin, ScopedChoicesMixin,
                               GenericModelAdmin[AssessmentExclusion]):
    """申诉剔除, read only: requests and decisions go through petitions/assessment.py (the
    petition's staff page and the street admins' queue), which audits each step."""

    list_display = ("petition", "reason", "status", "requested_by", "requested_at",
                    "decided_by", "decided_at")
    list_filter = ("status", "reason")
    search_fields = ("=petition__id",)
    list_select_related = ("petition", "requested_by", "decided_by")
    date_hierarchy = "requested_at"
    fields = ("petition", "reason", "note", "status", "requested_by", "requested_at",
              "decided_by", "decided_at", "decision_note")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[AssessmentExclusion]:
        visible = Petition.objects.filter(rules.visibility_q(request.user)).values("pk")
        return super().get_queryset(request).filter(petition_id__in=visible)


@admin.register(RecurrenceSuggestion)
class RecurrenceSuggestionAdmin(ReadOnlyAdminMixin, ScopedChoicesMixin,
                                GenericModelAdmin[RecurrenceSuggestion]):
    """未诉先办, read only: the beat task raises suggestions and staff accept or dismiss them in
    the queue (petitions/recurrence.py, which audits each decision); here street clerks look
    back over them by status, category and building."""

    list_display = ("__str__", "building", "category", "petition_count", "status", "outcome",
                    "raised_at", "decided_by", "decided_at")
    list_filter = ("status", "outcome", "category")
    search_fields = ("=id", "=petitions__id")
    list_select_related = ("building__compound", "category", "decided_by")
    date_hierarchy = "raised_at"
    fields = ("building", "category", "petition_count", "window_days", "first_submitted_at",
              "last_submitted_at", "linked_petitions", "status", "raised_at", "outcome",
              "topic_id", "need_id", "decided_by", "decided_at", "decision_note")
    readonly_fields = fields

    @admin.display(description=_lazy("相关诉求"))
    def linked_petitions(self, obj: RecurrenceSuggestion) -> str:
        return format_html_join(" ", '<a href="{}">#{}</a>', (
            (reverse("petitions:staff-detail", args=[pk]), pk)
            for pk in obj.petitions.order_by("id").values_list("id", flat=True)))

    def get_queryset(self, request: HttpRequest) -> QuerySet[RecurrenceSuggestion]:
        return super().get_queryset(request).filter(rules.recurrence_q(request.user))


@admin.register(PetitionEvent)
class PetitionEventAdmin(ReadOnlyAdminMixin, ScopedChoicesMixin, GenericModelAdmin[PetitionEvent]):
    list_display = ("created_at", "petition", "kind", "actor_label", "from_state", "to_state",
                    "from_tier", "to_tier")
    list_filter = ("kind", "to_tier", "is_internal")
    search_fields = ("=petition__id", "note")
    list_select_related = ("petition", "actor")
    date_hierarchy = "created_at"

    @admin.display(description=_lazy("操作人"))
    def actor_label(self, obj: PetitionEvent) -> str:
        return _event_actor(obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[PetitionEvent]:
        # The events (notes included) of the petitions the user may see, as PetitionAdmin.
        visible = Petition.objects.filter(rules.visibility_q(request.user)).values("pk")
        return super().get_queryset(request).filter(petition_id__in=visible)


@admin.register(Category)
class CategoryAdmin(ScopedChoicesMixin, GenericModelAdmin[Category]):
    list_display = ("name", "parent", "sort_order", "is_active", "requires_result_photo")
    list_filter = ("is_active", "parent")
    list_editable = ("sort_order", "is_active")
    search_fields = ("name",)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ScopedChoicesMixin, GenericModelAdmin[SlaPolicy]):
    list_display = ("__str__", "arrival_text", "microgrid_text", "grid_text", "street_text",
                    "rating_window_text", "reminder_share", "calendar", "updated_at")
    formfield_overrides = ADMIN_DURATION_OVERRIDES

    @admin.display(description=SlaPolicy._meta.get_field("arrival").verbose_name)
    def arrival_text(self, policy: SlaPolicy) -> str:
        return duration_text(policy.arrival)

    @admin.display(description=SlaPolicy._meta.get_field("microgrid").verbose_name)
    def microgrid_text(self, policy: SlaPolicy) -> str:
        return duration_text(policy.microgrid)

    @admin.display(description=SlaPolicy._meta.get_field("grid").verbose_name)
    def grid_text(self, policy: SlaPolicy) -> str:
        return duration_text(policy.grid)

    @admin.display(description=SlaPolicy._meta.get_field("street").verbose_name)
    def street_text(self, policy: SlaPolicy) -> str:
        return duration_text(policy.street)

    @admin.display(description=SlaPolicy._meta.get_field("rating_window").verbose_name)
    def rating_window_text(self, policy: SlaPolicy) -> str:
        return duration_text(policy.rating_window)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not SlaPolicy.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ScopedChoicesMixin, GenericModelAdmin[WebhookDelivery]):
    list_display = ("id", "external_system", "petition", "url", "attempts", "last_status",
                    "next_attempt_at", "delivered_at", "given_up_at")
    list_filter = ("external_system", "last_status")
    search_fields = ("=petition__id", "url")
    readonly_fields = ("external_system", "petition", "event", "url", "payload", "signature",
                       "created_at", "attempts", "delivered_at", "given_up_at", "last_status",
                       "last_error")
    list_select_related = ("external_system", "petition")
    actions = ("retry_now",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_lazy("立即重试"))
    def retry_now(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        delivered = sum(webhook_delivery_attempt(delivery_id=delivery.pk)
                        for delivery in queryset.filter(delivered_at__isnull=True))
        messages.info(request, _("已重试，成功送达 %(count)s 条。") % {"count": delivered})


@admin.register(BuildingPlaque)
class BuildingPlaqueAdmin(ScopedChoicesMixin, GenericModelAdmin[BuildingPlaque]):
    """Plaques are made by printing them (the staff sheet); deleting one retires it (a stolen or
    photographed plaque), and the next print makes a new code."""

    list_display = ("building", "created_at", "print_link")
    list_select_related = ("building__compound",)
    search_fields = ("building__compound__name", "building__number")
    fields = ("building", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_lazy("打印"))
    def print_link(self, plaque: BuildingPlaque) -> str:
        url = reverse("petitions:staff-plaque-sheet", args=[plaque.building_id])
        return format_html('<a href="{}">{}</a>', url, _("打印楼栋码"))


@admin.register(CoHandlingRequest)
class CoHandlingRequestAdmin(ReadOnlyAdminMixin, ScopedChoicesMixin,
                             GenericModelAdmin[CoHandlingRequest]):
    """协办, read only: requests are made on a petition's staff page and answered through the
    body's link (petitions/cohandling.py, which audits each step). Here street clerks compare
    the bodies' response times; the token's hash is never shown."""

    list_display = ("__str__", "petition", "body", "created_at", "due_at", "answered_at",
                    "response_time", "is_on_time", "open_count", "refused_count")
    list_filter = ("body__kind", "body")
    search_fields = ("=petition__id", "body__name")
    list_select_related = ("petition", "body")
    date_hierarchy = "created_at"
    fields = ("petition", "body", "task", "due_at", "created_by", "created_at", "sent_at",
              "expires_at", "opened_at", "open_count", "refused_count", "used_at",
              "answered_at", "answer_note", "response_time")
    readonly_fields = fields

    @admin.display(description=_lazy("响应用时"))
    def response_time(self, obj: CoHandlingRequest) -> str:
        if obj.answered_at is None:
            return "—"
        return duration_text(obj.answered_at - obj.created_at)

    @admin.display(description=_lazy("按期答复"), boolean=True)
    def is_on_time(self, obj: CoHandlingRequest) -> bool | None:
        return None if obj.answered_at is None else obj.answered_at <= obj.due_at

    def get_queryset(self, request: HttpRequest) -> QuerySet[CoHandlingRequest]:
        visible = Petition.objects.filter(rules.visibility_q(request.user)).values("pk")
        return super().get_queryset(request).filter(petition_id__in=visible)


# --- 黄牌/红牌 and 延期 (petitions/cards.py, petitions/extensions.py) ----------------------------


@admin.register(CardRule)
class CardRuleAdmin(ScopedChoicesMixin, GenericModelAdmin[CardRule]):
    """The yellow and red limits per step × tier × category (a rule without a category is the
    tier's default), validated by CardRule.clean; the card sweep reads them on each run."""

    list_display = ("step", "tier", "category", "yellow_before", "yellow_unit", "red_after",
                    "red_unit", "is_active")
    list_filter = ("step", "tier", "is_active", "category")
    list_editable = ("is_active",)
    list_select_related = ("category",)

    # The open petitions the rule may apply to are looked at again by the next card sweeps.
    def save_model(self, request: HttpRequest, obj: CardRule, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        cards_rearm_for_rule(obj, now=timezone.now())

    def delete_model(self, request: HttpRequest, obj: CardRule) -> None:
        cards_rearm_for_rule(obj, now=timezone.now())
        super().delete_model(request, obj)


class _VisiblePetitionsMixin:
    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        visible = Petition.objects.filter(rules.visibility_q(request.user)).values("pk")
        queryset: QuerySet[Any] = super().get_queryset(request)  # type: ignore[misc]
        return queryset.filter(petition_id__in=visible)


@admin.register(PetitionCard)
class PetitionCardAdmin(_VisiblePetitionsMixin, ReadOnlyAdminMixin, ScopedChoicesMixin,
                        GenericModelAdmin[PetitionCard]):
    """The cards issued, read only: the card sweep writes them."""

    list_display = ("issued_at", "petition", "color", "step", "tier", "deadline", "holder",
                    "is_estimated")
    list_filter = ("color", "step", "tier", "is_estimated")
    search_fields = ("=petition__id",)
    list_select_related = ("petition", "holder")
    date_hierarchy = "issued_at"
    fields = ("petition", "color", "step", "tier", "deadline", "holder", "area_path",
              "is_estimated", "issued_at")
    readonly_fields = fields


@admin.register(PetitionExtension)
class PetitionExtensionAdmin(_VisiblePetitionsMixin, ReadOnlyAdminMixin, ScopedChoicesMixin,
                             GenericModelAdmin[PetitionExtension]):
    """延期 requests and decisions, read only: they go through petitions/extensions.py (the
    petition's staff page, the queue and the API), which moves the clock."""

    list_display = ("petition", "tier", "days_requested", "status", "days_granted",
                    "requested_by", "requested_at", "decided_by", "decided_at")
    list_filter = ("status", "tier")
    search_fields = ("=petition__id",)
    list_select_related = ("petition", "requested_by", "decided_by")
    date_hierarchy = "requested_at"
    fields = ("petition", "tier", "round", "days_requested", "reason", "status", "days_granted",
              "requested_by", "requested_at", "decided_by", "decided_at", "decision_note",
              "due_before", "due_after", "grid_path")
    readonly_fields = fields
