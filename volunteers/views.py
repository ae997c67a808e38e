"""Server-rendered pages: volunteers and residents on a phone, staff on the dashboard.

Each view parses, calls one service and renders or redirects. Action views share one shape
(`ServiceActionView`): a bad form or a refused rule becomes a Chinese message, never a 500.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views import View

from accounts.models import User
from accounts.views import ResidentLoginRequiredMixin
from core.actions import ActionView, all_errors
from core.actions import StaffRequiredMixin as CoreStaffRequiredMixin
from core.audit import audit_event_record
from core.care_referral import petition_opener
from core.exceptions import ApplicationError
from core.masking import mask_name
from core.models import AuditEvent
from core.spreadsheets import csv_response
from core.types import signed_in_user
from residents.selectors import party_member_public_name
from territory.models import Compound
from volunteers import exports, ical, rules, selectors
from volunteers import forms as volunteer_forms
from volunteers.models import (
    ActivitySignup,
    CareFileAccessLog,
    CareVisit,
    MicroWish,
    ProxyService,
    ShiftSwap,
    Volunteer,
)
from volunteers.services import activities, care, proxy, rosters, wishes
from volunteers.services._common import Consent, change_closes_before


class StaffRequiredMixin(CoreStaffRequiredMixin):
    """Staff dashboard views: every staff role; anyone else gets a 404."""


class ServiceActionView(ResidentLoginRequiredMixin, ActionView):
    """POST only. The object is loaded inside `perform` from the URL's arguments (`url_kwargs`),
    after the form is valid, and the service's own words are the success message."""

    http_method_names = ["post"]

    def load(self, **kwargs: Any) -> dict[str, Any]:
        return kwargs

    def form_error(self, form: forms.Form) -> str:
        return all_errors(form)

    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        raise NotImplementedError

    def success_text(self, result: str) -> str:
        return result

    def redirect_to(self, url_kwargs: dict[str, Any]) -> str:
        # Never an outside address: a "next" of https://… would make this an open redirect.
        return _safe_next(self.request, reverse("volunteers:home"))


def _user(request: HttpRequest) -> User:
    """The visitor of a page behind a sign-in gate (every page here but the public board)."""
    return signed_in_user(request.user)


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    return target if target.startswith("/volunteers/") else fallback


# --- volunteer / resident pages -----------------------------------------------------------

