"""The reports tests' petitions: submitted through the real service at a fixed moment, then
given the facts a report reads."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import time_machine

from petitions.models import Petition, PetitionState
from tests.petitions.factories import category, submit

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOVEMBER = date(2026, 11, 1)


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=SHANGHAI)


def petition(when: datetime, *, state: str = PetitionState.DISPATCHED, **fields) -> Petition:
    """A petition submitted at `when` through the real service, then set to the given facts
    (the report reads facts, not how they came about)."""
    with time_machine.travel(when, tick=False):
        created = submit(None, channel=fields.pop("channel", "mobile_web"),
                         category=category(fields.pop("category", "环境卫生")),
                         building=fields.pop("building"), contact_name="王阿姨",
                         contact_phone="13800001111")
    Petition.objects.filter(pk=created.pk).update(state=state, **fields)
    return created
