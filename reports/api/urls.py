from __future__ import annotations

from django.urls import path

from reports.api.views import StatsReportView

urlpatterns = [
    path("stats/report/", StatsReportView.as_view(), name="stats-report"),
]
