"""The reports page under /reports/: the street's kept reports to download, and (for its
street admins) the 生成/重新生成 button. Who may open it: reports.rules."""

from __future__ import annotations

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
from reports import rules, screen, selectors, services
from reports.forms import GenerateForm
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
