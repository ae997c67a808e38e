"""The private calendar feed of a volunteer's duty shifts (a per-volunteer token URL).

Anyone holding the URL reads it, so it carries no one's name or phone: the post, its place
and the shift's state only.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from core.ical import ical_calendar, ical_escape, ical_utc
from volunteers.models import Shift

STATUS = {Shift.Status.CANCELLED: "CANCELLED", Shift.Status.NO_SHOW: "CANCELLED"}


def calendar_for_shifts(shifts: Iterable[Shift], *, name: str, host: str) -> str:
    stamp = ical_utc(timezone.now())
    events = [[
        f"UID:volunteer-shift-{shift.pk}@{host}",
        f"DTSTAMP:{stamp}",
        f"DTSTART:{ical_utc(shift.starts_at)}",
        f"DTEND:{ical_utc(shift.ends_at)}",
        f"SUMMARY:{ical_escape(shift.post.name)}（{ical_escape(shift.get_status_display())}）",
        f"LOCATION:{ical_escape(shift.post.location)}",
        f"DESCRIPTION:{ical_escape(shift.post.description)}",
        f"STATUS:{STATUS.get(Shift.Status(shift.status), 'CONFIRMED')}",
    ] for shift in shifts]
    return ical_calendar(name=name, product="志愿服务", events=events)
