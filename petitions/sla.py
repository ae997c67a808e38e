"""The 7135 clock as pure functions of the moments and the holiday table — no `now()`.

Calendar days: a deadline is the start plus the duration.
Working days (the statutory calendar of core.workdays: holidays are skipped and make-up
Saturdays/Sundays count): whole days of the duration are counted as working days, in local
time, keeping the time of day; a petition accepted on a day off starts its clock at 00:00 of the
next working day. Any part of the duration below a day (and the 7-minute arrival clock) runs in
calendar time, because someone is on duty every day. A working-day deadline that runs past the
table's end is counted Monday to Friday and marked `is_estimated`, which the petition keeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from core.workdays import WorkCalendar

CALENDAR_DAYS = "calendar"
WORKING_DAYS = "working"
TIERS = ("microgrid", "grid", "street")


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
    # A working-day deadline ran past the holiday table's end: counted Monday to Friday.
    is_estimated: bool = False

    def for_tier(self, tier: str) -> datetime:
        return {"microgrid": self.microgrid_due_at, "grid": self.grid_due_at,
                "street": self.street_due_at}[tier]


def add_working_days(start: datetime, days: int, *, workdays: WorkCalendar) -> datetime:
    """`days` working days after `start` (aware), at the same local time of day."""
    local = timezone.localtime(start)
    if not workdays.is_workday(local.date()):
        local = datetime.combine(workdays.next_workday(local.date()), time(0),
                                 tzinfo=local.tzinfo)
    day = local.date()
    for _count in range(days):
        day = workdays.next_workday(day)
    return datetime.combine(day, local.timetz())


def counts_working_days(duration: timedelta, *, calendar: str) -> bool:
    return calendar == WORKING_DAYS and duration >= timedelta(days=1)


def deadline_after(start: datetime, duration: timedelta, *, calendar: str,
                   workdays: WorkCalendar | None = None) -> datetime:
    """When a clock of `duration` started at `start` runs out."""
    if not counts_working_days(duration, calendar=calendar):
        return start + duration
    whole_days = duration.days
    remainder = duration - timedelta(days=whole_days)
    return add_working_days(start, whole_days, workdays=workdays or WorkCalendar()) + remainder


def compute_deadlines(accepted_at: datetime, durations: Durations, *,
                      workdays: WorkCalendar | None = None) -> Deadlines:
    """All the clocks of one petition, measured from acceptance.

    One `WorkCalendar` serves the three clocks (a batch may pass its own to share it further),
    so a petition costs two queries of the holiday table, whatever its durations.
    """
    workdays = workdays or WorkCalendar()
    tiers = {tier: deadline_after(accepted_at, durations.for_tier(tier),
                                  calendar=durations.calendar, workdays=workdays)
             for tier in TIERS}
    start = timezone.localdate(accepted_at)
    is_estimated = any(
        counts_working_days(durations.for_tier(tier), calendar=durations.calendar)
        and not workdays.covers(start, timezone.localdate(deadline))
        for tier, deadline in tiers.items())
    return Deadlines(
        arrival_due_at=accepted_at + durations.arrival,
        microgrid_due_at=tiers["microgrid"], grid_due_at=tiers["grid"],
        street_due_at=tiers["street"], is_estimated=is_estimated,
    )


def reminder_at(start: datetime | None, deadline: datetime | None,
                share: Decimal) -> datetime | None:
    """When the holder is reminded (催办) of a clock running from `start` to `deadline`: once
    `share` of it has gone. The share of the wall-clock span, so a working-day deadline over a
    holiday is reminded proportionally later."""
    if start is None or deadline is None:
        return None
    return start + (deadline - start) * float(share)


def initial_tier(size: str) -> str:
    """Triage: a small matter starts in the micro-grid, a big one in the grid, a hard one at
    the street."""
    return {"small": "microgrid", "big": "grid", "hard": "street"}.get(size, "microgrid")


def is_late(deadline: datetime | None, moment: datetime) -> bool:
    return deadline is not None and moment > deadline
