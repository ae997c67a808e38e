"""Beat's heartbeat: proof that the scheduler is alive, for /readyz and /metrics.

Beat sends `monitoring.beat_heartbeat` every BEAT_HEARTBEAT_SECONDS (one tick). The stamp is
written by beat itself as it publishes the message (monitoring.celery_signals), not by the
worker that runs it: a dead beat with a live worker must show as a dead beat. The worker stamps
its own key when it runs the task, so a stopped worker shows too (reported, not fatal to
readiness: the web still serves). Both live in the cache every process shares (Redis; the
database cache in `make run`).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

BEAT_KEY = "monitoring:beat_seen_at"
WORKER_KEY = "monitoring:worker_seen_at"
TASK_NAME = "monitoring.beat_heartbeat"


def beat_seen_stamp(at: float | None = None) -> None:
    cache.set(BEAT_KEY, time.time() if at is None else at, timeout=None)


def worker_seen_stamp(at: float | None = None) -> None:
    cache.set(WORKER_KEY, time.time() if at is None else at, timeout=None)


def beat_seen_at() -> float | None:
    value = cache.get(BEAT_KEY)
    return float(value) if value is not None else None


def worker_seen_at() -> float | None:
    value = cache.get(WORKER_KEY)
    return float(value) if value is not None else None


def tick_seconds() -> float:
    return float(settings.BEAT_HEARTBEAT_SECONDS)


def beat_is_alive(seen_at: float | None, *, now: float) -> bool:
    """Seen within two ticks (plus a second: beat wakes a little after its due time)."""
    return seen_at is not None and now - seen_at <= 2 * tick_seconds() + 1.0
