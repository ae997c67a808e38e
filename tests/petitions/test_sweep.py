"""The escalation sweep: tiers, holders, supervision, idempotence and a constant query count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from notifications.models import Notification
from petitions import services
from petitions.models import Petition, PetitionEvent, WebhookDelivery
from petitions.sweep import (
    petitions_escalate_overdue,
    petitions_record_missed_arrivals,
    petitions_sweep,
)
from petitions.tasks import petitions_sweep_task
from tests.petitions.factories import external_system, resolve_after_visit, submit

pytestmark = pytest.mark.django_db


def test_an_overdue_microgrid_petition_moves_to_the_grid_worker(
        frozen, resident_user, microgrid_worker, grid_worker, territory):
    petition = submit(resident_user)
    # At the deadline's instant it is still on time (petitions.policy.is_late): a second later
    # it is not.
    frozen.shift(timedelta(days=1))
    assert petitions_escalate_overdue(now=timezone.now()) == 0
    frozen.shift(timedelta(seconds=1))
    assert petitions_escalate_overdue(now=timezone.now()) == 1
    petition.refresh_from_db()
    assert (petition.tier, petition.holder_id) == ("grid", grid_worker.pk)
    assert (petition.area_id, petition.area_path) == (territory.grid.pk, territory.grid.path)
    assert petition.origin_path == territory.micro1.path
    assert petition.due_at == petition.grid_due_at == petition.submitted_at + timedelta(days=3)
    assert petition.state == Petition.State.DISPATCHED
    event = petition.events.get(kind="escalated")
    assert (event.from_tier, event.to_tier) == ("microgrid", "grid")
    assert Notification.objects.filter(user=grid_worker, link=f"/petitions/staff/{petition.pk}/",
                                       title__contains="网格").exists()


def test_the_sweeps_escalation_and_supervision_notices_read_in_the_readers_language(
        frozen, resident_user, microgrid_worker, grid_worker, street_admin):
    petition = submit(resident_user)
    frozen.shift(timedelta(days=1, seconds=1))
    with translation.override("zh-hans"):
        petitions_sweep(now=timezone.now())
    escalated = Notification.objects.get(user=grid_worker, dedupe_key__startswith="escalate:")
    assert (escalated.title, escalated.body) == ("诉求超时升级至网格，请尽快办理",
                                                 "超过时限未办结，自动升级至网格。")
    assert escalated.params == {"tier": {"choice": "petitions.tier", "value": "grid"}}
    frozen.shift(timedelta(days=4))
    with translation.override("zh-hans"):
        petitions_sweep(now=timezone.now())
    supervised = Notification.objects.get(user=street_admin,
                                          dedupe_key=f"supervise:{petition.pk}:{street_admin.pk}")

    with translation.override("en"):
        assert escalated.display_title == ("Petition overdue and escalated to Grid; "
                                           "please handle it promptly")
        assert escalated.display_body == ("Not completed within the time limit; escalated "
                                          "automatically to Grid.")
        assert supervised.display_title == "Petition placed under supervision"


def test_then_to_the_street_and_past_five_days_it_is_supervised_once(
        frozen, resident_user, microgrid_worker, grid_worker, street_admin):
    petition = submit(resident_user)
    frozen.shift(timedelta(days=3, seconds=1))
    result = petitions_sweep(now=timezone.now())
    # One sweep after both deadlines: micro-grid → grid → street, two events.
    assert result.escalated == 2
    petition.refresh_from_db()
    assert (petition.tier, petition.holder_id) == ("street", street_admin.pk)
    assert petition.due_at == petition.submitted_at + timedelta(days=5)
    assert not petition.supervised
    frozen.shift(timedelta(days=2))
    assert petitions_sweep(now=timezone.now()).supervised == 1
    assert petitions_sweep(now=timezone.now()).supervised == 0
    petition.refresh_from_db()
    assert petition.supervised and petition.supervised_at is not None
    assert petition.events.filter(kind="supervised").count() == 1
    assert list(petition.events.filter(kind="escalated").values_list("to_tier", flat=True)) == [
        "grid", "street"]


def test_resolved_referred_and_closed_petitions_are_not_escalated(
        frozen, resident_user, microgrid_worker, community_staff):
    resolved = submit(resident_user)
    resolve_after_visit(petition_id=resolved.pk, actor=microgrid_worker, resolution="好")
    referred = submit(resident_user)
    services.petition_refer_to_deliberation(petition_id=referred.pk, actor=community_staff)
    frozen.shift(timedelta(days=10))
    assert petitions_sweep(now=timezone.now()).escalated == 0


def test_a_second_sweep_changes_nothing(frozen, resident_user, microgrid_worker, grid_worker):
    for _ in range(3):
        submit(resident_user)
    frozen.shift(timedelta(days=1, minutes=1))
    assert petitions_escalate_overdue(now=timezone.now()) == 3
    assert petitions_escalate_overdue(now=timezone.now()) == 0
    assert PetitionEvent.objects.filter(kind="escalated").count() == 3
    assert Notification.objects.filter(title__contains="升级").count() == 3


def test_without_a_grid_worker_the_old_holder_keeps_the_petition(
        frozen, resident_user, microgrid_worker, territory):
    petition = submit(resident_user)
    frozen.shift(timedelta(days=2))
    petitions_escalate_overdue(now=timezone.now())
    petition.refresh_from_db()
    assert (petition.tier, petition.area_id) == ("grid", territory.grid.pk)
    assert petition.holder_id == microgrid_worker.pk


def test_missed_arrivals_are_recorded_once(frozen, resident_user, microgrid_worker):
    late = submit(resident_user)
    arrived = submit(resident_user)
    services.petition_check_in(petition_id=arrived.pk, actor=microgrid_worker)
    frozen.shift(timedelta(minutes=8))
    assert petitions_record_missed_arrivals(now=timezone.now()) == 1
    assert petitions_record_missed_arrivals(now=timezone.now()) == 0
    late.refresh_from_db()
    assert late.arrival_missed
    assert late.events.filter(kind="arrival_missed").count() == 1


def _overdue_backlog(count, resident_user):
    for _ in range(count):
        submit(resident_user)


def _sweep_query_count(now):
    with CaptureQueriesContext(connection) as context:
        petitions_sweep(now=now)
    return len(context.captured_queries)


@pytest.mark.parametrize("tier_step", ["grid", "street_and_supervision"])
def test_the_sweep_costs_the_same_number_of_queries_for_3_and_30_overdue(
        tier_step, frozen, resident_user, microgrid_worker, grid_worker, street_admin,
        territory):
    hotline = external_system(webhook_url="http://127.0.0.1:9/hook")
    counts = []
    for size in (3, 30):
        PetitionEvent.objects.all().delete()
        Petition.objects.all().delete()
        _overdue_backlog(size - 1, resident_user)
        submit(hotline, channel="hotline_12345", building=territory.building1)
        shift = timedelta(days=1, minutes=1) if tier_step == "grid" else timedelta(days=6)
        now = timezone.now() + shift
        counts.append(_sweep_query_count(now))
        assert Petition.objects.filter(tier="street" if tier_step != "grid" else "grid").count(
        ) == size
        frozen.shift(timedelta(days=7))
    assert counts[0] == counts[1]


def test_escalation_of_an_external_petition_queues_a_webhook(
        frozen, territory, microgrid_worker, grid_worker):
    hotline = external_system(webhook_url="http://127.0.0.1:9/hook")
    petition = submit(hotline, channel="hotline_12345", building=territory.building1,
                      external_ref="R-7")
    frozen.shift(timedelta(days=1, seconds=1))
    petitions_escalate_overdue(now=timezone.now())
    delivery = WebhookDelivery.objects.get(petition=petition, payload__kind="escalated")
    assert delivery.payload["tier"] == "grid"
    assert delivery.payload["external_ref"] == "R-7"
    assert delivery.payload["service_request_id"] == str(petition.pk)
    assert delivery.event.kind == "escalated"


def test_the_beat_task_runs_the_sweep(frozen, resident_user, microgrid_worker, grid_worker):
    submit(resident_user)
    frozen.shift(timedelta(days=1, minutes=1))
    # Nobody accepted it either (签收, petitions/acceptance.py): that is counted too. No card
    # rule in the test database (the migration seeds them): no card.
    assert petitions_sweep_task.delay().get() == {"escalated": 1, "supervised": 0,
                                                  "arrivals_missed": 1, "accept_overdue": 1,
                                                  "yellow_cards": 0, "red_cards": 0}


def test_a_sweep_that_dies_halfway_leaves_nothing_half_done(
        frozen, resident_user, microgrid_worker, grid_worker, monkeypatch):
    from petitions import sweep

    petition = submit(resident_user)
    frozen.shift(timedelta(days=4))
    real_messages = sweep._messages

    def dying_on_the_street_tier(new_tier):
        # The worker "dies" after the micro-grid → grid step, before grid → street.
        if new_tier == "street":
            raise SystemExit("worker killed")
        return real_messages(new_tier)

    monkeypatch.setattr(sweep, "_messages", dying_on_the_street_tier)
    with pytest.raises(SystemExit):
        petitions_escalate_overdue(now=timezone.now())
    petition.refresh_from_db()
    assert petition.tier == "microgrid"
    assert not PetitionEvent.objects.filter(kind="escalated").exists()
    monkeypatch.setattr(sweep, "_messages", real_messages)
    assert petitions_escalate_overdue(now=timezone.now()) == 2
