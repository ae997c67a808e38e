"""Writing the street's reports: one workbook per street, kind and period, kept."""

from __future__ import annotations

from datetime import date, datetime, time

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ApplicationError
from petitions.extensions import grid_clock_rows
from reports import rules
from reports.models import MonthlyReport
from reports.selectors import report_figures
from reports.workbook import report_workbook
from territory.models import Area


def report_title(*, street: Area, kind: str, period_start: date) -> str:
    if kind == MonthlyReport.Kind.QUARTER:
        period = _("%(year)s年第%(quarter)s季度") % {
            "year": period_start.year, "quarter": (period_start.month - 1) // 3 + 1}
        return _("%(street)s%(period)s社区治理季报") % {"street": street.name, "period": period}
    period = _("%(year)s年%(month)s月") % {"year": period_start.year,
                                          "month": period_start.month}
    return _("%(street)s%(period)s社区治理月报") % {"street": street.name, "period": period}


def period_first_day(day: date, kind: str) -> date:
    """The first day of `day`'s month, or of its quarter."""
    if kind == MonthlyReport.Kind.QUARTER:
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return day.replace(day=1)


@transaction.atomic
def report_generate(*, street: Area, kind: str, period_start: date,
                    actor: User | None = None, replace: bool = True) -> MonthlyReport:
    """The street's report for the period, built now; `replace=False` keeps one already kept
    (the schedule's way: harmless twice). The row is locked, so two builds never interleave."""
    if actor is not None and not rules.may_generate(actor, street):
        raise ApplicationError(_("您无权生成该街道的报表。"))
    if kind not in MonthlyReport.Kind.values or period_start != period_first_day(period_start,
                                                                                kind):
        raise ApplicationError(_("报表期间无效。"))
    report, created = MonthlyReport.objects.select_for_update().get_or_create(
        scope=street, kind=kind, period_start=period_start,
        defaults={"generated_at": timezone.now()})
    if not created and not replace:
        return report
    old_name = report.file.name
    figures = report_figures(area=street, start=period_start, kind=kind)
    # 延期 and 黄牌/红牌 per grid (petitions/extensions.py), a sheet of their own.
    grid_clocks = grid_clock_rows(
        area_path=street.path,
        since=timezone.make_aware(datetime.combine(figures.start, time.min)),
        until=timezone.make_aware(datetime.combine(figures.end, time.min)))
    content = report_workbook(figures, title=report_title(street=street, kind=kind,
                                                          period_start=period_start),
                              grid_clocks=grid_clocks)
    report.generated_at, report.generated_by = timezone.now(), actor
    report.file.save(f"{street.pk}-{kind}-{period_start:%Y-%m}.xlsx", ContentFile(content),
                     save=False)
    report.save()
    if old_name:
        # The replaced workbook goes once the new row is committed (a rollback keeps it).
        transaction.on_commit(lambda: default_storage.delete(old_name))
    return report


def reports_generate_due(*, today: date) -> int:
    """Each street's report of the last whole month (and quarter) if not yet kept; the count
    built. Run hourly: the first run on the 1st builds them, later runs find them kept."""
    built = 0
    for kind in MonthlyReport.Kind.values:
        current = period_first_day(today, kind)
        previous = period_first_day(date.fromordinal(current.toordinal() - 1), kind)
        kept = set(MonthlyReport.objects.filter(kind=kind, period_start=previous)
                   .values_list("scope_id", flat=True))
        for street in Area.objects.filter(kind=Area.Kind.STREET).exclude(pk__in=kept):
            report_generate(street=street, kind=kind, period_start=previous, replace=False)
            built += 1
    return built
