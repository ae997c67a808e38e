"""The statutory calendar (法定节假日 and 调休上班) as data: one table every app counts working
days from.

Why here: petitions (the 7135 working-day deadlines) and deliberation (moving the 15th off a
public holiday) both count working days, the feature apps never import each other, and the
calendar needs nothing but dates, so it lives in the shared kernel below both.

The rule: a day of the table that says 放假 is off, one that says 调休上班 is a working day, any
other day is a working day from Monday to Friday. The table covers a year only when that year is
marked complete (`CalendarYear.is_complete`). Past the table's end the same Monday-to-Friday rule
gives an estimate, and `covers()` tells the caller so, which must say so in turn: nothing here
guesses silently. The end is watched by a system check (core.checks) and a banner for street
admins (core.context_processors), 60 days ahead.

Reads are set-based: a `WorkCalendar` loads a year and the next on first use (two queries for any
deadline within them, whatever its length) and lives for one computation or one batch, so an edit
in the admin is seen by the next computation in every process, with no cache to invalidate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import chinese_calendar
from chinese_calendar import constants
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.models import WEEKEND_START, CalendarDay, CalendarYear

WARNING_DAYS = 60  # the system check and the banner speak up this many days before the end
_MAX_DAYS_OFF = 60  # no run of days off is longer; more means a broken table, not a holiday


class WorkCalendar:
    """The holiday table as one computation reads it.

    Built empty it loads from the database as it is asked; built with `days` and
    `complete_years` it is a fixed calendar and never queries.
    """

    def __init__(self, *, days: Mapping[date, tuple[str, str]] | None = None,
                 complete_years: Iterable[int] | None = None) -> None:
        self._days: dict[date, tuple[str, str]] = dict(days or {})
        self._is_fixed = complete_years is not None
        self._complete_years: frozenset[int] | None = (
            frozenset(complete_years) if complete_years is not None else None)
        self._loaded_years: set[int] = set()

    # --- what a day is --------------------------------------------------------------------

    def is_workday(self, day: date) -> bool:
        kind = self._entry(day)[0]
        if kind:
            return kind == CalendarDay.Kind.WORKDAY
        return day.weekday() < WEEKEND_START

    def is_public_holiday(self, day: date) -> bool:
        """A statutory day off (not an ordinary weekend)."""
        return self._entry(day)[0] == CalendarDay.Kind.HOLIDAY

    def next_workday(self, day: date) -> date:
        return self._nearest_workday(day, step=timedelta(days=1))

    def previous_workday(self, day: date) -> date:
        return self._nearest_workday(day, step=timedelta(days=-1))

    def add_workdays(self, start: datetime, days: int) -> datetime:
        """`days` working days after `start` (aware), at the same local time of day; a start on
        a day off counts from the next working day's midnight."""
        local = timezone.localtime(start)
        if not self.is_workday(local.date()):
            local = datetime.combine(self.next_workday(local.date()), time(0),
                                     tzinfo=local.tzinfo)
        day = local.date()
        for _count in range(days):
            day = self.next_workday(day)
        return datetime.combine(day, local.timetz())

    def _nearest_workday(self, day: date, *, step: timedelta) -> date:
        for _step in range(_MAX_DAYS_OFF):
            day += step
            if self.is_workday(day):
                return day
        raise ApplicationError(_("节假日表有误：%(day)s 之前连续 %(count)s 天都不是工作日。")
                               % {"day": day.isoformat(), "count": _MAX_DAYS_OFF})

    # --- what the table knows -------------------------------------------------------------

    def is_covered(self, day: date) -> bool:
        return day.year in self._complete()

    def covers(self, first: date, last: date) -> bool:
        """Whether every day from `first` to `last` lies in a year the table covers."""
        complete = self._complete()
        return all(year in complete for year in range(first.year, last.year + 1))

    # --- loading --------------------------------------------------------------------------

    def _entry(self, day: date) -> tuple[str, str]:
        if not self._is_fixed and day.year not in self._loaded_years:
            self._load(day.year)
        return self._days.get(day, ("", ""))

    def _load(self, year: int) -> None:
        # A year and the next in one query: a deadline in December reads January too.
        years = {year, year + 1} - self._loaded_years
        rows = CalendarDay.objects.filter(
            date__gte=date(min(years), 1, 1), date__lte=date(max(years), 12, 31),
        ).values_list("date", "kind", "name")
        self._days.update((day, (kind, name)) for day, kind, name in rows)
        self._loaded_years |= years

    def _complete(self) -> frozenset[int]:
        if self._complete_years is None:
            self._complete_years = frozenset(complete_years())
        return self._complete_years


def complete_years() -> list[int]:
    return list(CalendarYear.objects.filter(is_complete=True).values_list("year", flat=True))


# --- the end of the table -------------------------------------------------------------------


def calendar_end(*, today: date) -> date | None:
    """The last day the table covers, counting on from today's year without a gap; when today's
    year is not covered, the end of the last covered year before it (a day already past).
    None when no year is covered at all."""
    complete = set(complete_years())
    if today.year in complete:
        year = today.year
        while year + 1 in complete:
            year += 1
        return date(year, 12, 31)
    earlier = [year for year in complete if year < today.year]
    return date(max(earlier), 12, 31) if earlier else None


@dataclass(frozen=True)
class CalendarStatus:
    end: date | None
    days_left: int | None  # negative once the end has passed; None for an empty table

    @property
    def is_ending(self) -> bool:
        return self.days_left is None or self.days_left <= WARNING_DAYS

    @property
    def has_ended(self) -> bool:
        return self.days_left is None or self.days_left < 0


def calendar_status(*, today: date | None = None) -> CalendarStatus:
    today = today or timezone.localdate()
    end = calendar_end(today=today)
    return CalendarStatus(end=end, days_left=None if end is None else (end - today).days)


# --- seeding from the chinese-calendar package ----------------------------------------------


def package_days() -> dict[int, list[tuple[date, str, str]]]:
    """{year: [(date, kind, Chinese name)]} for every year the installed package knows."""
    by_year: dict[int, list[tuple[date, str, str]]] = {}
    for source, kind in ((constants.holidays, CalendarDay.Kind.HOLIDAY),
                         (constants.workdays, CalendarDay.Kind.WORKDAY)):
        for day, english in source.items():
            # An Enum whose __new__ takes (english, chinese, days) and sets `chinese`; a lookup
            # by value takes the value alone. mypy, reading the untyped source, sees neither.
            name = constants.Holiday(english).chinese  # type: ignore[call-arg, attr-defined]
            by_year.setdefault(day.year, []).append((day, str(kind), name))
    return by_year


def calendar_import_package(*, year_model: Any = CalendarYear,
                            day_model: Any = CalendarDay) -> list[int]:
    """Add the years the installed chinese-calendar knows and the table lacks, as complete.

    A year already in the table is left alone: street admins may have corrected it. The data
    migration passes its historical models; `manage.py calendar_import` the real ones after an
    upgrade of the package. Returns the years added.
    """
    known = set(year_model.objects.values_list("year", flat=True))
    new = {year: days for year, days in package_days().items() if year not in known}
    year_model.objects.bulk_create([
        year_model(year=year, is_complete=True,
                   source=f"chinese-calendar {chinese_calendar.__version__}")
        for year in sorted(new)])
    day_model.objects.bulk_create([
        day_model(year_id=year, date=day, kind=kind, name=name)
        for year, days in new.items() for day, kind, name in days], batch_size=500)
    return sorted(new)
