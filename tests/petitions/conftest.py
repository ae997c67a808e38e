from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.models import User
from tests.accounts.factories import UserFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Monday well away from holidays: the calendar-day clock is the default anyway.
MONDAY_9AM = datetime(2026, 11, 16, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def frozen():
    with time_machine.travel(MONDAY_9AM, tick=False) as traveller:
        yield traveller


@pytest.fixture
def other_resident(territory) -> User:
    from tests.residents.factories import ResidentFactory

    user = UserFactory(username="neighbour", role=User.Role.RESIDENT, phone="13800002222")
    ResidentFactory(household=territory.household2, name="邻居", phone="13800002222", user=user)
    return user
