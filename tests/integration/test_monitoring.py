"""Monitoring against the real machinery: /readyz follows a real beat process that is killed and
started again; a real worker (multiprocess metrics, JSON logs) counts the sweep it ran and logs
the request id of the web request that queued its task.

Runs on the services lane: DATABASE_URL (PostgreSQL) and REDIS_URL; the broker and the cache are
the lane's Redis database, the queue is emptied at the end.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory

from config.celery import app as celery_app
from core.middleware import RequestIdMiddleware
from monitoring.heartbeat import BEAT_KEY
from tests.integration.conftest import wait_for
from tests.monitoring.conftest import TOKEN, parse, value

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres")
                       or not os.environ.get("REDIS_URL"),
                       reason="needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL)"),
]
committed = pytest.mark.django_db(transaction=True)


@pytest.fixture
def lane_redis():
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete("celery")  # nothing left from an earlier test
    yield client
    client.delete("celery")  # what beat sent while no worker ran
    client.close()


def _services_env() -> dict[str, str]:
    """Beat and worker share this process's cache (the heartbeat) and broker."""
    return {"BEAT_HEARTBEAT_SECONDS": "1",
            "CACHE_REDIS_URL": settings.CACHES["default"]["LOCATION"]}


def _readyz(client) -> tuple[int, dict]:
    response = client.get("/readyz")
    return response.status_code, json.loads(response.content)


@committed
def test_readyz_turns_unavailable_when_beat_is_killed_and_ready_when_it_returns(
        celery_launcher, client, settings, lane_redis):
    settings.BEAT_HEARTBEAT_SECONDS = 1
    settings.CELERY_TASK_ALWAYS_EAGER = False  # the broker check pings the real Redis
    cache.delete(BEAT_KEY)
    status, body = _readyz(client)
    assert status == 503 and body["checks"]["beat"]["ok"] is False
    assert body["checks"]["broker"]["ok"] and body["checks"]["database"]["ok"]

    beat = celery_launcher("beat", broker_url=settings.REDIS_URL, env=_services_env())
    wait_for(lambda: _readyz(client)[0] == 200, timeout=20, what="/readyz ready with beat up")

    beat.kill_group()
    wait_for(lambda: _readyz(client)[0] == 503, timeout=10,
             what="/readyz unavailable with beat killed")
    status, body = _readyz(client)
    assert "silent for" in body["checks"]["beat"]["detail"]
    assert all(check["ok"] for name, check in body["checks"].items() if name != "beat")

    celery_launcher("beat", broker_url=settings.REDIS_URL, env=_services_env())
    wait_for(lambda: _readyz(client)[0] == 200, timeout=20, what="/readyz ready again")


@committed
def test_a_real_worker_counts_its_sweep_for_the_webs_scrape_and_logs_the_request_id(
        celery_launcher, client, settings, monkeypatch, tmp_path, lane_redis, resident_user,
        microgrid_worker, grid_worker):
    from datetime import timedelta

    from django.utils import timezone

    from petitions.models import Petition
    from tests.petitions.factories import submit

    for _ in range(3):
        submit(resident_user)
    Petition.objects.update(due_at=timezone.now() - timedelta(minutes=5),
                            microgrid_due_at=timezone.now() - timedelta(minutes=5))
    metrics_root = tmp_path / "metrics"
    worker = celery_launcher("worker", broker_url=settings.REDIS_URL, concurrency=1, env={
        **_services_env(), "LOG_FORMAT": "json",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_root / "worker")})

    # A web request queues the sweep (as a staff action would queue a task).
    def view(request):
        celery_app.send_task("petitions.sweep")
        return HttpResponse("queued")

    was_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        RequestIdMiddleware(view)(RequestFactory().get("/", HTTP_X_REQUEST_ID="web-req-20"))
    finally:
        celery_app.conf.task_always_eager = was_eager
    worker.wait_for_log('"escalation sweep done', timeout=30)

    lines = [json.loads(line) for line in worker.log().splitlines() if line.startswith("{")]
    [done] = [line for line in lines if line.get("event") == "petitions.sweep"]
    assert done["request_id"] == "web-req-20" and done["escalated"] == 3
    assert done["task_id"] != "-"

    # The web, in multiprocess mode, reads the worker's directory beside its own.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(metrics_root / "web"))
    (metrics_root / "web").mkdir(parents=True, exist_ok=True)
    settings.METRICS_TOKEN = TOKEN
    samples = parse(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
                    .content.decode())
    assert value(samples, "portal_sweep_escalated_petitions_total") == 3
    assert value(samples, "portal_sweep_runs_total", outcome="success") == 1
    assert value(samples, "portal_petitions_open", tier="grid") == 3
    assert Path(metrics_root / "worker").glob("*.db")
