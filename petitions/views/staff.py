"""The staff dashboard under /petitions/staff/: the stats, a petition's staff page and the
actions it posts (check in, note, resolve, verify, return, escalate, dispatch, reroute, refer,
reject, close, place). The workbench, intake and plaque pages are their own modules.

Every view parses (a form), calls one petitions service, then renders or redirects; petitions are
loaded through `petition_get_for_user` (404 for outsiders and guessed ids). Illegal moves come
back from the service as ApplicationError / InvalidTransition and are shown as a message.

Permission map: the roles allowed per view are rules.STAFF_PAGE_ROLES (a superuser may do
everything); the page shows the actions rules.staff_actions allows; the service still decides
the finer rules (holder, dispatcher, scope).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from django import forms
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import View

from accounts.models import User
from core.actions import ActionView, StaffRequiredMixin
from core.care_referral import care_visit_url
from core.referral import referrer
from core.types import signed_in_user
from petitions import (
    acceptance,
    assessment,
    cohandling,
    dispatch_queue,
    extensions,
    recurrence,
    rules,
    selectors,
    services,
)
from petitions import forms as petition_forms
from petitions.models import AssessmentExclusion, Petition, RecurrenceSuggestion
from petitions.presentation import stats_chart, stats_rows
from petitions.views.base import login_redirect, status_context
from petitions.views.duplicate_context import duplicates_context

STAFF_PAGE_SIZE = 50  # the workbench's tabs (views.workbench)
RECURRENCE_PAGE_SIZE = 20
STATS_PERIODS = {"week": timedelta(weeks=12), "month": timedelta(days=366)}
PLACEMENT_QUALITY_PERIOD = timedelta(days=30)


class StaffView(StaffRequiredMixin, View):
    """Staff only; the roles allowed are rules.STAFF_PAGE_ROLES[<view class name>]."""

    denied_message = _lazy("页面不存在。")

    def allowed_roles(self) -> frozenset[str]:
        return rules.STAFF_PAGE_ROLES[type(self).__name__]

    def handle_no_login(self, request: HttpRequest) -> HttpResponseBase:
        return login_redirect(request, "accounts:login")

    @property
    def actor(self) -> User:
        """The signed-in user the gate let through."""
        return signed_in_user(self.request.user)


class PetitionStatsView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        form = petition_forms.StatsForm(request.GET)
        by: Literal["week", "month"] = form.cleaned_data["by"] if form.is_valid() else "week"
        end = timezone.now() + timedelta(days=1)
        start = end - STATS_PERIODS[by]
        rates = selectors.rates_every_period(
            selectors.petition_rates(user=request.user, start=start, end=end, by=by),
            first=timezone.localdate(start), last=timezone.localdate(), by=by)
        context = {"form": form, "by": by, "rows": stats_rows(rates),
                   "chart": stats_chart(rates, by=by), "active": "stats",
                   "cohandling_responses": cohandling.cohandling_response_times(
                       user=request.user, start=start, end=end)}
        return render(request, "petitions/staff/stats.html", context)


class PetitionStaffDetailView(StaffView):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        petition = selectors.petition_get_for_user(user=request.user, petition_id=pk)
        actions = rules.staff_actions(request.user, petition, timezone.now())
        context = status_context(request, petition) | {
            "actions": actions,
            "contact_name": petition.contact_name or _("匿名"),
            "contact_phone": selectors.petition_contact_phone_for(user=request.user,
                                                                  petition=petition),
            "contact_revealable": rules.may_reveal_contact(request.user, petition),
            "photos": list(petition.photos.all()),
            "forms": self._forms(self.actor, petition, actions),
            "exclusion": assessment.exclusion_for_petition(petition_id=petition.pk),
            "may_request_exclusion": rules.may_request_exclusion(request.user, petition),
            "recurrences": recurrence.recurrence_for_petition(petition_id=petition.pk),
            # 延期 (petitions/extensions.py): the requests, and the holder's form.
            "extensions": extensions.extension_for_petition(petition_id=petition.pk),
            "may_request_extension": rules.may_request_extension(request.user, petition),
            "may_decide_recurrence": rules.may_decide_recurrence(request.user,
                                                                 petition.origin_path),
            # The care visit it came from: a link only for who may read the elder's care file.
            "care_visit_url": (None if petition.care_visit_id is None else care_visit_url(
                user=self.actor, care_visit_id=petition.care_visit_id)),
            "cohandling_rows": cohandling.cohandling_rows_for_petition(petition=petition),
            "may_cohandle": rules.may_cohandle(request.user, petition),
        } | duplicates_context(user=request.user, petition=petition)
        return render(request, "petitions/staff/detail.html", context)

    def _forms(self, user: User, petition: Petition,
               actions: dict[str, bool]) -> dict[str, forms.Form]:
        resolve = petition_forms.ResolveForm(
            has_arrived=petition.arrived_at is not None,
            photo_required=petition.category.requires_result_photo)
        built: dict[str, forms.Form] = {
            "note": petition_forms.NoteForm(), "resolve": resolve,
            "verify": petition_forms.VerifyForm(), "reason": petition_forms.ReasonForm(),
            "note_only": petition_forms.NoteOnlyForm(), "refer": petition_forms.ReferForm(),
            "callback": petition_forms.CallbackForm(),
            "exclusion": petition_forms.ExclusionRequestForm(),
            "extension": petition_forms.ExtensionRequestForm(),
        }
        if actions["dispatch"]:
            built["dispatch"] = petition_forms.DispatchForm(
                holders=selectors.holder_candidate_list(user=user))
        if actions["reroute"]:
            built["reroute"] = petition_forms.RerouteForm(
                buildings=selectors.scope_building_list(user=user),
                holders=selectors.holder_candidate_list(user=user))
        if rules.may_cohandle(user, petition):
            built["cohandling"] = petition_forms.CoHandlingForm(petition=petition)
        if actions["place"]:
            built["place"] = petition_forms.PlaceForm(
                buildings=selectors.scope_building_list(user=user),
                micro_grids=selectors.scope_micro_grid_list(user=user))
        # One reason form per action that asks for one, and ids of each form's own: a label
        # names its own field only when no other form on the page reuses the id (WCAG 1.3.1).
        built.update(back=petition_forms.ReasonForm(), escalate=petition_forms.ReasonForm(),
                     reject=petition_forms.ReasonForm())
        for key, form in built.items():
            if key != "resolve":  # the first form on the page keeps Django's ids
                form.auto_id = f"id_{key}_%s"
        return built


class StaffActionView(StaffView, ActionView):
    """POST only: the petition as the user may see it (404), one service, back to its page."""

    http_method_names = ["post"]

    def load(self, **kwargs: Any) -> Petition:
        return selectors.petition_get_for_user(user=self.request.user, petition_id=kwargs["pk"])

    def redirect_to(self, obj: Petition) -> str:
        return reverse("petitions:staff-detail", args=[obj.pk])


class PetitionAcceptView(StaffActionView):
    success_message = _lazy("已签收。")

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        return acceptance.petition_accept(petition_id=petition.pk, actor=self.actor)


class PetitionCheckInView(StaffActionView):
    success_message = _lazy("已签到，到场时间已记录。")

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        return services.petition_check_in(petition_id=petition.pk, actor=self.actor)


class PetitionNoteCreateView(StaffActionView):
    form_class = petition_forms.NoteForm
    success_message = _lazy("办理记录已添加。")

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        return services.petition_add_note(
            petition_id=petition.pk, actor=self.actor, note=data.get("note", ""),
            photos=data.get("photos") or [],
            is_internal=data.get("visibility") != petition_forms.NoteForm.RESIDENT)


class PetitionResolveView(StaffActionView):
    form_class = petition_forms.ResolveForm
    success_message = _lazy("已办结，等待核实。")

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        return services.petition_resolve(petition_id=petition.pk, actor=self.actor,
                                         resolution=data["resolution"],
                                         photos=data.get("photos") or [],
                                         no_visit_reason=data.get("no_visit_reason") or "",
                                         no_visit_note=data.get("no_visit_note") or "")


class PetitionVerifyView(StaffActionView):
    form_class = petition_forms.VerifyForm
    success_message = _lazy("核实结果已记录。")

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        return services.petition_verify(petition_id=petition.pk, actor=self.actor,
                                        accepted=data["accepted"], note=data.get("note", ""))


class PetitionReturnView(StaffActionView):
    form_class = petition_forms.ReasonForm
    success_message = _lazy("已退回社区派单员。")

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        return services.petition_return(petition_id=petition.pk, actor=self.actor,
                                        reason=data["reason"])


class PetitionEscalateView(StaffActionView):
    form_class = petition_forms.ReasonForm
    success_message = _lazy("已升级到上一层级。")

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        return services.petition_escalate_by_hand(petition_id=petition.pk,
                                                  actor=self.actor, reason=data["reason"])


class PetitionRejectView(StaffActionView):
    form_class = petition_forms.ReasonForm
    success_message = _lazy("已不予受理，原因将告知居民。")

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        return services.petition_reject(petition_id=petition.pk, actor=self.actor,
                                        reason=data["reason"])


class PetitionReferView(StaffActionView):
    form_class = petition_forms.ReferForm
    success_message = _lazy("已转议事。")

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        # The topic and the petition's move are one transaction in the deliberation service
        # (core.referral's referrer), so a referral from here always lands on the agenda.
        return referrer()(
            petition_id=petition.pk, actor=self.actor, title=data.get("title", ""),
            description=data.get("description", ""), note=data.get("note", ""))


class PetitionCloseView(StaffActionView):
    form_class = petition_forms.NoteOnlyForm
    success_message = _lazy("诉求已关闭。")

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        return services.petition_close(petition_id=petition.pk, actor=self.actor,
                                       note=data.get("note", ""))


class PetitionDispatchView(StaffActionView):
    success_message = _lazy("已派单。")

    def make_form(self, obj: Petition) -> forms.Form:
        user = self.actor
        return petition_forms.DispatchForm(self.request.POST,
                                           holders=selectors.holder_candidate_list(user=user))

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        return services.petition_dispatch(petition_id=petition.pk, actor=self.actor,
                                          holder=data["holder"], note=data.get("note", ""))


class PetitionRerouteView(StaffActionView):
    success_message = _lazy("已改派。")

    def make_form(self, obj: Petition) -> forms.Form:
        user = self.actor
        return petition_forms.RerouteForm(self.request.POST,
                                          buildings=selectors.scope_building_list(user=user),
                                          holders=selectors.holder_candidate_list(user=user))

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        return services.petition_reroute(petition_id=petition.pk, actor=self.actor,
                                         building=data.get("building"),
                                         holder=data.get("holder"), note=data.get("note", ""))



class PetitionPlaceView(StaffActionView):
    """待分派 → a building or a micro-grid, then dispatched to its worker: one POST."""

    success_message = _lazy("已定位。")

    def make_form(self, obj: Petition) -> forms.Form:
        user = self.actor
        return petition_forms.PlaceForm(self.request.POST,
                                        buildings=selectors.scope_building_list(user=user),
                                        micro_grids=selectors.scope_micro_grid_list(user=user))

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        building, area = data.get("building"), data.get("area")
        return dispatch_queue.petition_place(
            petition_id=petition.pk, actor=self.actor,
            building_id=building.pk if building is not None else None,
            area_id=area.pk if area is not None else None, note=data.get("note", ""))


# --- 申诉剔除 (petitions/assessment.py) ----------------------------------------------------------


class PetitionExclusionRequestView(StaffActionView):
    form_class = petition_forms.ExclusionRequestForm
    success_message = _lazy("剔除考核申请已提交，等待街道管理员审批。")

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        return assessment.exclusion_request(petition_id=petition.pk, actor=self.actor,
                                            reason=data["reason"], note=data["note"])


class ExclusionQueueView(StaffView):
    """The street admins' queue of pending 剔除考核 requests, each with approve / refuse."""

    def get(self, request: HttpRequest) -> HttpResponse:
        context = {"exclusions": assessment.exclusion_pending_list(user=request.user),
                   "active": "exclusions"}
        return render(request, "petitions/staff/exclusions.html", context)


