"""The 15th: across months, years and a public holiday; the scheduler is idempotent."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.utils import timezone

from deliberation.models import Session
from deliberation.services.sessions import deliberation_date, sessions_schedule_monthly
from deliberation.tasks import sessions_schedule_monthly_task

# Working days and public holidays come from the holiday table (seeded from chinese-calendar).
pytestmark = pytest.mark.django_db


def _monthly(compound) -> list[tuple[str, date]]:
    return [(session.period, timezone.localtime(session.starts_at).date())
            for session in Session.objects.filter(compound=compound, kind="monthly")
            .order_by("starts_at")]


def test_it_creates_this_months_session_when_the_15th_is_within_the_lead_window(territory):
    with time_machine.travel(date(2025, 3, 5), tick=False):
        assert sessions_schedule_monthly_task() == 2  # both compounds
    assert _monthly(territory.compound) == [("2025-03", date(2025, 3, 15))]
    session = Session.objects.get(compound=territory.compound)
    assert timezone.localtime(session.starts_at).hour == 9
    assert len(session.sign_in_code) == 6


def test_it_waits_until_the_15th_comes_within_the_lead_window(territory):
    assert sessions_schedule_monthly(today=date(2025, 2, 20)) == 0
    assert sessions_schedule_monthly(today=date(2025, 3, 1)) == 2
    assert _monthly(territory.compound) == [("2025-03", date(2025, 3, 15))]


def test_it_schedules_the_next_month_after_this_months_15th(territory, settings):
    settings.DELIBERATION_LEAD_DAYS = 31
    sessions_schedule_monthly(today=date(2025, 4, 16))
    assert _monthly(territory.compound) == [("2025-05", date(2025, 5, 15))]


def test_it_crosses_the_year_end(territory, settings):
    settings.DELIBERATION_LEAD_DAYS = 30
    with time_machine.travel(date(2025, 12, 20), tick=False):
        sessions_schedule_monthly_task()
    assert _monthly(territory.compound) == [("2026-01", date(2026, 1, 15))]


def test_running_the_scheduler_twice_makes_one_session(territory):
    with time_machine.travel(date(2025, 3, 5), tick=False):
        assert sessions_schedule_monthly_task() == 2
        assert sessions_schedule_monthly_task() == 0
    assert Session.objects.filter(compound=territory.compound).count() == 1


@pytest.mark.parametrize(("policy", "expected"), [
    ("keep", date(2024, 9, 15)),
    # 16–17 September 2024 are the Mid-Autumn holiday; the 18th is the next workday.
    ("next_workday", date(2024, 9, 18)),
    # The 14th is a Saturday made a working day (调休), so it is the previous workday.
    ("previous_workday", date(2024, 9, 14)),
])
def test_a_15th_on_a_public_holiday_follows_the_policy(settings, policy, expected):
    settings.DELIBERATION_HOLIDAY_POLICY = policy
    assert deliberation_date(2024, 9) == expected


def test_an_ordinary_sunday_is_not_a_public_holiday(settings):
    settings.DELIBERATION_HOLIDAY_POLICY = "next_workday"
    assert deliberation_date(2025, 6) == date(2025, 6, 15)


def test_the_scheduler_moves_the_spring_festival_15th_but_keeps_its_month(territory, settings):
    settings.DELIBERATION_HOLIDAY_POLICY = "next_workday"
    settings.DELIBERATION_LEAD_DAYS = 30
    with time_machine.travel(date(2026, 2, 5), tick=False):
        sessions_schedule_monthly_task()
    (period, day), = _monthly(territory.compound)
    assert period == "2026-02"
    assert day > date(2026, 2, 15)
    assert deliberation_date(2026, 2) == day


def test_it_refuses_an_unknown_holiday_policy(settings):
    settings.DELIBERATION_HOLIDAY_POLICY = "skip"
    with pytest.raises(ValueError, match="HOLIDAY_POLICY"):
        deliberation_date(2024, 9)
