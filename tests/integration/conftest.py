"""A real Celery worker with embedded beat, on the same PostgreSQL test database and Redis.

`celery_worker_process`: started once per module that asks for it, only when DATABASE_URL is
PostgreSQL and REDIS_URL is set; the tests that need it use transactional tests so the worker sees
their committed rows. (Module scope: a worker left running would sweep the next module's rows.)
For the fault tests: `private_redis` (a redis-server of the test's own, which it may stop and
start) and `celery_launcher` (workers and beats the test may kill; all stopped at its end).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
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


def celery_environment(**overrides: str) -> dict[str, str]:
    """The environment of a worker or beat process on the test database."""
    return {
        **os.environ,
        # local settings, not test: those make Celery eager, which would run the sweep inside
        # the beat process instead of sending it to the worker through Redis.
        "DJANGO_ENV": "local",
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DEBUG": "false",
        "SMS_BACKEND": "notifications.sms.LocmemSmsBackend",
        "DATABASE_URL": _database_url(),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PETITIONS_SWEEP_SECONDS": "1",
        "CONN_MAX_AGE": "0",
        **overrides,
    }


@pytest.fixture(scope="module")
def celery_worker_process(django_db_setup: None, django_db_blocker: object) -> Iterator[
        subprocess.Popen[bytes]]:
    """`celery -A config worker --beat` against the test database (its name is known only now,
    after pytest-django created it). The sweep runs every second."""
    if not SERVICES_READY:
        pytest.skip("needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL)")
    workdir = Path(tempfile.mkdtemp(prefix="portal-celery-"))
    environment = celery_environment()
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
    """Transactional tests end with a flush, which also removes the rows the data migrations
    seeded (the categories, the SLA policy, the holiday table). Put them back once the module is
    done, so tests that run later in this session, or in the next `--reuse-db` session, still
    find them."""
    yield
    from django.apps import apps

    seed_migration = importlib.import_module("petitions.migrations.0002_seed_categories")
    calendar_migration = importlib.import_module("core.migrations.0002_calendar")
    with django_db_blocker.unblock():
        seed_migration.seed(apps, None)
        calendar_migration.seed(apps, None)


# --- Fault tests: processes the test may kill ------------------------------------------------

CELERY = str(Path(sys.executable).parent / "celery")
PRIVATE_REDIS_PORT = int(os.environ.get("PRIVATE_REDIS_PORT", "6391"))


def wait_for(condition: Callable[[], Any], *, timeout: float, what: str,
             interval: float = 0.1) -> Any:
    """Poll until `condition()` is truthy (and return it); fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class PrivateRedis:
    """A redis-server on its own port (never the shared one), without persistence: a restart
    comes back empty, as a crashed cache-only Redis does."""

    def __init__(self, port: int, workdir: Path) -> None:
        self.port, self.workdir = port, workdir
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def _ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        if self._ping():
            raise RuntimeError(f"port {self.port} is taken: set PRIVATE_REDIS_PORT")
        log = (self.workdir / "redis.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - a fixed command line
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_for(self._ping, timeout=10, what=f"redis-server on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def client(self, db: int = 0) -> Any:
        import redis

        return redis.Redis.from_url(self.url(db), socket_timeout=5)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    if not SERVICES_READY:
        pytest.skip("needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL)")
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server on PATH")
    server = PrivateRedis(PRIVATE_REDIS_PORT, Path(tempfile.mkdtemp(prefix="portal-redis-")))
    server.start()
    yield server
    server.stop()


class CeleryProcess:
    """A `celery worker` or `celery beat` in its own process group, logging to a file."""

    def __init__(self, command: list[str], environment: dict[str, str], log_path: Path,
                 ready: str) -> None:
        self.log_path, self.ready = log_path, ready
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - a fixed command line
            command, cwd=BASE_DIR, env=environment, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pid = self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, *, timeout: float, count: int = 1) -> None:
        def seen() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"celery exited ({self.process.returncode}):\n"
                                     f"{self.log()[-3000:]}")
            return self.log().count(text) >= count

        try:
            wait_for(seen, timeout=timeout, what=f"{text!r} in {self.log_path.name}")
        except AssertionError as error:
            raise AssertionError(f"{error}\n{self.log()[-3000:]}") from None

    def wait_ready(self, timeout: float = 40) -> None:
        self.wait_for_log(self.ready, timeout=timeout)

    def children(self) -> list[int]:
        """The direct children (the prefork pool, an embedded beat), from /proc."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.pid:
                found.append(int(stat.parent.name))
        return sorted(found)

    def kill_group(self) -> None:
        """SIGKILL to every process of the group: no handler runs, no message is acked."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """At the end of the test: SIGKILL (a warm shutdown takes seconds; the broker is the
        test's own, so an unacked message left behind harms nobody)."""
        self.kill_group()
        self._log.close()


@pytest.fixture
def celery_launcher(django_db_setup: None) -> Iterator[Callable[..., CeleryProcess]]:
    """Start workers and beats on a broker of the test's choosing; every one is stopped at the
    end of the test, before the database is flushed.

    launch("worker", broker_url=..., concurrency=1, beat=False) waits for "ready.";
    launch("beat", broker_url=...) waits for beat's first line (wait=False: the caller calls
    wait_ready(), to start several at once). `env` adds variables."""
    if not SERVICES_READY:
        pytest.skip("needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL)")
    started: list[CeleryProcess] = []
    workdir = Path(tempfile.mkdtemp(prefix="portal-faults-"))

    def launch(kind: str, *, broker_url: str, concurrency: int = 1, beat: bool = False,
               env: dict[str, str] | None = None, wait: bool = True) -> CeleryProcess:
        number = len(started) + 1
        schedule = ["--scheduler", "celery.beat:PersistentScheduler",
                    "--schedule", str(workdir / f"beat-schedule-{number}")]
        if kind == "worker":
            command = [CELERY, "-A", "config", "worker", "--loglevel=INFO", "--pool=prefork",
                       f"--concurrency={concurrency}", "-n", f"faults{number}@%h",
                       "--without-heartbeat", "--without-gossip", "--without-mingle"]
            if beat:
                command += ["--beat", *schedule]
            ready = "ready."
        else:
            command = [CELERY, "-A", "config", "beat", "--loglevel=INFO", *schedule]
            ready = "beat: Starting"
        process = CeleryProcess(command, celery_environment(REDIS_URL=broker_url, **(env or {})),
                                workdir / f"{kind}-{number}.log", ready)
        started.append(process)
        if wait:
            process.wait_ready()
        return process

    yield launch
    for process in reversed(started):
        process.stop()
