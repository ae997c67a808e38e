"""The fixed month the report tests compute by hand (shared by the workbook's and the stats
API's tests, so both are checked against one set of figures)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from deliberation.models import Topic
from petitions.models import PetitionState, Tier
from tests.deliberation.factories import TopicFactory
from tests.reports.factories import at, petition
from tests.volunteers.factories import VolunteerFactory
from volunteers.models import HoursEntry


@pytest.fixture
def november(territory):
    """Eight petitions around November 2026 (five count), two topics, four hours entries."""
    t = territory
    dispatched = {"dispatched_at": at(11, 3)}
    p = {
        # 1: on time everywhere, at the micro-grid, 满意.
        1: petition(at(11, 3), building=t.building1, state=PetitionState.RATED, **dispatched,
                    arrived_at=at(11, 3, 10), resolved_at=at(11, 3, 12),
                    resolved_tier=Tier.MICROGRID, resolved_on_time=True, rating="satisfied"),
        # 2: missed the arrival, resolved late at the grid, 不满意.
        2: petition(at(11, 3, 11), building=t.building1, state=PetitionState.RATED,
                    **dispatched, arrived_at=at(11, 3, 13), arrival_missed=True,
                    resolved_at=at(11, 7), resolved_tier=Tier.GRID, resolved_on_time=False,
                    rating="unsatisfied"),
        # 3: arrived, never resolved: overdue at the month's end, supervised on the 20th.
        3: petition(at(11, 10), channel="hotline_12345", building=t.building1,
                    dispatched_at=at(11, 10), arrived_at=at(11, 10, 10), due_at=at(11, 11),
                    supervised=True, supervised_at=at(11, 20)),
        # 4: on time at the micro-grid, 基本满意.
        4: petition(at(11, 12), channel="phone", category="设施维修", building=t.building3,
                    state=PetitionState.RATED, dispatched_at=at(11, 12),
                    arrived_at=at(11, 12, 10), resolved_at=at(11, 12, 15),
                    resolved_tier=Tier.MICROGRID, resolved_on_time=True, rating="basic"),
        # 5: the other community, not yet dispatched, due in December.
        5: petition(at(11, 15), category="设施维修", building=t.other_building,
                    state=PetitionState.SUBMITTED, due_at=at(12, 20)),
        # 6: refused (不予受理): counted nowhere.
        6: petition(at(11, 20), building=t.building3, state=PetitionState.REJECTED),
        # 7: October's, still open, overdue since 2 November and supervised on the 5th.
        7: petition(at(10, 30), building=t.building1, due_at=at(11, 2),
                    supervised=True, supervised_at=at(11, 5)),
        # 8: December's.
        8: petition(at(12, 2), building=t.building1),
    }
    TopicFactory(compound=t.compound, status=Topic.Status.CLOSED, closed_at=at(11, 16))
    TopicFactory(compound=t.other_compound, status=Topic.Status.CLOSED, closed_at=at(10, 20))
    volunteer = VolunteerFactory(compound=t.compound)
    for hours, day, status in ((Decimal("2.5"), date(2026, 11, 8), "approved"),
                               (Decimal("1.5"), date(2026, 11, 30), "approved"),
                               (Decimal("3.0"), date(2026, 11, 9), "pending"),
                               (Decimal("4.0"), date(2026, 12, 1), "approved")):
        HoursEntry.objects.create(volunteer=volunteer, source="staff", status=status,
                                  hours=hours, served_on=day)
    return p
