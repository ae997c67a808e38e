"""An iCalendar (RFC 5545) feed of a compound's sessions, written by hand: no dependency needed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from deliberation.models import Session


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """Fold a content line at 75 octets without splitting a UTF-8 character."""
    parts: list[str] = []
    current = ""
    for character in line:
        limit = 75 if not parts else 74
        if len((current + character).encode()) > limit:
            parts.append(current)
            current = character
        else:
            current += character
    parts.append(current)
    return "\r\n ".join(parts)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar_for_sessions(sessions: Iterable[Session], *, name: str, host: str) -> str:
    stamp = _utc(timezone.now())
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//社区治理门户//协商议事//ZH",
             "CALSCALE:GREGORIAN", "METHOD:PUBLISH", f"X-WR-CALNAME:{_escape(name)}",
             "X-WR-TIMEZONE:Asia/Shanghai"]
    for session in sessions:
        ends_at = session.ends_at or session.starts_at + timedelta(hours=2)
        agenda = "\n".join(f"{index}. {item.title}"
                           for index, item in enumerate(session.agenda_items.all(), start=1))
        status = "CANCELLED" if session.status == Session.Status.CANCELLED else "CONFIRMED"
        lines += [
            "BEGIN:VEVENT",
            f"UID:deliberation-session-{session.pk}@{host}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_utc(session.starts_at)}",
            f"DTEND:{_utc(ends_at)}",
            f"SUMMARY:{_escape(session.title)}",
            f"LOCATION:{_escape(session.place or session.get_mode_display())}",
            f"DESCRIPTION:{_escape(agenda)}",
            f"STATUS:{status}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
