"""An iCalendar (RFC 5545) feed of a compound's sessions (core.ical writes the text)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.utils import timezone

from core.ical import ical_calendar, ical_escape, ical_utc
from deliberation.models import Session


def calendar_for_sessions(sessions: Iterable[Session], *, name: str, host: str) -> str:
    stamp = ical_utc(timezone.now())
    events = []
    for session in sessions:
        ends_at = session.ends_at or session.starts_at + timedelta(hours=2)
        agenda = "\n".join(f"{index}. {item.title}"
                           for index, item in enumerate(session.agenda_items.all(), start=1))
        status = "CANCELLED" if session.status == Session.Status.CANCELLED else "CONFIRMED"
        events.append([
            f"UID:deliberation-session-{session.pk}@{host}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{ical_utc(session.starts_at)}",
            f"DTEND:{ical_utc(ends_at)}",
            f"SUMMARY:{ical_escape(session.title)}",
            f"LOCATION:{ical_escape(session.place or session.get_mode_display())}",
            f"DESCRIPTION:{ical_escape(agenda)}",
            f"STATUS:{status}",
        ])
    return ical_calendar(name=name, product="协商议事", events=events)
