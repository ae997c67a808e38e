"""The reports page under /reports/: the street's kept reports to download, and (for its
street admins) the 生成/重新生成 button. Who may open it: reports.rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _lazy
from django.views import View

from accounts.models import User
from core.actions import ActionView, StaffRequiredMixin
from core.types import signed_in_user
from reports import rankings, rules, screen, selectors, services
from reports.forms import GenerateForm, RankingForm
from reports.models import MonthlyReport


class ReportStaffView(StaffRequiredMixin, View):
    denied_message = _lazy("页面不存在。")

    def has_access(self, user: User) -> bool:
        return rules.may_open_reports(user)


class ReportListView(ReportStaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request.user)
        streets = selectors.report_streets_for_generation(user=user)
        reports = selectors.report_list_for_user(user=user)
        context = {"reports": reports, "streets": streets,
                   "form": GenerateForm(streets=streets) if streets else None,
                   "may_generate": {street.pk for street in streets}, "active": "reports"}
        return render(request, "reports/list.html", context)


class ReportGenerateView(ReportStaffView, ActionView):
    """POST only: build (or build again) one street's report for one period."""

    http_method_names = ["post"]
    form_class = GenerateForm
    success_message = _lazy("报表已生成。")

    def has_access(self, user: User) -> bool:
        return bool(selectors.report_streets_for_generation(user=user))

    def form_kwargs(self, obj: Any) -> dict[str, Any]:
        user = signed_in_user(self.request.user)
        return {"streets": selectors.report_streets_for_generation(user=user)}

    def perform(self, obj: Any, data: dict[str, Any]) -> MonthlyReport:
        return services.report_generate(street=data["street"], kind=data["kind"],
                                        period_start=data["period"],
                                        actor=signed_in_user(self.request.user))

    def redirect_to(self, obj: Any) -> str:
        return reverse("reports:list")


class RankingView(StaffRequiredMixin, View):
    """考核排名: the street's grids and workers by one rate over a month (reports/rankings.py),
    each user reading the rows reports.rules lets them see. Bad picker values: the form's
    Chinese errors, no figures (never a 500)."""

    denied_message = _lazy("页面不存在。")

    def has_access(self, user: User) -> bool:
        return rules.may_open_rankings(user)

    def get(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request.user)
        streets = rankings.ranking_streets(user=user)
        form = RankingForm(request.GET, streets=streets)
        context: dict[str, Any] = {"form": form, "active": "rankings",
                                   "may_decide": rules.sees_whole_street(user)}
        if not form.is_valid():
            return render(request, "reports/rankings.html", context)
        street = form.cleaned_data["street"] or streets.first()
        if street is None:
            return render(request, "reports/rankings.html", context)
        start, end = rankings.month_period(form.cleaned_data["period"])
        rate = form.cleaned_data["rate"] or rankings.DEFAULT_RATE
        kwargs: dict[str, Any] = {"street": street, "start": start, "end": end, "rate": rate}
        context |= {
            "street": street, "start": start, "last_day": end - timedelta(days=1),
            "grids": rankings.ranking_for_user(rankings.grid_ranking(**kwargs), user=user),
            "workers": rankings.ranking_for_user(rankings.worker_ranking(**kwargs), user=user),
        }
        return render(request, "reports/rankings.html", context)


class ScreenView(ReportStaffView):
    """The big screen (大屏): the figures rendered at once (no blank screen without script),
    then refreshed by static/js/screen.js from ScreenDataView once a minute."""

    def get(self, request: HttpRequest) -> HttpResponse:
        areas = screen.screen_area_list(user=signed_in_user(request.user))
        area = screen.screen_area_get(areas=areas, area_id=request.GET.get("area"))
        figures = screen.screen_figures(area=area, now=timezone.now())
        context = {"area": area, "areas": areas if len(areas) > 1 else [],
                   "screen": screen.screen_display(figures)}
        return render(request, "reports/screen.html", context)


class ScreenDataView(ReportStaffView):
    """The big screen's figures as JSON (the same cached figures as the page)."""

    def get(self, request: HttpRequest) -> JsonResponse:
        areas = screen.screen_area_list(user=signed_in_user(request.user))
        area = screen.screen_area_get(areas=areas, area_id=request.GET.get("area"))
        figures = screen.screen_figures(area=area, now=timezone.now())
        return JsonResponse({"area": {"id": area.pk, "name": area.name},
                             **screen.screen_display(figures)})
