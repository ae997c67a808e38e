"""Two volunteers race for the last place of an activity on two PostgreSQL connections."""

from __future__ import annotations

import os
import threading

import pytest
from django.db import connection, connections

from tests.volunteers.factories import ActivityFactory, VolunteerFactory
from volunteers.models import ActivitySignup
from volunteers.services import activities

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                       reason="needs PostgreSQL (DATABASE_URL)"),
]


def test_two_concurrent_sign_ups_for_the_last_place_confirm_exactly_one(transactional_db,
                                                                        territory):
    activity = ActivityFactory(compound=territory.compound, capacity=2)
    already = VolunteerFactory(compound=territory.compound)
    activities.activity_signup(activity=activity, volunteer=already)
    racers = [VolunteerFactory(compound=territory.compound) for _ in range(2)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def sign_up(volunteer_id: int) -> None:
        try:
            volunteer = type(racers[0]).objects.get(pk=volunteer_id)
            barrier.wait(timeout=10)
            activities.activity_signup(activity=activity, volunteer=volunteer)
        except BaseException as error:  # surfaced in the main thread below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sign_up, args=(racer.pk,)) for racer in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert connection.vendor == "postgresql"
    statuses = sorted(ActivitySignup.objects.filter(volunteer__in=racers)
                      .values_list("status", flat=True))
    assert statuses == [ActivitySignup.Status.CONFIRMED, ActivitySignup.Status.WAITLISTED]
    assert activity.signups.filter(status=ActivitySignup.Status.CONFIRMED).count() == 2
