"""The 7135 clock as pure functions: no database, no `now()` — give them the moments.

Calendar days: a deadline is the start plus the duration.
Working days (Chinese statutory calendar, `chinese_calendar.is_workday`: holidays are skipped and
make-up Saturdays/Sundays count): whole days of the duration are counted as working days, in local
time, keeping the time of day; a petition accepted on a day off starts its clock at 00:00 of the
next working day. Any part of the duration below a day (and the 7-minute arrival clock) runs in
calendar time, because someone is on duty every day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import chinese_calendar
from django.utils import timezone

CALENDAR_DAYS = "calendar"
WORKING_DAYS = "working"
TIERS = ("microgrid", "grid", "street")
# chinese_calendar only knows the years it ships data for; past them fall back to weekdays.
_MAX_SEARCH_DAYS = 400


@dataclass(frozen=True)
class Durations:
    arrival: timedelta
    microgrid: timedelta
    grid: timedelta
    street: timedelta
    calendar: str = CALENDAR_DAYS

    def for_tier(self, tier: str) -> timedelta:
        return {"microgrid": self.microgrid, "grid": self.grid, "street": self.street}[tier]


@dataclass(frozen=True)
class Deadlines:
    arrival_due_at: datetime
    microgrid_due_at: datetime
    grid_due_at: datetime
    street_due_at: datetime

    def for_tier(self, tier: str) -> datetime:
        return {"microgrid": self.microgrid_due_at, "grid": self.grid_due_at,
                "street": self.street_due_at}[tier]


def is_workday(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def next_workday(day: date) -> date:
    for _step in range(_MAX_SEARCH_DAYS):
        day += timedelta(days=1)
        if is_workday(day):
            return day
    return day


def add_working_days(start: datetime, days: int) -> datetime:
    """`days` working days after `start` (aware), at the same local time of day."""
    local = timezone.localtime(start)
    if not is_workday(local.date()):
        local = datetime.combine(next_workday(local.date()), time(0), tzinfo=local.tzinfo)
    day = local.date()
    for _count in range(days):
        day = next_workday(day)
    moved = datetime.combine(day, local.timetz())
    return moved


def deadline_after(start: datetime, duration: timedelta, *, calendar: str) -> datetime:
    """When a clock of `duration` started at `start` runs out."""
    if calendar != WORKING_DAYS or duration < timedelta(days=1):
        return start + duration
    whole_days = duration.days
    remainder = duration - timedelta(days=whole_days)
    return add_working_days(start, whole_days) + remainder


def compute_deadlines(accepted_at: datetime, durations: Durations) -> Deadlines:
    """All the clocks of one petition, measured from acceptance."""
    return Deadlines(
        arrival_due_at=accepted_at + durations.arrival,
        microgrid_due_at=deadline_after(accepted_at, durations.microgrid,
                                        calendar=durations.calendar),
        grid_due_at=deadline_after(accepted_at, durations.grid, calendar=durations.calendar),
        street_due_at=deadline_after(accepted_at, durations.street, calendar=durations.calendar),
    )


def initial_tier(size: str) -> str:
    """Triage: a small matter starts in the micro-grid, a big one in the grid, a hard one at
    the street."""
    return {"small": "microgrid", "big": "grid", "hard": "street"}.get(size, "microgrid")


def is_late(deadline: datetime | None, moment: datetime) -> bool:
    return deadline is not None and moment > deadline
