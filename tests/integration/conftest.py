"""A real Celery worker with embedded beat, on the same PostgreSQL test database and Redis.

Started once per session, only when DATABASE_URL is PostgreSQL and REDIS_URL is set; the tests
that need it use transactional tests so the worker sees their committed rows.
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

BASE_DIR = Path(__file__).resolve().parent.parent.parent
SERVICES_READY = os.environ.get("DATABASE_URL", "").startswith("postgres") and bool(
    os.environ.get("REDIS_URL"))


def _database_url() -> str:
    database = settings.DATABASES["default"]
    user = database.get("USER") or "postgres"
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    host = database.get("HOST") or "127.0.0.1"
    port = database.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{database['NAME']}"


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup: None, django_db_blocker: object) -> Iterator[
        subprocess.Popen[bytes]]:
    """`celery -A config worker --beat` against the test database (its name is known only now,
    after pytest-django created it). The sweep runs every second."""
    if not SERVICES_READY:
        pytest.skip("needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL)")
    workdir = Path(tempfile.mkdtemp(prefix="portal-celery-"))
    environment = {
        **os.environ,
        # local settings, not test: those make Celery eager, which would run the sweep inside
        # the beat process instead of sending it to the worker through Redis.
        "DJANGO_ENV": "local",
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DEBUG": "false",
        "SMS_BACKEND": "accounts.sms.LocmemSmsBackend",
        "DATABASE_URL": _database_url(),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PETITIONS_SWEEP_SECONDS": "1",
        "CONN_MAX_AGE": "0",
    }
    log = (workdir / "worker.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 - a fixed command line
        [str(Path(sys.executable).parent / "celery"), "-A", "config", "worker", "--beat",
         "--loglevel=INFO", "--concurrency=2", "--pool=prefork",
         "--scheduler", "celery.beat:PersistentScheduler",
         "--schedule", str(workdir / "beat-schedule"), "--without-heartbeat",
         "--without-gossip", "--without-mingle"],
        cwd=BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    _wait_until_ready(workdir / "worker.log", process)
    yield process
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    log.close()


def _wait_until_ready(log_path: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        if "ready." in text:
            return
        if process.poll() is not None:
            raise RuntimeError(f"the Celery worker exited:\n{text[-3000:]}")
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    raise RuntimeError(f"the Celery worker did not start:\n{log_path.read_text()[-3000:]}")


@pytest.fixture(scope="module", autouse=True)
def _petitions_seed_restored(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Transactional tests end with a flush, which also removes the rows petitions' data
    migration seeded (the categories, the SLA policy). Put them back once the module is done, so
    tests that run later in this session, or in the next `--reuse-db` session, still find them."""
    yield
    from django.apps import apps

    seed_migration = importlib.import_module("petitions.migrations.0002_seed_categories")
    with django_db_blocker.unblock():
        seed_migration.seed(apps, None)
