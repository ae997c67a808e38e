"""Deliberation settings, each overridable in Django settings (and so from the environment).

DELIBERATION_DAY              the fixed day of the month (15)
DELIBERATION_LEAD_DAYS        how many days ahead the monthly session is created (14)
DELIBERATION_HOLIDAY_POLICY   "keep" | "next_workday" | "previous_workday" when the day is a
                              public holiday (the holiday table, core.workdays)
DELIBERATION_START_TIME       "HH:MM" local start of the monthly session ("09:00")
DELIBERATION_DEFAULT_PLACE    where it is held unless changed
DELIBERATION_SUPPORT_THRESHOLD  supports that put a proposal on the next agenda (10)
DELIBERATION_QUORUM_RATIO     share of eligible voters that must vote (2/3)
DELIBERATION_REMIND_BEFORE_DAYS  reminder this many days before an action item's deadline (2)
DELIBERATION_SURVEY_DAYS_BEFORE_QUARTER_END  the quarterly survey opens this many days early (10)
DELIBERATION_SURVEY_DAYS_AFTER_QUARTER_END   and closes this many days after the quarter (15)
DELIBERATION_EVALUATION_DAYS  the residents' evaluation (评) of a topic lasts at least this many
                              days, and until the review date set at the decision (7)
DELIBERATION_NOTICE_DAYS      residents hear of a session (inbox, SMS if opted in) this many days
                              before it starts (3)
"""

from __future__ import annotations

from datetime import time
from fractions import Fraction

from django.conf import settings

HOLIDAY_POLICIES = ("keep", "next_workday", "previous_workday")


def deliberation_day() -> int:
    return int(getattr(settings, "DELIBERATION_DAY", 15))


def lead_days() -> int:
    return int(getattr(settings, "DELIBERATION_LEAD_DAYS", 14))


def holiday_policy() -> str:
    policy = str(getattr(settings, "DELIBERATION_HOLIDAY_POLICY", "keep"))
    if policy not in HOLIDAY_POLICIES:
        raise ValueError(f"DELIBERATION_HOLIDAY_POLICY must be one of {HOLIDAY_POLICIES}")
    return policy


def start_time() -> time:
    hours, minutes = str(getattr(settings, "DELIBERATION_START_TIME", "09:00")).split(":")
    return time(int(hours), int(minutes))


def default_place() -> str:
    return str(getattr(settings, "DELIBERATION_DEFAULT_PLACE", "小区党群服务站议事厅"))


def support_threshold() -> int:
    return int(getattr(settings, "DELIBERATION_SUPPORT_THRESHOLD", 10))


def quorum_ratio() -> Fraction:
    return Fraction(str(getattr(settings, "DELIBERATION_QUORUM_RATIO", "2/3")))


def remind_before_days() -> int:
    return int(getattr(settings, "DELIBERATION_REMIND_BEFORE_DAYS", 2))


def survey_days_before_quarter_end() -> int:
    return int(getattr(settings, "DELIBERATION_SURVEY_DAYS_BEFORE_QUARTER_END", 10))


def survey_days_after_quarter_end() -> int:
    return int(getattr(settings, "DELIBERATION_SURVEY_DAYS_AFTER_QUARTER_END", 15))


def evaluation_days() -> int:
    return int(getattr(settings, "DELIBERATION_EVALUATION_DAYS", 7))


def notice_days() -> int:
    return int(getattr(settings, "DELIBERATION_NOTICE_DAYS", 3))