class ExclusionDecisionView(StaffView, ActionView):
    """POST only: a pending request the user covers (404 otherwise), decided, back to the
    queue."""

    http_method_names = ["post"]
    form_class = petition_forms.ExclusionDecisionForm

    def load(self, **kwargs: Any) -> AssessmentExclusion:
        exclusion = (assessment.exclusion_pending_list(user=self.request.user)
                     .filter(pk=kwargs["pk"]).first())
        if exclusion is None:
            raise Http404(_("剔除申请不存在。"))
        return exclusion

    def redirect_to(self, obj: AssessmentExclusion) -> str:
        return reverse("petitions:staff-exclusions")


class ExclusionApproveView(ExclusionDecisionView):
    success_message = _lazy("已批准剔除，该诉求不再计入考核。")

    def perform(self, obj: AssessmentExclusion, data: dict[str, Any]) -> Any:
        return assessment.exclusion_approve(exclusion_id=obj.pk, actor=self.actor,
                                            note=data.get("note") or "")


class ExclusionRefuseView(ExclusionDecisionView):
    success_message = _lazy("已驳回剔除申请。")

    def perform(self, obj: AssessmentExclusion, data: dict[str, Any]) -> Any:
        return assessment.exclusion_refuse(exclusion_id=obj.pk, actor=self.actor,
                                           note=data.get("note") or "")


