"""A volunteer's approved hours for one year, as a CSV laid out for the bulk import of service
hours (服务时长批量导入) on the national volunteer service system, 中国志愿服务网
(chinavolunteer.mca.gov.cn).

Columns, in order (the header row carries these names exactly):

| column | content |
|---|---|
| 序号 | 1, 2, … within the file |
| 姓名 | the volunteer's name as registered here |
| 证件类型 | left blank: the portal holds no ID documents; staff fill it from the platform's roll |
| 证件号码 | left blank, for the same reason (the platform matches people by ID number) |
| 手机号码 | the volunteer's phone, whole (so the export is audited as a reveal) |
| 服务日期 | the day served, YYYY-MM-DD |
| 开始时间 / 结束时间 | YYYY-MM-DD HH:MM: an activity's check-in and check-out, a shift's |
|  | check-in and end; blank for staff-added hours and care visits (hours alone) |
| 服务时长（小时） | the approved hours, one decimal |
| 服务项目 | the activity's title, the post's name, 关爱走访, or staff's note |
| 服务内容 | how the hours came: 签到记录 / 值班签到 / 关爱走访 / 工作人员补录 |
| 服务地点 | the activity's or post's place, when known |
| 记录编号 | this portal's entry number, to reconcile the import |

Only approved hours leave the system; pending and rejected ones, and no-shows, never do.
The platform's template is revised from time to time: compare the header with the template
downloaded from it before the first import of a year. Every cell goes through
core.spreadsheets.formula_escape (a name like =HYPERLINK(…) stays text in Excel and WPS).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.utils import timezone

from volunteers.models import HoursEntry

HEADER = ("序号", "姓名", "证件类型", "证件号码", "手机号码", "服务日期", "开始时间", "结束时间",
          "服务时长（小时）", "服务项目", "服务内容", "服务地点", "记录编号")


def _moment(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _span(entry: HoursEntry) -> tuple[datetime | None, datetime | None]:
    if entry.signup is not None:
        return entry.signup.checked_in_at, entry.signup.checked_out_at
    if entry.shift is not None:
        return entry.shift.checked_in_at, entry.shift.ends_at
    return None, None


def _project(entry: HoursEntry) -> tuple[str, str]:
    """(服务项目, 服务地点)."""
    if entry.activity is not None:
        return entry.activity.title, entry.activity.location
    if entry.shift is not None:
        return entry.shift.post.name, entry.shift.post.location
    return entry.note, ""


def hours_rows(entries: Iterator[HoursEntry] | list[HoursEntry]) -> Iterator[list[Any]]:
    for number, entry in enumerate(entries, start=1):
        start, end = _span(entry)
        project, place = _project(entry)
        yield [number, entry.volunteer.name, "", "", entry.volunteer.phone,
               entry.served_on.isoformat(), _moment(start), _moment(end), f"{entry.hours:.1f}",
               project, entry.get_source_display(), place, entry.pk]
