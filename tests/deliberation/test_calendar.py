"""The 15th moves off the public holidays of the holiday table, the one petitions count with."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from core.models import CalendarDay, CalendarYear
from deliberation.services.sessions import deliberation_date

pytestmark = pytest.mark.django_db


def test_a_holiday_entered_in_the_table_moves_the_15th(settings):
    settings.DELIBERATION_HOLIDAY_POLICY = "next_workday"
    assert deliberation_date(2027, 3) == date(2027, 3, 15)  # a Monday, in no table yet
    year = CalendarYear.objects.create(year=2027, is_complete=True)
    CalendarDay.objects.create(year=year, date=date(2027, 3, 15), kind="holiday", name="测试假日")
    assert deliberation_date(2027, 3) == date(2027, 3, 16)


def test_a_15th_past_the_tables_end_is_kept_and_logged(settings, caplog):
    settings.DELIBERATION_HOLIDAY_POLICY = "next_workday"
    with caplog.at_level(logging.WARNING, logger="deliberation.services.sessions"):
        assert deliberation_date(2027, 3) == date(2027, 3, 15)
    assert "past the holiday table's end" in caplog.text


def test_the_keep_policy_never_reads_the_table(settings, django_assert_num_queries):
    settings.DELIBERATION_HOLIDAY_POLICY = "keep"
    with django_assert_num_queries(0):
        assert deliberation_date(2026, 10) == date(2026, 10, 15)