# --- 未诉先办 (petitions/recurrence.py) --------------------------------------------------------


class RecurrenceQueueView(StaffView):
    """Open suggestions in the user's scope, a page at a time, each with accept / dismiss."""

    def get(self, request: HttpRequest) -> HttpResponse:
        queryset = recurrence.recurrence_open_list(user=request.user).prefetch_related(
            Prefetch("petitions", queryset=Petition.objects.only("id").order_by("id")))
        page = Paginator(queryset, RECURRENCE_PAGE_SIZE).get_page(request.GET.get("page"))
        rows = []
        for suggestion in page.object_list:
            title, text = recurrence.recurrence_default_text(suggestion)
            form = petition_forms.RecurrenceAcceptForm(
                initial={"title": title, "description": text},
                auto_id=f"id_accept_{suggestion.pk}_%s")
            dismiss = petition_forms.RecurrenceDismissForm(
                auto_id=f"id_dismiss_{suggestion.pk}_%s")
            rows.append({"suggestion": suggestion, "petitions": suggestion.petitions.all(),
                         "accept": form, "dismiss": dismiss})
        context = {"page": page, "rows": rows, "active": "recurrences"}
        return render(request, "petitions/staff/recurrences.html", context)


class RecurrenceDecisionView(StaffView, ActionView):
    """POST only: an open suggestion the user may decide (404 otherwise), back to the queue."""

    http_method_names = ["post"]

    def load(self, **kwargs: Any) -> RecurrenceSuggestion:
        suggestion = (recurrence.recurrence_open_list(user=self.request.user)
                      .filter(pk=kwargs["pk"]).first())
        if suggestion is None:
            raise Http404(_("建议不存在。"))
        return suggestion

    def redirect_to(self, obj: RecurrenceSuggestion) -> str:
        return reverse("petitions:staff-recurrences")


class RecurrenceAcceptView(RecurrenceDecisionView):
    form_class = petition_forms.RecurrenceAcceptForm

    def perform(self, obj: RecurrenceSuggestion, data: dict[str, Any]) -> Any:
        return recurrence.recurrence_accept(suggestion_id=obj.pk, actor=self.actor,
                                            outcome=data["outcome"], title=data["title"],
                                            description=data.get("description") or "")

    def success_text(self, result: Any) -> str:
        if result.outcome == RecurrenceSuggestion.Outcome.TOPIC:
            return _("已采纳，已发起议题，可在协商议事中安排上会。")
        return _("已采纳，已列入需求清单。")


class RecurrenceDismissView(RecurrenceDecisionView):
    form_class = petition_forms.RecurrenceDismissForm
    success_message = _lazy("已记录不采纳的理由。")

    def perform(self, obj: RecurrenceSuggestion, data: dict[str, Any]) -> Any:
        return recurrence.recurrence_dismiss(suggestion_id=obj.pk, actor=self.actor,
                                             reason=data["reason"])