class VolunteerHomeView(ResidentLoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        volunteer = selectors.volunteer_for_user(request.user)
        now = timezone.now()
        context: dict[str, Any] = {
            "volunteer": volunteer,
            "resident": selectors.resident_for_user(request.user),
            "member": selectors.party_member_for_user(request.user),
            "change_hours": int(change_closes_before().total_seconds() // 3600),
        }
        if volunteer is not None:
            context["shifts"] = (selectors.shift_list(user=request.user)
                                 .filter(volunteer=volunteer, ends_at__gte=now)[:10])
            context["signups"] = selectors.my_signups(volunteer=volunteer)[:10]
            context["swap_requests"] = (ShiftSwap.objects
                                        .filter(to_volunteer=volunteer,
                                                status=ShiftSwap.Status.REQUESTED)
                                        .select_related("shift__post", "from_volunteer"))
            context["services"] = (selectors.proxy_service_list(user=request.user)
                                   .filter(assignee=volunteer, status="assigned"))
        if context["member"] is not None:
            context["claimable_count"] = selectors.micro_wish_list(
                user=request.user, filters={"status": "published"}).count()
        return render(request, "volunteers/home.html", context)


class VolunteerRegisterView(ServiceActionView):
    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        activities.volunteer_register(user=_user(self.request))
        return _("登记成功，欢迎加入志愿者队伍！")


class ActivityListView(ResidentLoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        rows = selectors.activity_list(user=request.user, filters=request.GET).filter(
            ends_at__gte=timezone.now() - timedelta(days=30))[:50]
        return render(request, "volunteers/activity_list.html",
                      {"activities": rows, "now": timezone.now()})


class ActivityDetailView(ResidentLoginRequiredMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        activity = selectors.activity_get_for_user(user=request.user, activity_id=pk)
        volunteer = selectors.volunteer_for_user(request.user)
        signup = (ActivitySignup.objects.filter(activity=activity, volunteer=volunteer)
                  .select_related("hours_entry").first() if volunteer else None)
        return render(request, "volunteers/activity_detail.html", {
            "activity": activity, "volunteer": volunteer, "signup": signup,
            "accepts_signups": activity.accepts_signups(timezone.now()),
            "code_form": volunteer_forms.CodeForm(initial={"code": request.GET.get("code", "")}),
            "is_staff": rules.is_staff_for_compound(request.user, activity.compound),
        })


class ActivitySignupView(ServiceActionView):
    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        activity = selectors.activity_get_for_user(user=self.request.user,
                                                   activity_id=url_kwargs["pk"])
        volunteer = selectors.volunteer_for_user(self.request.user)
        if volunteer is None:
            raise ApplicationError(_("请先登记为志愿者。"))
        signup = activities.activity_signup(activity=activity, volunteer=volunteer)
        if signup.status == ActivitySignup.Status.WAITLISTED:
            return _("名额已满，您已进入候补。")
        return _("报名成功！")

    def redirect_to(self, url_kwargs: dict[str, Any]) -> str:
        return reverse("volunteers:activity-detail", args=[url_kwargs["pk"]])


class SignupActionView(ServiceActionView):
    """Cancel, check in or check out one's own sign-up (by the code shown to staff)."""

    def signup(self, request: HttpRequest, pk: int) -> ActivitySignup:
        return selectors.signup_get_for_user(user=request.user, signup_id=pk)

    def redirect_to(self, url_kwargs: dict[str, Any]) -> str:
        signup = self.signup(self.request, url_kwargs["pk"])
        return _safe_next(self.request, reverse("volunteers:activity-detail",
                                           args=[signup.activity_id]))


class SignupCancelView(SignupActionView):
    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        activities.activity_signup_cancel(signup=self.signup(self.request, url_kwargs["pk"]),
                                          user=_user(self.request))
        return _("已取消报名。")


class SignupCheckInView(SignupActionView):
    form_class = volunteer_forms.CodeForm

    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        activities.signup_check_in(signup=self.signup(self.request, url_kwargs["pk"]),
                                   user=_user(self.request), code=data["code"])
        return _("签到成功。")


class SignupCheckOutView(SignupActionView):
    form_class = volunteer_forms.CodeForm

    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        entry = activities.signup_check_out(signup=self.signup(self.request, url_kwargs["pk"]),
                                            user=_user(self.request), code=data["code"])
        return _("签退成功，本次记录 %(hours)s 小时，待工作人员认定。") % {"hours": entry.hours}


class MyHoursView(ResidentLoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        volunteer = selectors.volunteer_for_user(request.user)
        if volunteer is None:
            return redirect("volunteers:home")
        return render(request, "volunteers/my_hours.html", {
            "volunteer": volunteer,
            "entries": selectors.volunteer_ledger(volunteer_id=volunteer.pk)[:200],
            "no_shows": selectors.volunteer_no_shows(volunteer_id=volunteer.pk)[:50],
            "qualifications": selectors.qualification_list(volunteer_id=volunteer.pk),
            "today": timezone.localdate(),
            "totals": selectors.hours_yearly_totals(volunteer_id=volunteer.pk)})


class MyCalendarView(ResidentLoginRequiredMixin, View):
    """The volunteer's private calendar feed: its URL to copy, and a way to revoke it."""

    def get(self, request: HttpRequest) -> HttpResponse:
        volunteer = selectors.volunteer_for_user(request.user)
        if volunteer is None:
            return redirect("volunteers:home")
        feed_url = (request.build_absolute_uri(reverse("volunteers:shift-calendar",
                                                       args=[volunteer.calendar_token]))
                    if volunteer.calendar_token else "")
        return render(request, "volunteers/my_calendar.html",
                      {"volunteer": volunteer, "feed_url": feed_url})


class MyCalendarRotateView(ServiceActionView):
    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        volunteer = selectors.volunteer_for_user(self.request.user)
        if volunteer is None:
            raise ApplicationError(_("请先登记为志愿者。"))
        activities.volunteer_calendar_token_rotate(volunteer=volunteer, user=_user(self.request))
        return _("已生成新的订阅链接，旧链接随即失效。")

    def redirect_to(self, url_kwargs: dict[str, Any]) -> str:
        return reverse("volunteers:my-calendar")


class ShiftCalendarFeedView(View):
    """The iCal feed itself: no sign-in (calendar apps cannot), the token is the key."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        volunteer = selectors.volunteer_for_calendar_token(token=token)
        shifts = selectors.calendar_shifts(volunteer_id=volunteer.pk, now=timezone.now())
        body = ical.calendar_for_shifts(shifts, name=_("我的志愿值班"), host=request.get_host())
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Cache-Control"] = "private, max-age=900"
        return response


def _certificate(request: HttpRequest, volunteer: Volunteer, year: int) -> HttpResponse:
    if not 2000 <= year <= timezone.localdate().year + 1:
        raise Http404
    entries = list(selectors.hours_for_year(volunteer_id=volunteer.pk, year=year))
    totals = next((row for row in selectors.hours_yearly_totals(volunteer_id=volunteer.pk)
                   if row["year"] == year), None)
    return render(request, "volunteers/certificate.html", {
        "volunteer": volunteer, "year": year, "entries": entries, "totals": totals,
        "teams": volunteer.teams.all(), "issued_on": timezone.localdate()})


class MyCertificateView(ResidentLoginRequiredMixin, View):
    def get(self, request: HttpRequest, year: int) -> HttpResponse:
        volunteer = selectors.volunteer_for_user(request.user)
        if volunteer is None:
            raise Http404
        return _certificate(request, volunteer, year)


class ShiftCheckInView(ServiceActionView):
    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        shift = selectors.shift_get_for_user(user=self.request.user, shift_id=url_kwargs["pk"])
        rosters.shift_check_in(shift=shift, user=_user(self.request))
        return _("值班签到成功。")


class ShiftCancelView(ServiceActionView):
    form_class = volunteer_forms.ReasonForm

    def load(self, **kwargs: Any) -> dict[str, Any]:
        selectors.shift_get_for_user(user=self.request.user, shift_id=kwargs["pk"])
        return kwargs

    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        shift = selectors.shift_get_for_user(user=self.request.user, shift_id=url_kwargs["pk"])
        rosters.shift_cancel(shift=shift, user=_user(self.request), reason=data["reason"])
        return _("已取消该值班。")


class ShiftSwapView(ResidentLoginRequiredMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        shift = selectors.shift_get_for_user(user=request.user, shift_id=pk)
        candidates = (Volunteer.objects.filter(compound_id=shift.post.compound_id,
                                               is_active=True)
                      .exclude(pk=shift.volunteer_id).order_by("name")[:200])
        return render(request, "volunteers/shift_swap.html",
                      {"shift": shift, "candidates": candidates})


class ShiftSwapRequestView(ServiceActionView):
    form_class = volunteer_forms.SwapForm

    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        shift = selectors.shift_get_for_user(user=self.request.user, shift_id=url_kwargs["pk"])
        to_volunteer = get_object_or_404(Volunteer, pk=data["to_volunteer"],
                                         compound_id=shift.post.compound_id)
        rosters.shift_swap_request(shift=shift, user=_user(self.request), to_volunteer=to_volunteer,
                                   reason=data["reason"])
        return _("换班申请已发出，等待对方确认。")


class ShiftSwapDecideView(ServiceActionView):
    accept: ClassVar[bool] = True

    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        swap = get_object_or_404(ShiftSwap, pk=url_kwargs["pk"],
                                 to_volunteer__user=self.request.user)
        rosters.shift_swap_decide(swap=swap, user=_user(self.request), accept=self.accept)
        return _("已接受换班。") if self.accept else _("已拒绝换班。")


class ShiftSwapDeclineView(ShiftSwapDecideView):
    accept = False


class TeamRankingView(ResidentLoginRequiredMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        team = selectors.team_get_for_user(user=request.user, team_id=pk)
        try:
            year = int(request.GET.get("year") or timezone.localdate().year)
        except ValueError:
            year = timezone.localdate().year
        ranking = selectors.team_ranking(team=team, year=year)[:100]
        return render(request, "volunteers/team_ranking.html",
                      {"team": team, "year": year, "ranking": ranking})


class BoardView(View):
    """亮身份: the public board of party members, their zones, posts, duties and pledges."""

    def get(self, request: HttpRequest) -> HttpResponse:
        compound_id = request.GET.get("compound") or next(
            iter(selectors.user_compound_ids(request.user)), None)
        compound = (Compound.objects.filter(pk=compound_id).first() if compound_id
                    and str(compound_id).isdigit() else Compound.objects.order_by("id").first())
        members = [(member, party_member_public_name(member, viewer=request.user))
                   for member in (selectors.board_members(compound_id=compound.pk)
                                  if compound else [])]
        zones = (compound.responsibility_zones.select_related("party_member__resident")
                 .prefetch_related("buildings") if compound else [])
        posts = compound.service_posts.all() if compound else []
        return render(request, "volunteers/board.html", {
            "compound": compound, "members": members, "zones": zones, "posts": posts})


# --- micro-wishes -------------------------------------------------------------------------

class WishListView(ResidentLoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        rows = selectors.micro_wish_list(user=request.user, filters=request.GET)[:100]
        return render(request, "volunteers/wish_list.html", {
            "wishes": rows, "member": selectors.party_member_for_user(request.user),
            "status_choices": MicroWish.Status.choices})


class WishCreateView(ResidentLoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "volunteers/wish_form.html", {"form": volunteer_forms.WishForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = volunteer_forms.WishForm(request.POST)
        resident = selectors.resident_for_user(request.user)
        if resident is None:
            form.add_error(None, _("只有登记在册的居民可以许愿。"))
        if resident is None or not form.is_valid():
            return render(request, "volunteers/wish_form.html", {"form": form}, status=400)
        wish = wishes.micro_wish_submit(resident=resident, **form.cleaned_data)
        messages.success(request, _("心愿已提交，社区审核后将发布给党员认领。"))
        return redirect("volunteers:wish-detail", pk=wish.pk)


class WishDetailView(ResidentLoginRequiredMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        wish = selectors.micro_wish_get_for_user(user=request.user, wish_id=pk)
        is_staff = rules.is_staff_for_compound(request.user, wish.compound)
        is_owner = rules.is_wish_owner(request.user, wish)
        member = selectors.party_member_for_user(request.user)
        return render(request, "volunteers/wish_detail.html", {
            "wish": wish, "is_staff": is_staff, "is_owner": is_owner, "member": member,
            "is_claimer": member is not None and rules.is_claiming_member(member, wish),
            "resident_name": wish.resident.name if is_staff or is_owner
            else mask_name(wish.resident.name),
            "events": wish.events.select_related("actor"),
            "fulfil_form": volunteer_forms.FulfilForm()})


class WishActionView(ServiceActionView):
    def wish(self, request: HttpRequest, pk: int) -> MicroWish:
        return selectors.micro_wish_get_for_user(user=request.user, wish_id=pk)

    def redirect_to(self, url_kwargs: dict[str, Any]) -> str:
        return reverse("volunteers:wish-detail", args=[url_kwargs["pk"]])


class WishPublishView(WishActionView):
    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        wishes.micro_wish_publish(wish=self.wish(self.request, url_kwargs["pk"]),
                                  actor=_user(self.request))
        return _("已审核发布，本小区党员可以认领。")


class WishRejectView(WishActionView):
    form_class = volunteer_forms.ReasonForm

    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        wishes.micro_wish_reject(wish=self.wish(self.request, url_kwargs["pk"]),
                                 actor=_user(self.request),
                                 reason=data["reason"])
        return _("已退回。")


class WishClaimView(WishActionView):
    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        wish = wishes.micro_wish_claim(wish=self.wish(self.request, url_kwargs["pk"]),
                                       user=_user(self.request))
        return _("认领成功，请在 %(date)s 前完成。") % {
            "date": timezone.localtime(wish.claim_expires_at).strftime("%Y-%m-%d")}


class WishFulfilView(WishActionView):
    form_class = volunteer_forms.FulfilForm

    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        wishes.micro_wish_fulfil(wish=self.wish(self.request, url_kwargs["pk"]),
                                 user=_user(self.request),
                                 note=data["note"], photo=data.get("photo"))
        return _("已标记完成，等待居民确认。")


class WishConfirmView(WishActionView):
    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        wishes.micro_wish_confirm(wish=self.wish(self.request, url_kwargs["pk"]),
                                  user=_user(self.request))
        return _("感谢确认，心愿已实现！")


class WishWithdrawView(WishActionView):
    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        wishes.micro_wish_withdraw(wish=self.wish(self.request, url_kwargs["pk"]),
                                   user=_user(self.request))
        return _("心愿已撤回。")


# --- proxy services -----------------------------------------------------------------------

class ProxyServiceListView(ResidentLoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        rows = selectors.proxy_service_list(user=request.user, filters=request.GET)[:100]
        return render(request, "volunteers/service_list.html", {"services": rows})


class ProxyServiceCreateView(ResidentLoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "volunteers/service_form.html",
                      {"form": volunteer_forms.ProxyServiceForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = volunteer_forms.ProxyServiceForm(request.POST)
        resident = selectors.resident_for_user(request.user)
        if resident is None:
            form.add_error(None, _("只有登记在册的居民可以申请帮办代办。"))
        if resident is None or not form.is_valid():
            return render(request, "volunteers/service_form.html", {"form": form}, status=400)
        service = proxy.proxy_service_request(resident=resident, **form.cleaned_data)
        messages.success(request, _("已提交，社区将尽快安排志愿者代办。"))
        return redirect("volunteers:service-detail", pk=service.pk)


class ProxyServiceDetailView(ResidentLoginRequiredMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        service = selectors.proxy_service_get_for_user(user=request.user, service_id=pk)
        is_staff = rules.is_staff_for_compound(request.user, service.compound)
        candidates = (Volunteer.objects.filter(compound_id=service.compound_id, is_active=True)
                      .order_by("name")[:300] if is_staff else [])
        return render(request, "volunteers/service_detail.html", {
            "service": service, "is_staff": is_staff, "candidates": candidates,
            "is_owner": rules.is_service_owner(request.user, service),
            "is_assignee": rules.is_service_assignee(request.user, service),
            "events": service.events.select_related("actor")})


class ProxyServiceActionView(ServiceActionView):
    def service(self, request: HttpRequest, pk: int) -> ProxyService:
        return selectors.proxy_service_get_for_user(user=request.user, service_id=pk)

    def redirect_to(self, url_kwargs: dict[str, Any]) -> str:
        return reverse("volunteers:service-detail", args=[url_kwargs["pk"]])


class ProxyServiceAssignView(ProxyServiceActionView):
    form_class = volunteer_forms.AssignForm

    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        service = self.service(self.request, url_kwargs["pk"])
        assignee = get_object_or_404(Volunteer, pk=data["assignee"],
                                     compound_id=service.compound_id)
        proxy.proxy_service_assign(service=service, assignee=assignee, actor=_user(self.request))
        return _("已派给 %(name)s。") % {"name": assignee.name}


class ProxyServiceCompleteView(ProxyServiceActionView):
    form_class = volunteer_forms.NoteForm

    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        proxy.proxy_service_complete(service=self.service(self.request, url_kwargs["pk"]),
                                     user=_user(self.request), note=data["note"])
        return _("已办结。")


class ProxyServiceConfirmView(ProxyServiceActionView):
    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        proxy.proxy_service_confirm(service=self.service(self.request, url_kwargs["pk"]),
                                    user=_user(self.request))
        return _("已确认，感谢您的评价。")


# --- care ---------------------------------------------------------------------------------

class CareFileListView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        files = selectors.care_file_list(user=request.user, filters=request.GET)[:200]
        if (not files and not selectors.caring_compound_ids(request.user)
                and not rules.is_staff_user(request.user)):
            raise Http404
        return render(request, "volunteers/care_list.html",
                      {"files": files, "today": timezone.localdate()})


class CareFileDetailView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        care_file = selectors.care_file_get_for_user(user=request.user, care_file_id=pk)
        care.care_file_log_access(care_file=care_file, user=_user(request),
                                  channel=CareFileAccessLog.Channel.PAGE)
        visits = list(care_file.visits.select_related("visitor")[:50])
        return render(request, "volunteers/care_detail.html", {
            "file": care_file, "visits": _with_follow_up_forms(request, visits),
            "form": volunteer_forms.VisitForm(initial={"visited_on": timezone.localdate()}),
            "on_behalf": _on_behalf_forms(request),
            "today": timezone.localdate()})


def _on_behalf_forms(request: HttpRequest) -> dict[str, forms.Form] | None:
    if not rules.is_staff_user(request.user):
        return None
    initial = {"consent_at": timezone.localtime().replace(second=0, microsecond=0),
               "consent_by": _("本人")}
    return {"wish": volunteer_forms.OnBehalfForm(initial=initial, auto_id="id_w_%s"),
            "service": volunteer_forms.OnBehalfProxyServiceForm(initial=initial,
                                                                auto_id="id_s_%s")}


def _with_follow_up_forms(request: HttpRequest,
                          visits: list[CareVisit]) -> list[tuple[CareVisit, dict[str, Any]]]:
    """Per open need: the forms that turn it into a proxy service and, for staff, a petition
    (each with its own element ids: a page may list several needs)."""
    open_needs = [visit for visit in visits if visit.need and not visit.has_follow_up]
    categories = (_petition_categories() if open_needs and rules.is_staff_user(request.user)
                  else None)
    open_ids = {visit.pk for visit in open_needs}
    return [(visit, {
        "proxy": volunteer_forms.VisitProxyServiceForm(auto_id=f"id_v{visit.pk}_%s"),
        "petition": (volunteer_forms.VisitPetitionForm(categories=categories,
                                                       auto_id=f"id_p{visit.pk}_%s")
                     if categories is not None else None)} if visit.pk in open_ids else {})
            for visit in visits]


class CareVisitCreateView(ServiceActionView):
    form_class = volunteer_forms.VisitForm

    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        care_file = selectors.care_file_get_for_user(user=self.request.user,
                                                     care_file_id=url_kwargs["pk"])
        care.care_visit_log(care_file=care_file, user=_user(self.request),
                            visited_on=data["visited_on"], condition=data["condition"],
                            notes=data["notes"], minutes=data["duration_minutes"],
                            need=data["need"])
        return _("走访已记录。")

    def redirect_to(self, url_kwargs: dict[str, Any]) -> str:
        return reverse("volunteers:care-detail", args=[url_kwargs["pk"]])


class CareVisitProxyServiceView(ServiceActionView):
    """The visit's need becomes a proxy service for the elder, in one action."""

    form_class: type[forms.Form] | None = volunteer_forms.VisitProxyServiceForm

    def load(self, **kwargs: Any) -> dict[str, Any]:
        # Outsiders get their 404 before the form is read.
        selectors.care_visit_get_for_user(user=self.request.user, visit_id=kwargs["pk"])
        return kwargs

    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        visit = selectors.care_visit_get_for_user(user=self.request.user,
                                                  visit_id=url_kwargs["pk"])
        service = care.care_visit_open_proxy_service(visit=visit, user=_user(self.request),
                                                     **data)
        return _("已转为帮办代办 #%(id)s。") % {"id": service.pk}

    def redirect_to(self, url_kwargs: dict[str, Any]) -> str:
        visit = selectors.care_visit_get_for_user(user=self.request.user,
                                                  visit_id=url_kwargs["pk"])
        return reverse("volunteers:care-detail", args=[visit.care_file_id])


class CareVisitPetitionView(CareVisitProxyServiceView):
    """The visit's need becomes a petition (staff who may record one), in one action."""

    form_class = volunteer_forms.VisitPetitionForm

    def form_kwargs(self, obj: Any) -> dict[str, Any]:
        return {"categories": _petition_categories()}

    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        visit = selectors.care_visit_get_for_user(user=self.request.user,
                                                  visit_id=url_kwargs["pk"])
        petition_id = care.care_visit_open_petition(visit=visit, user=_user(self.request),
                                                    **data)
        return _("已转为诉求 #%(id)s。") % {"id": petition_id}


def _petition_categories() -> list[tuple[int, str]]:
    return [(category.id, category.name) for category in petition_opener().categories()]


class CareOnBehalfView(ServiceActionView):
    """代录 from an elder's care file: staff record a micro-wish (or, below, a proxy service)
    on the elder's behalf, with the consent noted."""

    form_class: type[forms.Form] | None = volunteer_forms.OnBehalfForm

    def load(self, **kwargs: Any) -> dict[str, Any]:
        selectors.care_file_get_for_user(user=self.request.user, care_file_id=kwargs["pk"])
        return kwargs

    def elder(self, url_kwargs: dict[str, Any]) -> Any:
        care_file = selectors.care_file_get_for_user(user=self.request.user,
                                                     care_file_id=url_kwargs["pk"])
        return care_file.resident

    @staticmethod
    def consent(data: dict[str, Any]) -> Consent:
        return Consent(by=data.pop("consent_by"), method=data.pop("consent_method"),
                       at=data.pop("consent_at"))

    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        wish = wishes.micro_wish_record_for(resident=self.elder(url_kwargs),
                                            actor=_user(self.request),
                                            consent=self.consent(data), **data)
        return _("已代录微心愿 #%(id)s，待审核发布。") % {"id": wish.pk}

    def redirect_to(self, url_kwargs: dict[str, Any]) -> str:
        return reverse("volunteers:care-detail", args=[url_kwargs["pk"]])


class CareOnBehalfProxyServiceView(CareOnBehalfView):
    form_class = volunteer_forms.OnBehalfProxyServiceForm

    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        service = proxy.proxy_service_record_for(resident=self.elder(url_kwargs),
                                                 actor=_user(self.request),
                                                 consent=self.consent(data), **data)
        return _("已代录帮办代办 #%(id)s。") % {"id": service.pk}


# --- staff dashboard ----------------------------------------------------------------------

class StaffDashboardView(StaffRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        today = timezone.localdate()
        return render(request, "volunteers/staff_dashboard.html", {
            "now": timezone.now(),
            "counts": selectors.dashboard_counts(user=user),
            "overdue": selectors.care_files_overdue(user=user, today=today)[:50],
            "shifts": selectors.shift_list(user=user, filters={
                "date_from": today.isoformat(),
                "date_to": (today + timedelta(days=6)).isoformat()}).order_by("starts_at")[:100],
            "activities": selectors.activity_list(user=user)
            .filter(ends_at__gte=timezone.now()).order_by("starts_at")[:20],
            "pending_hours": selectors.hours_entry_list(user=user,
                                                        filters={"status": "pending"})[:50],
            "wishes": selectors.micro_wish_list(user=user, filters={"status": "submitted"})[:50],
            "requests": selectors.proxy_service_list(user=user,
                                                     filters={"status": "requested"})[:50],
            "posts": selectors.post_list(user=user),
            "today": today})


class StaffActivityView(StaffRequiredMixin, View):
    """The check-in desk: the 6-digit code, its QR, and every sign-up with its buttons."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        activity = selectors.activity_staff_get(user=request.user, activity_id=pk)
        link = request.build_absolute_uri(
            reverse("volunteers:activity-detail", args=[activity.pk])
            + f"?code={activity.checkin_code}")
        qr_svg = segno.make(link, error="m").svg_inline(scale=4)
        return render(request, "volunteers/staff_activity.html", {
            "activity": activity, "signups": selectors.activity_signups(activity=activity),
            # The SVG is drawn by segno from our own URL: pixels, no user text.
            "qr_svg": mark_safe(qr_svg),
            "link": link})


class StaffActivityCreateView(StaffRequiredMixin, View):
    def _compound(self, request: HttpRequest) -> Compound:
        compound_id = request.GET.get("compound") or request.POST.get("compound")
        compound = (Compound.objects.select_related("community").filter(pk=compound_id).first()
                    if compound_id else None)
        if compound is None:
            compound = next((item for item in Compound.objects.select_related("community")
                             .order_by("id") if rules.is_staff_for_compound(request.user, item)),
                            None)
        if compound is None or not rules.is_staff_for_compound(request.user, compound):
            raise Http404
        return compound

    def get(self, request: HttpRequest) -> HttpResponse:
        compound = self._compound(request)
        form = volunteer_forms.ActivityForm(teams=compound.volunteer_teams.all())
        return render(request, "volunteers/activity_form.html",
                      {"form": form, "compound": compound})

    def post(self, request: HttpRequest) -> HttpResponse:
        compound = self._compound(request)
        form = volunteer_forms.ActivityForm(request.POST, teams=compound.volunteer_teams.all())
        if form.is_valid():
            try:
                activity = activities.activity_create(compound=compound, actor=_user(request),
                                                      **form.cleaned_data)
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("活动已发布。"))
                return redirect("volunteers:staff-activity", pk=activity.pk)
        return render(request, "volunteers/activity_form.html",
                      {"form": form, "compound": compound}, status=400)


class StaffSignupActionView(StaffRequiredMixin, ServiceActionView):
    def signup(self, request: HttpRequest, pk: int) -> ActivitySignup:
        return selectors.signup_get_for_staff(user=request.user, signup_id=pk)

    def redirect_to(self, url_kwargs: dict[str, Any]) -> str:
        return reverse("volunteers:staff-activity",
                       args=[self.signup(self.request, url_kwargs["pk"]).activity_id])


class StaffSignupCheckInView(StaffSignupActionView):
    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        signup = activities.signup_check_in(signup=self.signup(self.request, url_kwargs["pk"]),
                                            user=_user(self.request))
        return _("%(name)s 已签到。") % {"name": signup.volunteer.name}


class StaffSignupCheckOutView(StaffSignupActionView):
    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        entry = activities.signup_check_out(signup=self.signup(self.request, url_kwargs["pk"]),
                                            user=_user(self.request))
        return _("%(name)s 已签退，%(hours)s 小时待认定。") % {
            "name": entry.volunteer.name, "hours": entry.hours}


class StaffHoursDecideView(StaffRequiredMixin, ServiceActionView):
    approve: ClassVar[bool] = True

    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        entry = selectors.hours_entry_get_for_staff(user=self.request.user,
                                                    entry_id=url_kwargs["pk"])
        activities.hours_entry_decide(entry=entry, actor=_user(self.request), approve=self.approve)
        return _("时长已认定。") if self.approve else _("时长未予认定。")

    def redirect_to(self, url_kwargs: dict[str, Any]) -> str:
        return _safe_next(self.request, reverse("volunteers:staff-dashboard"))


class StaffHoursRejectView(StaffHoursDecideView):
    approve = False


class StaffHoursAddView(StaffRequiredMixin, ServiceActionView):
    form_class = volunteer_forms.HoursAddForm

    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        volunteer = selectors.volunteer_get_for_staff(user=self.request.user,
                                                      volunteer_id=url_kwargs["pk"])
        activities.hours_entry_add(volunteer=volunteer, actor=_user(self.request), **data)
        return _("已补录时长。")

    def redirect_to(self, url_kwargs: dict[str, Any]) -> str:
        return reverse("volunteers:staff-volunteer", args=[url_kwargs["pk"]])


class StaffVolunteerView(StaffRequiredMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        volunteer = selectors.volunteer_get_for_staff(user=request.user, volunteer_id=pk)
        today = timezone.localdate()
        return render(request, "volunteers/staff_volunteer.html", {
            "volunteer": volunteer,
            "entries": selectors.volunteer_ledger(volunteer_id=volunteer.pk)[:200],
            "no_shows": selectors.volunteer_no_shows(volunteer_id=volunteer.pk)[:50],
            "qualifications": selectors.qualification_list(volunteer_id=volunteer.pk),
            "totals": selectors.hours_yearly_totals(volunteer_id=volunteer.pk),
            "today": today, "year": today.year,
            "form": volunteer_forms.HoursAddForm(initial={"served_on": today}),
            "qualification_form": volunteer_forms.QualificationForm(
                initial={"obtained_on": today})})


class StaffQualificationAddView(StaffRequiredMixin, ServiceActionView):
    form_class = volunteer_forms.QualificationForm

    def load(self, **kwargs: Any) -> dict[str, Any]:
        selectors.volunteer_get_for_staff(user=self.request.user, volunteer_id=kwargs["pk"])
        return kwargs

    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        volunteer = selectors.volunteer_get_for_staff(user=self.request.user,
                                                      volunteer_id=url_kwargs["pk"])
        activities.qualification_record(volunteer=volunteer, actor=_user(self.request), **data)
        return _("已登记资质。")

    def redirect_to(self, url_kwargs: dict[str, Any]) -> str:
        return reverse("volunteers:staff-volunteer", args=[url_kwargs["pk"]])


class StaffHoursExportView(StaffRequiredMixin, View):
    """A volunteer's approved hours of one year, for 中国志愿服务网's bulk import (the columns:
    volunteers/exports.py). It carries the whole phone number: audited as an export."""

    def get(self, request: HttpRequest, pk: int, year: int) -> HttpResponseBase:
        volunteer = selectors.volunteer_get_for_staff(user=request.user, volunteer_id=pk)
        if not 2000 <= year <= timezone.localdate().year + 1:
            raise Http404
        audit_event_record(action=AuditEvent.Action.EXPORT, object_type="volunteers.volunteer",
                           object_id=volunteer.pk, object_repr=f"hours {year}",
                           fields=["name", "phone", "hours"], request=request)
        entries = selectors.hours_export_entries(volunteer_id=volunteer.pk, year=year)
        return csv_response(filename=f"volunteer-hours-{volunteer.pk}-{year}.csv",
                            header=exports.HEADER, rows=exports.hours_rows(entries.iterator()))


class StaffShiftNoShowView(StaffRequiredMixin, ServiceActionView):
    form_class = volunteer_forms.ShiftNoteForm

    def load(self, **kwargs: Any) -> dict[str, Any]:
        selectors.shift_get_for_user(user=self.request.user, shift_id=kwargs["pk"])
        return kwargs

    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        shift = selectors.shift_get_for_user(user=self.request.user, shift_id=url_kwargs["pk"])
        rosters.shift_no_show_record(shift=shift, actor=_user(self.request), note=data["note"])
        return _("已记缺勤，不计时长。")

    def redirect_to(self, url_kwargs: dict[str, Any]) -> str:
        return _safe_next(self.request, reverse("volunteers:staff-dashboard"))


class StaffCertificateView(StaffRequiredMixin, View):
    def get(self, request: HttpRequest, pk: int, year: int) -> HttpResponse:
        volunteer = selectors.volunteer_get_for_staff(user=request.user, volunteer_id=pk)
        return _certificate(request, volunteer, year)


class StaffRosterGenerateView(StaffRequiredMixin, ServiceActionView):
    form_class = volunteer_forms.RosterGenerateForm

    def perform(self, url_kwargs: dict[str, Any], data: dict[str, Any]) -> str:
        post = selectors.post_get_for_staff(user=self.request.user, post_id=url_kwargs["pk"])
        created = rosters.roster_generate(post=post, start=data["start"], end=data["end"])
        return _("已生成 %(count)s 个班次。") % {"count": created}

    def redirect_to(self, url_kwargs: dict[str, Any]) -> str:
        return reverse("volunteers:staff-dashboard")


class StaffTeamListView(StaffRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        teams = selectors.team_list(user=request.user)
        return render(request, "volunteers/staff_teams.html", {"teams": teams})
