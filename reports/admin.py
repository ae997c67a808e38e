"""The street clerks' copy of the kept reports: listed in scope, downloaded through the
authorised media view (core.media), built only by the service (the reports page or the task)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _lazy

from core.admin import GenericModelAdmin
from core.admin_scope import ScopedChoicesMixin, choice_scope_register
from reports import rules
from reports.models import MonthlyReport

choice_scope_register(MonthlyReport, rule=rules.visible_q)


@admin.register(MonthlyReport)
class ReportAdmin(ScopedChoicesMixin, GenericModelAdmin[MonthlyReport]):
    list_display = ("scope", "kind", "period_start", "generated_at", "generated_by", "download")
    list_filter = ("kind", "scope")
    list_select_related = ("scope", "generated_by")
    fields = ("scope", "kind", "period_start", "generated_at", "generated_by", "download")
    # Built only by reports.services: nothing here is edited, the workbook least of all.
    readonly_fields = (*fields, "file")

    @admin.display(description=_lazy("下载"))
    def download(self, report: MonthlyReport) -> SafeString:
        return format_html('<a href="{}" download>{}</a>', report.file.url,
                           _lazy("下载 .xlsx"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
