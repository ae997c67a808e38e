from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("统计报表")

    def ready(self) -> None:
        from core.media import media_register
        from reports.models import MonthlyReport
        from reports.selectors import report_get_for_media

        # A report's workbook opens only to staff whose scope meets its street (reports.rules).
        media_register(MonthlyReport, "file", access=report_get_for_media)
