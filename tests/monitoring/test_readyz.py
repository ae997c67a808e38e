"""/readyz: 200 with every check named and passed; 503 with the failing check said in words."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import time_machine

from monitoring import heartbeat

pytestmark = pytest.mark.django_db


def _body(response):
    return json.loads(response.content)


def test_it_is_ready_when_the_database_cache_broker_and_a_recent_beat_answer(client):
    heartbeat.beat_seen_stamp()
    response = client.get("/readyz")
    assert response.status_code == 200
    body = _body(response)
    assert body["status"] == "ready"
    assert {"database", "migrations", "cache", "broker", "beat"} <= set(body["checks"])
    assert all(check["ok"] for check in body["checks"].values())
    assert "ago" in body["checks"]["beat"]["detail"]


def test_it_is_unavailable_before_beat_was_ever_seen(client):
    from django.core.cache import cache

    cache.delete(heartbeat.BEAT_KEY)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = _body(response)
    assert body["status"] == "unavailable"
    assert body["checks"]["beat"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_it_turns_unavailable_once_beat_is_silent_for_more_than_two_ticks(client, settings):
    settings.BEAT_HEARTBEAT_SECONDS = 60
    with time_machine.travel(time.time(), tick=False) as traveller:
        heartbeat.beat_seen_stamp()
        traveller.shift(timedelta(seconds=120))
        assert client.get("/readyz").status_code == 200
        traveller.shift(timedelta(seconds=2))
        response = client.get("/readyz")
    assert response.status_code == 503
    assert "silent for 122 s" in _body(response)["checks"]["beat"]["detail"]


def test_an_unreachable_broker_makes_it_unavailable_without_quoting_its_address(
        client, settings):
    heartbeat.beat_seen_stamp()
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # Nothing listens on loopback port 1: refused at once.
    settings.CELERY_BROKER_URL = "redis://:hunter2@127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    broker = _body(response)["checks"]["broker"]
    assert broker["ok"] is False
    assert "hunter2" not in response.content.decode() and "127.0.0.1" not in broker["detail"]


def test_a_filesystem_broker_is_ready_when_its_folder_is_writable(client, settings, tmp_path):
    heartbeat.beat_seen_stamp()
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path),
                                                "data_folder_out": str(tmp_path)}
    assert client.get("/readyz").status_code == 200
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path / "gone"),
                                                "data_folder_out": str(tmp_path / "gone")}
    assert client.get("/readyz").status_code == 503


def test_healthz_stays_the_cheap_liveness_probe_whatever_beat_does(
        client, django_assert_num_queries):
    from django.core.cache import cache

    cache.delete(heartbeat.BEAT_KEY)
    with django_assert_num_queries(1):
        response = client.get("/healthz")
    assert response.status_code == 200


def test_beat_stamps_its_heartbeat_as_it_sends_the_heartbeat_task_and_only_that_one():
    from django.core.cache import cache

    from monitoring.celery_signals import request_id_into_headers

    cache.delete(heartbeat.BEAT_KEY)
    request_id_into_headers(sender="petitions.sweep", headers={})
    assert heartbeat.beat_seen_at() is None
    with time_machine.travel(1_800_000_000, tick=False):
        request_id_into_headers(sender=heartbeat.TASK_NAME, headers={})
    assert heartbeat.beat_seen_at() == 1_800_000_000


def test_the_heartbeat_task_run_by_a_worker_stamps_the_workers_key(client):
    from monitoring.tasks import beat_heartbeat_task

    with time_machine.travel(1_800_000_100, tick=False):
        beat_heartbeat_task.delay()
    assert heartbeat.worker_seen_at() == 1_800_000_100


def test_the_beat_schedule_sends_the_heartbeat_every_tick(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["monitoring-beat-heartbeat"]
    assert entry == {"task": heartbeat.TASK_NAME, "schedule": settings.BEAT_HEARTBEAT_SECONDS}
