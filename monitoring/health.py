"""/readyz's checks: each answers (ok, detail) where detail is a sentence a person can read.

Nothing here returns an exception's text: a connection error may quote a URL with a password.
The class name says enough; the full error goes to the log.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from monitoring import heartbeat

logger = logging.getLogger(__name__)
Check = Callable[[], tuple[bool, str]]
# Once every migration has been applied in this process it stays so until the next deploy,
# which starts new processes: the migration graph (a few ms and queries) is read until then.
_migrations_seen_applied: list[bool] = []


def database() -> tuple[bool, str]:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
    return True, "SELECT 1 answered"


def migrations() -> tuple[bool, str]:
    if _migrations_seen_applied:
        return True, "all applied"
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        return False, f"{len(plan)} not applied (run manage.py migrate)"
    _migrations_seen_applied.append(True)
    return True, "all applied"


def cache_store() -> tuple[bool, str]:
    """The cache: Redis in production (rate limits, sessions, the heartbeat)."""
    key = "monitoring:readyz"
    cache.set(key, "1", timeout=30)
    if cache.get(key) != "1":
        return False, "a value written was not read back"
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return True, f"{backend} wrote and read a key"


def broker() -> tuple[bool, str]:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return True, "tasks run in this process (eager)"
    broker_url: str = settings.CELERY_BROKER_URL
    if broker_url.startswith(("redis://", "rediss://", "unix://")):
        import redis  # noqa: PLC0415 only with a Redis broker

        client = redis.Redis.from_url(broker_url, socket_timeout=2, socket_connect_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
        return True, "Redis broker answered PING"
    if broker_url.startswith("filesystem://"):
        folder = Path(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_out"]))
        if folder.is_dir() and os.access(folder, os.W_OK):
            return True, "filesystem broker folder is writable"
        return False, "filesystem broker folder is missing or not writable"
    return True, "broker not checked"


def beat() -> tuple[bool, str]:
    seen_at = heartbeat.beat_seen_at()
    tick = heartbeat.tick_seconds()
    if seen_at is None:
        return False, f"no heartbeat from beat yet (one every {tick:g} s)"
    age = time.time() - seen_at
    if heartbeat.beat_is_alive(seen_at, now=time.time()):
        return True, f"last heartbeat {age:.0f} s ago (one every {tick:g} s)"
    return False, f"silent for {age:.0f} s: more than two ticks of {tick:g} s"


def worker() -> tuple[bool, str]:
    """Reported, not required: the web serves while the worker restarts."""
    seen_at = heartbeat.worker_seen_at()
    if seen_at is None:
        return True, "no heartbeat run by a worker yet"
    return True, f"last ran a heartbeat {time.time() - seen_at:.0f} s ago"


CHECKS: dict[str, Check] = {"database": database, "migrations": migrations,
                            "cache": cache_store, "broker": broker, "beat": beat}
INFORMATIONAL: dict[str, Check] = {"worker": worker}


def run_checks() -> tuple[bool, dict[str, dict[str, object]]]:
    """Every check, each timed; the answer is ready only when all of CHECKS pass."""
    results: dict[str, dict[str, object]] = {}
    is_ready = True
    for name, check in {**CHECKS, **INFORMATIONAL}.items():
        started = time.perf_counter()
        try:
            ok, detail = check()
        except Exception as error:
            logger.warning("readyz: %s check failed", name, exc_info=True)
            ok, detail = False, f"{type(error).__name__}"
        results[name] = {"ok": ok, "detail": detail,
                         "ms": round((time.perf_counter() - started) * 1000, 1)}
        if name in CHECKS and not ok:
            is_ready = False
    return is_ready, results
