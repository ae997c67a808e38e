"""iCalendar (RFC 5545) text, written by hand: escaping, line folding, UTC stamps and the
calendar's frame (the sessions' feed and the volunteers' shifts)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime


def ical_escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def ical_fold(line: str) -> str:
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


def ical_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def ical_calendar(*, name: str, product: str, events: Iterable[list[str]]) -> str:
    """A VCALENDAR of the given VEVENT bodies (their lines between BEGIN and END)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:-//社区治理门户//{product}//ZH",
             "CALSCALE:GREGORIAN", "METHOD:PUBLISH", f"X-WR-CALNAME:{ical_escape(name)}",
             "X-WR-TIMEZONE:Asia/Shanghai"]
    for event in events:
        lines += ["BEGIN:VEVENT", *event, "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "\r\n".join(ical_fold(line) for line in lines) + "\r\n"
