from __future__ import annotations

from django.urls import path

from reports.api.views import StatsRankingsView, StatsReportView

urlpatterns = [
    path("stats/report/", StatsReportView.as_view(), name="stats-report"),
    path("stats/rankings/", StatsRankingsView.as_view(), name="stats-rankings"),
]
