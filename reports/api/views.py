"""The stats API under /api/v1/stats/: the monthly report's figures for any area and period, as
JSON for district dashboards. Who may read which area: reports.rules.stats_scope_path (a key
within its scope area, street admins and community staff within theirs).

Figures are cached per area, period and language: a whole past period for 10 minutes, the
current one for a minute (a dashboard's refresh must not wait on a stale month). The scope is
checked on every request, before the cache is read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.core.cache import cache
from django.utils import timezone, translation
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.views import validated
from petitions.models import Tier
from reports import rankings, selectors
from reports.api import serializers as io
from reports.models import MonthlyReport
from reports.selectors import ReportFigures
from territory.models import Area

PAST_PERIOD_SECONDS = 600
CURRENT_PERIOD_SECONDS = 60


def period_code(start: date, kind: str) -> str:
    if kind == MonthlyReport.Kind.QUARTER:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"{start:%Y-%m}"


def _rate(rates: dict[str, Any], counts: dict[str, int], key: str,
          numerator: str) -> dict[str, Any]:
    return {"rate": rates[f"{key}_rate"], "numerator": counts[numerator],
            "n": rates[f"{key}_sample"]}


def _area(area: Area) -> dict[str, Any]:
    return {"id": area.pk, "name": area.name, "kind": area.kind,
            "kind_label": area.get_kind_display()}


def figures_payload(figures: ReportFigures, *, kind: str, today: date) -> dict[str, Any]:
    """The figures as the output serializer's plain data."""
    area, counts, rates = figures.area, figures.counts, figures.rates
    tier_labels = dict(Tier.choices)
    return {
        "area": _area(area),
        "period": {"code": period_code(figures.start, kind), "kind": kind,
                   "start": figures.start, "end": figures.end - timedelta(days=1),
                   "is_complete": figures.end <= today},
        "intake": {
            "total": counts["submitted"],
            "by_channel": [{"code": t.code, "label": t.label, "n": t.n}
                           for t in figures.by_channel],
            "by_category": [{"id": int(t.code), "name": t.label, "n": t.n}
                            for t in figures.by_category],
            "by_subarea": [_subarea(part.area, part.n, parent=area)
                           for part in figures.by_subarea],
        },
        "rates": {
            "response": _rate(rates, counts, "response", "arrived_on_time"),
            "resolution": _rate(rates, counts, "resolution", "resolved"),
            "satisfaction": _rate(rates, counts, "satisfaction", "satisfied"),
            "on_time": [{"tier": tier, "tier_label": str(tier_labels[tier]),
                         "rate": rates["on_time_rate"][tier]["rate"],
                         "numerator": counts[f"on_time_{tier}"],
                         "n": rates["on_time_rate"][tier]["sample"]} for tier in Tier.values],
        },
        "overdue": _numbers(figures.overdue),
        "supervised": _numbers(figures.supervised),
        "top_pairs": [{"compound": pair["building__compound__name"],
                       "building": pair["building__number"],
                       "category": pair["category__name"], "n": pair["n"]}
                      for pair in figures.top_pairs],
        "topics_closed": figures.topics_closed,
        "volunteer_hours": figures.volunteer_hours,
        "computed_at": timezone.now(),
    }


def _subarea(child: Area | None, n: int, *, parent: Area) -> dict[str, Any]:
    if child is None:  # placed at the parent itself
        return {"id": None, "name": parent.name, "kind": parent.kind, "n": n}
    return {"id": child.pk, "name": child.name, "kind": child.kind, "n": n}


def _numbers(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"count": len(rows), "petitions": [row["id"] for row in rows]}


