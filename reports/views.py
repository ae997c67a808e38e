"""The reports page under /reports/: the street's kept reports to download, and (for its
street admins) the 生成/重新生成 button; and the one map (一张图) of petitions by building under
/reports/map/, with its GeoJSON under /reports/map/data/. Who may open them: reports.rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import View

from accounts.models import User
from core.actions import ActionView, StaffRequiredMixin
from core.types import signed_in_user
from petitions.models import Category
from reports import rankings, rules, screen, selectors, services
from reports.forms import GenerateForm, MapFilterForm, RankingForm
from reports.models import MonthlyReport
from territory.models import Area


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


class ScreenStaffView(ReportStaffView):
    """A big-screen view: the areas whose screen the user may open (reports.rules), and the
    one asked for (?area=, else the widest); a missing, foreign or malformed one is a 404."""

    def screen_areas(self, request: HttpRequest) -> tuple[list[Area], Area]:
        areas = screen.screen_area_list(user=signed_in_user(request.user))
        return areas, screen.screen_area_get(areas=areas, area_id=request.GET.get("area"))


class ScreenView(ScreenStaffView):
    """The big screen (大屏): the figures rendered at once (no blank screen without script),
    then refreshed by static/js/screen.js from ScreenDataView once a minute."""

    def get(self, request: HttpRequest) -> HttpResponse:
        areas, area = self.screen_areas(request)
        figures = screen.screen_figures(area=area, now=timezone.now())
        context = {"area": area, "areas": areas if len(areas) > 1 else [],
                   "screen": screen.screen_display(figures),
                   "tile_url": settings.MAP_TILE_URL,
                   "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
                   "time_zone": settings.TIME_ZONE}
        return render(request, "reports/screen.html", context)


class ScreenDataView(ScreenStaffView):
    """The big screen's figures as JSON (the same cached figures as the page)."""

    def get(self, request: HttpRequest) -> JsonResponse:
        _areas, area = self.screen_areas(request)
        figures = screen.screen_figures(area=area, now=timezone.now())
        return JsonResponse({"area": {"id": area.pk, "name": area.name},
                             **screen.screen_display(figures)})


class ScreenMapView(ScreenStaffView):
    """The big screen's map: this month's petitions per building of the screen's area, as a
    GeoJSON FeatureCollection (the one map's shape), the same for every screen of the area
    and cached for the minute (reports.screen.screen_map)."""

    def get(self, request: HttpRequest) -> JsonResponse:
        _areas, area = self.screen_areas(request)
        return JsonResponse(screen.screen_map(area=area, now=timezone.now()),
                            content_type="application/geo+json",
                            json_dumps_params={"ensure_ascii": False})


# --- the one map -------------------------------------------------------------------------------


class MapStaffView(StaffRequiredMixin, View):
    denied_message = _lazy("页面不存在。")

    def has_access(self, user: User) -> bool:
        return rules.may_open_map(user)


def _map_form(query: QueryDict) -> MapFilterForm:
    categories = [(category.pk, category.name)
                  for category in Category.objects.order_by("sort_order", "id").only("id", "name")]
    return MapFilterForm(query, categories=categories)


def _map_filters(form: MapFilterForm) -> selectors.MapFilters:
    data = form.cleaned_data
    return selectors.MapFilters(date_from=data["date_from"], date_to=data["date_to"],
                                tier=data["tier"], category=data["category"],
                                state=data["state"])


def _map_errors(form: MapFilterForm) -> str:
    parts = []
    for name, problems in form.errors.items():
        texts = "，".join(str(problem) for problem in problems)
        field = form.fields.get(name)
        parts.append(f"{field.label}：{texts}" if field is not None else texts)
    return _("筛选条件有误：%(errors)s") % {"errors": "；".join(parts)}


class PetitionMapView(MapStaffView):
    """The page: the filters, the map (static/js/petition-map.js draws it from the data URL
    with the same query) and its legend; the buildings' table comes with the map."""

    def get(self, request: HttpRequest) -> HttpResponse:
        # The default period written out, so the date fields show it and the data URL says it.
        query_dict = request.GET.copy()
        today = timezone.localdate()
        for name, default in (("date_from", today.replace(day=1)), ("date_to", today)):
            if not query_dict.get(name):
                query_dict[name] = default.isoformat()
        form = _map_form(query_dict)
        is_valid = form.is_valid()
        query = query_dict.urlencode()
        context = {
            "form": form, "active": "map",
            "error": "" if is_valid else _map_errors(form),
            "data_url": reverse("reports:map-data") + (f"?{query}" if query else ""),
            "tile_url": settings.MAP_TILE_URL,
            "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
        }
        return render(request, "reports/map.html", context, status=200 if is_valid else 400)


class PetitionMapDataView(MapStaffView):
    """The map's data: a GeoJSON FeatureCollection (selectors.petition_map); bad filters are
    a 400 with the API's error shape, in Chinese."""

    def get(self, request: HttpRequest) -> JsonResponse:
        form = _map_form(request.GET)
        if not form.is_valid():
            return JsonResponse({"code": "invalid", "message": _map_errors(form),
                                 "errors": form.errors.get_json_data()},
                                status=400, json_dumps_params={"ensure_ascii": False})
        data = selectors.petition_map(user=signed_in_user(request.user),
                                      filters=_map_filters(form))
        return JsonResponse(data, content_type="application/geo+json",
                            json_dumps_params={"ensure_ascii": False})
