"""The 7135 escalation with real processes: a Celery worker + beat, and two racing sweeps."""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.db.models import Count
from django.utils import timezone

from petitions.models import Petition, PetitionEvent, SlaPolicy
from petitions.sweep import petitions_escalate_overdue
from tests.petitions.factories import submit

pytestmark = [
    pytest.mark.integration,
    # Committed rows, so the worker (another process) sees them; serialized_rollback puts the
    # migration-seeded rows (categories, the SLA policy) back after the flush, for later tests.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                       reason="needs PostgreSQL (DATABASE_URL)"),
]


def _wait_for(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_worker_escalates_a_real_petition_up_to_supervision(
        celery_worker_process, resident_user, microgrid_worker, grid_worker,
        street_admin):
    policy = SlaPolicy.current()  # (re)created: a transactional test's flush removes it
    policy.arrival, policy.microgrid = timedelta(seconds=1), timedelta(seconds=2)
    policy.grid, policy.street = timedelta(seconds=4), timedelta(seconds=6)
    policy.save()
    petition = submit(resident_user)
    assert petition.holder_id == microgrid_worker.pk

    def state() -> Petition:
        return Petition.objects.get(pk=petition.pk)

    _wait_for(lambda: state().tier == "grid", timeout=20, what="the grid tier")
    assert state().holder_id == grid_worker.pk
    _wait_for(lambda: state().tier == "street", timeout=20, what="the street tier")
    assert state().holder_id == street_admin.pk
    _wait_for(lambda: state().supervised, timeout=20, what="supervision")
    final = state()
    assert final.arrival_missed
    kinds = list(final.events.values_list("kind", flat=True))
    assert kinds.count("escalated") == 2
    assert kinds.count("supervised") == 1
    assert celery_worker_process.poll() is None


def test_two_sweeps_racing_on_postgresql_never_double_escalate(
        resident_user, microgrid_worker, grid_worker, street_admin):
    assert connection.vendor == "postgresql"
    petitions = [submit(resident_user) for _ in range(40)]
    now = timezone.now() + timedelta(days=1, minutes=1)
    barrier = threading.Barrier(4)
    moved: list[int] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            barrier.wait(timeout=10)
            moved.append(petitions_escalate_overdue(now=now))
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sum(moved) == len(petitions)
    per_petition = (PetitionEvent.objects.filter(kind="escalated").values("petition_id")
                    .annotate(count=Count("id")).values_list("count", flat=True))
    assert sorted(set(per_petition)) == [1]
    assert len(per_petition) == len(petitions)
    assert set(Petition.objects.values_list("tier", flat=True)) == {"grid"}
