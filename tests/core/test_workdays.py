"""The statutory calendar as data: the table, its coverage, its end and the system check."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
import time_machine
from django.core.exceptions import ValidationError

from core.checks import calendar_end_check
from core.models import CalendarDay, CalendarYear
from core.workdays import WorkCalendar, calendar_end, calendar_import_package

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def empty_table() -> None:
    """Each test states its own rows: the seeded years are dropped (inside the test's
    transaction, so the next test has them back)."""
    CalendarDay.objects.all().delete()
    CalendarYear.objects.all().delete()


def declare(year: int, *days: tuple[date, str, str], complete: bool = True) -> CalendarYear:
    row = CalendarYear.objects.create(year=year, is_complete=complete)
    CalendarDay.objects.bulk_create([CalendarDay(year=row, date=day, kind=kind, name=name)
                                     for day, kind, name in days])
    return row


# --- the table decides ------------------------------------------------------------------------


def test_holidays_and_make_up_workdays_come_from_the_table(empty_table):
    # 2030-06-05 is a Wednesday, 2030-06-08 a Saturday: neither means anything to the package.
    declare(2030, (date(2030, 6, 5), "holiday", "端午节"), (date(2030, 6, 8), "workday", "端午节"))
    workdays = WorkCalendar()
    assert not workdays.is_workday(date(2030, 6, 5))
    assert workdays.is_public_holiday(date(2030, 6, 5))
    assert workdays.is_workday(date(2030, 6, 8))
    assert not workdays.is_public_holiday(date(2030, 6, 8))
    assert workdays.is_workday(date(2030, 6, 4))  # an ordinary Tuesday
    assert not workdays.is_workday(date(2030, 6, 9))  # an ordinary Sunday
    assert not workdays.is_public_holiday(date(2030, 6, 9))
    assert workdays.next_workday(date(2030, 6, 4)) == date(2030, 6, 6)
    assert workdays.is_covered(date(2030, 12, 31))


def test_a_year_without_a_complete_row_is_not_covered_and_counts_weekdays(empty_table):
    declare(2031, (date(2031, 1, 1), "holiday", "元旦"), complete=False)
    workdays = WorkCalendar()
    assert not workdays.is_covered(date(2031, 1, 2))
    assert not workdays.is_covered(date(2032, 5, 1))  # no row at all
    # What was entered is used; the rest is Monday to Friday.
    assert not workdays.is_workday(date(2031, 1, 1))
    assert workdays.is_workday(date(2032, 5, 3))  # a Monday, maybe a holiday: unknown
    assert not workdays.covers(date(2030, 12, 30), date(2031, 1, 2))


def test_a_year_declared_complete_with_no_holidays_is_covered(empty_table):
    declare(2033)
    assert WorkCalendar().covers(date(2033, 1, 1), date(2033, 12, 31))


def test_the_seeded_table_agrees_with_chinese_calendar_on_every_day_it_knows():
    workdays = WorkCalendar()
    day, last = date(2004, 1, 1), date(2026, 12, 31)
    while day <= last:
        assert workdays.is_workday(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)
    assert workdays.covers(date(2004, 1, 1), last)
    assert not workdays.is_covered(date(2027, 1, 1))
    assert CalendarDay.objects.get(date=date(2026, 10, 1)).name == "国庆节"
    assert CalendarDay.objects.get(date=date(2026, 10, 10)).get_kind_display() == "调休上班"


def test_importing_the_package_again_adds_nothing_and_keeps_edits():
    CalendarDay.objects.filter(date=date(2026, 10, 1)).update(name="国庆节（已核对）")
    assert calendar_import_package() == []
    assert CalendarDay.objects.get(date=date(2026, 10, 1)).name == "国庆节（已核对）"


def test_counting_working_days_costs_two_queries_whatever_the_span(django_assert_num_queries):
    with django_assert_num_queries(2):
        workdays = WorkCalendar()
        day = date(2026, 6, 1)
        for _count in range(200):  # into 2027: the next year was loaded with the first
            day = workdays.next_workday(day)
        assert not workdays.covers(date(2026, 6, 1), day)
    assert day.year == 2027


# --- validation ---------------------------------------------------------------------------------


def test_a_make_up_workday_must_fall_on_a_weekend(empty_table):
    year = declare(2030)
    row = CalendarDay(year=year, date=date(2030, 6, 5), kind="workday", name="端午节")
    with pytest.raises(ValidationError, match="周六或周日"):
        row.full_clean()


def test_a_day_must_lie_in_its_year(empty_table):
    year = declare(2030)
    row = CalendarDay(year=year, date=date(2031, 1, 1), kind="holiday", name="元旦")
    with pytest.raises(ValidationError, match="年份"):
        row.full_clean()


# --- the end of the table -----------------------------------------------------------------------


def at(*args: int) -> datetime:
    return datetime(*args, 9, tzinfo=SHANGHAI)


def test_the_table_ends_at_the_last_complete_year_of_the_run_from_today(empty_table):
    declare(2026)
    declare(2027)
    declare(2029)  # 2028 missing: the run stops at 2027
    assert calendar_end(today=date(2026, 5, 1)) == date(2027, 12, 31)
    assert calendar_end(today=date(2028, 5, 1)) == date(2027, 12, 31)  # already past
    CalendarYear.objects.all().delete()
    assert calendar_end(today=date(2026, 5, 1)) is None


def test_the_system_check_warns_60_days_before_the_table_ends(empty_table):
    declare(2026)
    with time_machine.travel(at(2026, 11, 1), tick=False):  # 60 days before 2026-12-31
        warnings = calendar_end_check(databases=["default"])
    assert [warning.id for warning in warnings] == ["core.W201"]
    assert "2026-12-31" in warnings[0].msg


def test_the_system_check_is_quiet_61_days_before_the_table_ends(empty_table):
    declare(2026)
    with time_machine.travel(at(2026, 10, 31), tick=False):
        assert calendar_end_check(databases=["default"]) == []


def test_the_system_check_fires_today_on_the_seeded_table():
    # The package knows 2026 at most: on 2026-12-05 the table has 26 days left.
    with time_machine.travel(at(2026, 12, 5), tick=False):
        (warning,) = calendar_end_check(databases=["default"])
    assert "26" in warning.msg


def test_the_system_check_warns_when_the_table_has_ended_or_is_empty(empty_table):
    with time_machine.travel(at(2026, 3, 1), tick=False):
        assert [warning.id for warning in calendar_end_check(databases=["default"])] == [
            "core.W201"]
    declare(2025)
    with time_machine.travel(at(2026, 3, 1), tick=False):
        (warning,) = calendar_end_check(databases=["default"])
    assert "2025-12-31" in warning.msg


def test_the_system_check_stays_off_the_database_unless_asked(empty_table,
                                                              django_assert_num_queries):
    # Django runs database checks only when asked (migrate, `check --database default`), so a
    # `check --deploy` in a build without a database does not try to connect.
    with django_assert_num_queries(0):
        assert calendar_end_check(databases=None) == []


def test_the_import_command_adds_only_missing_years():
    from io import StringIO

    from django.core.management import call_command

    CalendarYear.objects.filter(year=2026).delete()
    out = StringIO()
    call_command("calendar_import", stdout=out)
    assert "新增年份：2026" in out.getvalue()
    assert CalendarDay.objects.filter(year_id=2026, kind="workday").exists()
    out = StringIO()
    call_command("calendar_import", stdout=out)
    assert "新增年份：无" in out.getvalue()
