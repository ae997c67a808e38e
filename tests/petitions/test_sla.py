"""The 7135 clock as pure functions, across National Day 2026 and its make-up workdays."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from petitions import policy
from petitions.models import Tier

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Working days and public holidays come from the holiday table (seeded from chinese-calendar).
pytestmark = pytest.mark.django_db
POLICY = policy.Durations(arrival=timedelta(minutes=7), microgrid=timedelta(days=1),
                       grid=timedelta(days=3), street=timedelta(days=5))
WORKING = policy.Durations(arrival=timedelta(minutes=7), microgrid=timedelta(days=1),
                        grid=timedelta(days=3), street=timedelta(days=5),
                        calendar=policy.WORKING_DAYS)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_the_package_knows_the_2026_holiday_and_make_up_days_used_below():
    # If chinese_calendar's data changed, the expectations below would be wrong, not the code.
    assert not chinese_calendar.is_workday(at(2026, 10, 1).date())
    assert not chinese_calendar.is_workday(at(2026, 10, 7).date())
    assert chinese_calendar.is_workday(at(2026, 10, 10).date())  # a Saturday, made up
    assert chinese_calendar.is_workday(at(2026, 9, 20).date())  # a Sunday, made up


def test_calendar_days_are_plain_durations_from_acceptance():
    deadlines = policy.compute_deadlines(at(2026, 9, 30, 10), POLICY)
    assert deadlines.arrival_due_at == at(2026, 9, 30, 10, 7)
    assert deadlines.microgrid_due_at == at(2026, 10, 1, 10)
    assert deadlines.grid_due_at == at(2026, 10, 3, 10)
    assert deadlines.street_due_at == at(2026, 10, 5, 10)


def test_working_days_skip_the_national_day_holiday():
    deadlines = policy.compute_deadlines(at(2026, 9, 30, 10), WORKING)
    assert deadlines.microgrid_due_at == at(2026, 10, 8, 10)
    # 10-08 Thu, 10-09 Fri, 10-10 Sat (make-up workday)
    assert deadlines.grid_due_at == at(2026, 10, 10, 10)
    # … 10-11 is Sunday (off), 10-12 Mon, 10-13 Tue
    assert deadlines.street_due_at == at(2026, 10, 13, 10)


def test_a_make_up_saturday_counts_as_a_working_day():
    assert policy.deadline_after(at(2026, 10, 9, 16), timedelta(days=1),
                              calendar=policy.WORKING_DAYS) == at(2026, 10, 10, 16)


def test_a_make_up_sunday_counts_too():
    assert policy.deadline_after(at(2026, 9, 19, 9), timedelta(days=1),
                              calendar=policy.WORKING_DAYS) == at(2026, 9, 21, 0)
    assert policy.deadline_after(at(2026, 9, 18, 9), timedelta(days=1),
                              calendar=policy.WORKING_DAYS) == at(2026, 9, 20, 9)


def test_a_petition_accepted_on_a_holiday_starts_its_clock_on_the_next_working_day():
    deadline = policy.deadline_after(at(2026, 10, 3, 15, 30), timedelta(days=1),
                                  calendar=policy.WORKING_DAYS)
    assert deadline == at(2026, 10, 9, 0)


def test_the_arrival_clock_and_sub_day_durations_run_in_calendar_time_even_on_holidays():
    deadlines = policy.compute_deadlines(at(2026, 10, 2, 23, 58), WORKING)
    assert deadlines.arrival_due_at == at(2026, 10, 3, 0, 5)
    assert policy.deadline_after(at(2026, 10, 2, 9), timedelta(hours=2),
                              calendar=policy.WORKING_DAYS) == at(2026, 10, 2, 11)


def test_a_remainder_below_a_day_is_added_after_the_working_days():
    assert policy.deadline_after(at(2026, 9, 30, 10), timedelta(days=1, hours=2),
                              calendar=policy.WORKING_DAYS) == at(2026, 10, 8, 12)


@pytest.mark.parametrize(("size", "tier"), [("small", "microgrid"), ("big", "grid"),
                                            ("hard", "street")])
def test_triage_places_a_matter_by_its_size(size, tier):
    assert policy.initial_tier(size) == tier


def test_late_means_strictly_after_the_deadline():
    deadline = at(2026, 1, 5, 9)
    assert not policy.is_late(deadline, deadline)
    assert policy.is_late(deadline, deadline + timedelta(seconds=1))
    assert not policy.is_late(None, deadline)


def test_the_tier_order_covers_every_tier_and_moves_up_one_at_a_time():
    assert set(policy.TIER_ORDER) == set(Tier.values)
    assert policy.NEXT_TIER == {"microgrid": "grid", "grid": "street"}
    assert policy.ESCALATING_TIERS == ("microgrid", "grid")
    assert policy.is_above("street", "grid") and not policy.is_above("grid", "grid")
    assert set(policy.HOLDER_RULES) == set(policy.TIER_DEPTH) == set(Tier.values)