def cached_figures(*, name: str, area: Area, start: date, kind: str,
                   compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`compute()`'s rendered figures of one area and period, from the cache when fresh
    enough: 10 minutes for a whole past period, a minute for the current one. `name` keeps
    each endpoint's figures apart (report, rankings, …); the language is in the key, for the
    labels."""
    key = f"reports:stats:v1:{name}:{area.pk}:{kind}:{start:%Y-%m}:{translation.get_language()}"
    data: dict[str, Any] | None = cache.get(key)
    if data is None:
        data = compute()
        complete = selectors.period_end(start, kind) <= timezone.localdate()
        cache.set(key, data, PAST_PERIOD_SECONDS if complete else CURRENT_PERIOD_SECONDS)
    return data


def rankings_payload(*, area: Area, start: date, kind: str, rate: str) -> dict[str, Any]:
    """The grids of `area` in its street's ranking (reports.rankings.grid_ranking): their
    ranks, rates with n and Wilson bounds are the street's, so a community's key sees where its
    grids stand among all of the street's; the median and exclusion counts are the street's."""
    street = area if area.depth == 1 else Area.objects.get(path=area.path[:Area.steplen])
    end = selectors.period_end(start, kind)
    ranking = rankings.grid_ranking(street=street, start=start, end=end, rate=rate)
    inside = [row for row in (*ranking.rows, *ranking.apart) if row.path.startswith(area.path)]
    grids = {path: (pk, kind) for path, pk, kind in Area.objects.filter(
        path__in=[row.path for row in inside]).values_list("path", "pk", "kind")}

    def row_data(row: rankings.RankingRow) -> dict[str, Any]:
        pk, grid_kind = grids[row.path]
        return {"rank": row.rank, "grid": {"id": pk, "name": row.name, "kind": grid_kind,
                                           "n": row.n},
                "rate": row.rate, "numerator": row.successes, "n": row.n,
                "low": round(row.low, 4), "high": round(row.high, 4)}

    payload = {
        "area": _area(area), "street": _area(street),
        "period": {"code": period_code(start, kind), "kind": kind, "start": start,
                   "end": end - timedelta(days=1), "is_complete": end <= timezone.localdate()},
        "rate": rate, "rate_label": ranking.rate_label, "min_sample": ranking.min_sample,
        "median": ranking.median, "excluded": ranking.excluded, "pending": ranking.pending,
        "ranked": [row_data(row) for row in inside if row.rank is not None],
        "apart": [row_data(row) for row in inside if row.rank is None],
        "computed_at": timezone.now(),
    }
    return dict(io.StatsRankingsOutput(payload).data)


def report_payload(*, area: Area, start: date, kind: str) -> dict[str, Any]:
    figures = selectors.report_figures(area=area, start=start, kind=kind)
    payload = figures_payload(figures, kind=kind, today=timezone.localdate())
    return dict(io.StatsReportOutput(payload).data)


class StatsView(APIView):
    """A stats endpoint: `?area=&period=` read, scope checked (reports.rules), then figures.
    Throttled as every API view is (settings: per key, per account)."""

    input_class: type[io.StatsQueryInput] = io.StatsQueryInput

    def area_and_period(self, request: Request) -> tuple[Area, date, str, dict[str, Any]]:
        """The area in scope, the period's first day and kind, and the whole validated query."""
        # Who may read figures at all comes first: a resident learns nothing from a 400.
        selectors.stats_scope_for_user(user=request.user)
        query = validated(self.input_class, request.query_params)
        area = selectors.stats_area_for_user(user=request.user, area_id=query.get("area"))
        start, kind = query["period"]
        return area, start, kind, query


STATS_ERRORS = {400: OpenApiResponse(description="期间或区域编号无效（中文 message）"),
                403: OpenApiResponse(description="无权查看统计数据"),
                404: OpenApiResponse(description="区域不存在或不在调用者的管辖范围内")}


class StatsReportView(StatsView):
    @extend_schema(
        summary="区域统计（与月报/季报相同的数字）",
        description=(
            "一个区域（街道、社区、网格）一个期间的统计：受理量按渠道、类别和下一级区域，"
            "三率与各层级按时办结率（各带分子和样本数），超期与督办的诉求编号，高发楼栋与类别，"
            "议题办结数和志愿服务时长。外部系统只能查询其 API 密钥管辖区域内的区域"
            "（未设定管辖区域的密钥一律拒绝）；街道管理员、社区工作人员查询各自管辖范围内的区域。"),
        parameters=[io.StatsQueryInput],
        responses={200: io.StatsReportOutput, **STATS_ERRORS},
    )
    def get(self, request: Request) -> Response:
        area, start, kind, _query = self.area_and_period(request)
        return Response(cached_figures(
            name="report", area=area, start=start, kind=kind,
            compute=lambda: report_payload(area=area, start=start, kind=kind)))


class StatsRankingsView(StatsView):
    input_class = io.StatsRankingsInput

    @extend_schema(
        summary="网格考核排名（与考核排名页相同的数字）",
        description=(
            "一个期间内街道各网格按所选指标的排名：每个网格的比率、分子和样本数、Wilson 95% "
            "置信区间，按区间下限排名；样本数不足 RANKING_MIN_SAMPLE 的网格单列（apart）。"
            "经审批剔除考核（申诉剔除）的诉求不计入，其件数与待审批数按全街道给出。"
            "查询社区或网格时只列出其中的网格，名次和中位数仍是全街道的。"
            "人员排名含工作人员姓名，只在考核排名页面向有权查看的人显示，不经本接口提供。"),
        parameters=[io.StatsRankingsInput],
        responses={200: io.StatsRankingsOutput, **STATS_ERRORS},
    )
    def get(self, request: Request) -> Response:
        area, start, kind, query = self.area_and_period(request)
        rate = query["rate"]
        return Response(cached_figures(
            name=f"rankings-{rate}", area=area, start=start, kind=kind,
            compute=lambda: rankings_payload(area=area, start=start, kind=kind, rate=rate)))
