"""The report as an .xlsx a clerk can forward unchanged: one sheet per section, Chinese headings,
each rate beside its numerator and denominator (a rate without its n misleads)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from petitions.models import PetitionState, Tier
from reports.selectors import ReportFigures

BOLD = Font(bold=True)


def report_workbook(figures: ReportFigures, *, title: str,
                    grid_clocks: Sequence[dict[str, Any]] = ()) -> bytes:
    """The workbook's bytes."""
    book = Workbook()
    _summary_sheet(book.worksheets[0], figures, title=title)
    _rates_sheet(book.create_sheet(_("三率")), figures)
    _petition_sheet(book.create_sheet(_("超期清单")), figures.overdue)
    _petition_sheet(book.create_sheet(_("督办清单")), figures.supervised)
    _pairs_sheet(book.create_sheet(_("高发楼栋与类别")), figures)
    _grid_clock_sheet(book.create_sheet(_("延期与黄红牌")), grid_clocks)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _heading(sheet: Worksheet, *cells: str) -> None:
    sheet.append(list(cells))
    for cell in sheet[sheet.max_row]:
        cell.font = BOLD


def _table(sheet: Worksheet, title: str, rows: Iterable[tuple[str, int]]) -> None:
    sheet.append([])
    _heading(sheet, title, _("件数"))
    for label, count in rows:
        sheet.append([label, count])


def _summary_sheet(sheet: Worksheet, figures: ReportFigures, *, title: str) -> None:
    sheet.title = _("概况")
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([_("统计区域"), figures.area.name])
    last_day = figures.end - timedelta(days=1)
    sheet.append([_("统计期间"), _("%(start)s 至 %(end)s") % {
        "start": f"{figures.start:%Y-%m-%d}", "end": f"{last_day:%Y-%m-%d}"}])
    sheet.append([_("受理诉求"), figures.rates["submitted"]])
    sheet.append([_("议题办结"), figures.topics_closed])
    sheet.append([_("志愿服务时长（小时）"), float(figures.volunteer_hours or 0)])
    _table(sheet, _("按渠道"), [(tally.label, tally.n) for tally in figures.by_channel])
    _table(sheet, _("按类别"), [(tally.label, tally.n) for tally in figures.by_category])
    # A street's report: one line per community (a petition placed at the street itself, in
    # no community, under the street's own name).
    _table(sheet, _("按社区"), [((part.area or figures.area).name, part.n)
                                for part in figures.by_subarea])
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 28


def _rates_sheet(sheet: Worksheet, figures: ReportFigures) -> None:
    counts, rates = figures.counts, figures.rates
    _heading(sheet, _("指标"), _("分子"), _("分母"), _("比率"))
    for label, key, numerator in ((_("响应率"), "response", "arrived_on_time"),
                                  (_("办结率"), "resolution", "resolved"),
                                  (_("满意率"), "satisfaction", "satisfied")):
        sheet.append([label, counts[numerator], rates[f"{key}_sample"], rates[f"{key}_rate"]])
    for tier, tier_label in Tier.choices:
        on_time = rates["on_time_rate"][tier]
        sheet.append([_("按时办结率（%(tier)s）") % {"tier": tier_label},
                      counts[f"on_time_{tier}"], on_time["sample"], on_time["rate"]])
    for row in sheet.iter_rows(min_row=2, min_col=4, max_col=4):
        row[0].number_format = "0.0%"
    sheet.column_dimensions["A"].width = 24


def _local(moment: datetime | None) -> str:
    return "" if moment is None else f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def _petition_sheet(sheet: Worksheet, rows: Sequence[dict[str, Any]]) -> None:
    _heading(sheet, _("编号"), _("类别"), _("小区"), _("楼栋"), _("承办区域"), _("层级"),
             _("状态"), _("受理时间"), _("时限"), _("督办时间"))
    tiers, states = dict(Tier.choices), dict(PetitionState.choices)
    for row in rows:
        sheet.append([row["id"], row["category__name"], row["building__compound__name"] or "",
                      row["building__number"] or "", row["area__name"],
                      str(tiers.get(row["tier"], row["tier"])),
                      str(states.get(row["state"], row["state"])),
                      _local(row["submitted_at"]), _local(row["due_at"]),
                      _local(row["supervised_at"])])


def _pairs_sheet(sheet: Worksheet, figures: ReportFigures) -> None:
    _heading(sheet, _("小区"), _("楼栋"), _("类别"), _("件数"))
    for pair in figures.top_pairs:
        sheet.append([pair["building__compound__name"], pair["building__number"],
                      pair["category__name"], pair["n"]])


def _grid_clock_sheet(sheet: Worksheet, rows: Sequence[dict[str, Any]]) -> None:
    """Per grid: 延期 requested in the period and their decisions, and the cards issued."""
    _heading(sheet, _("网格"), _("延期申请"), _("批准"), _("驳回"), _("待审批"), _("批准天数"),
             _("黄牌"), _("红牌"))
    for row in rows:
        sheet.append([row["name"], row["requested"], row["granted"], row["refused"],
                      row["pending"], row["days"], row["yellow"], row["red"]])
    sheet.column_dimensions["A"].width = 24
