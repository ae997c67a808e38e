"""催办 with two workers at once: four racing reminder runs remind each holder once."""

from __future__ import annotations

import os
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.db.models import Count
from django.utils import timezone

from notifications.models import Notification, OutboundMessage
from petitions.alerts import petitions_send_reminders
from tests.petitions.factories import submit

pytestmark = [
    pytest.mark.integration,
    # Committed rows, for four connections at once. No serialized_rollback: after an earlier
    # module's flush has recreated the content types, reloading the serialized ones collides;
    # the conftest puts the seeded rows back when the module ends.
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                       reason="needs PostgreSQL (DATABASE_URL)"),
]


def test_four_reminder_runs_racing_on_postgresql_remind_each_holder_once(
        settings, resident_user, microgrid_worker):
    assert connection.vendor == "postgresql"
    settings.SMS_MAX_PER_RECIPIENT_PER_HOUR = settings.SMS_MAX_PER_RECIPIENT_PER_DAY = 1000
    microgrid_worker.phone = "13900000001"
    microgrid_worker.save(update_fields=["phone"])
    petitions = [submit(resident_user) for _ in range(40)]
    now = timezone.now() + timedelta(minutes=6)  # past 80 % of every arrival clock
    barrier = threading.Barrier(4)
    sent: list[int] = []
    errors: list[BaseException] = []

    def remind() -> None:
        try:
            barrier.wait(timeout=10)
            sent.append(petitions_send_reminders(now=now))
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=remind) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sum(sent) == len(petitions)
    per_link = (Notification.objects.filter(title__startswith="催办").values("link")
                .annotate(count=Count("id")).values_list("count", flat=True))
    assert sorted(set(per_link)) == [1] and len(per_link) == len(petitions)
    assert OutboundMessage.objects.filter(body__contains="催办").count() == len(petitions)
