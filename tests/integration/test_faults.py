"""Escalation that survives faults: real PostgreSQL, a redis-server of the test's own, real Celery
worker and beat processes that the test kills.

"In the middle of a sweep" is made real without a sleep in production code: the test's own
PostgreSQL connection inserts, and keeps uncommitted, the inbox row (same dedupe key) the sweep
will write for one petition. The sweep's single statement has then claimed and moved every
overdue petition and written their events, and waits in `INSERT … ON CONFLICT` for the test's
transaction (pg_stat_activity: wait_event_type Lock, blocked by the test's backend). SIGKILL lands
there. The workers run with PostgreSQL's client_connection_check_interval (PGOPTIONS) so the
killed client's backend notices at once and rolls back instead of holding the rows until its
lock wait ends; without it the rows stay locked a little longer and the next sweep gets them.
"""

from __future__ import annotations

import ast
import http.server
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from celery import Celery
from django.conf import settings
from django.db import connection
from django.db.models import Count

from accounts.models import User
from notifications.models import Notification, OutboundMessage
from notifications.services import outbox_deliver
from notifications.sms import LocmemSmsBackend
from petitions.models import Petition, PetitionEvent, WebhookDelivery
from petitions.webhooks import webhook_deliveries_send_due
from tests.integration.conftest import BASE_DIR, _database_url, celery_environment, wait_for
from tests.petitions.factories import external_system, submit

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres")
                       or not os.environ.get("REDIS_URL"),
                       reason="needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL)"),
]
# Committed rows, so the worker (another process) sees them. The flush after each test removes
# the seeded category and SLA policy: `submit` and SlaPolicy.current() make them again, and the
# conftest puts the seed back when the module ends.
committed = pytest.mark.django_db(transaction=True)

# A killed client's backend notices within a quarter second, even while waiting for a lock.
DEAD_CLIENT_CHECK = {"PGOPTIONS": "-c client_connection_check_interval=250ms"}
SWEEP_DONE = re.compile(r"petitions\.sweep\[[^\]]+\] succeeded in [\d.]+s: (\{[^}]*\})")
PETITION = Petition._meta.db_table
INBOX = Notification._meta.db_table


# --- helpers -------------------------------------------------------------------------------------

def _clone(template: Petition, count: int, **columns: str) -> list[int]:
    """COUNT copies of TEMPLATE (made by the real service) in one INSERT … SELECT. `columns`
    replace a column by an SQL expression; g.i is the copy's number (1..count)."""
    names = [field.column for field in Petition._meta.concrete_fields if not field.primary_key]
    chosen = [columns.pop(name, f"p.{name}") for name in names]
    assert not columns, f"unknown columns {sorted(columns)}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {PETITION} ({', '.join(names)}) SELECT {', '.join(chosen)} "  # noqa: S608
            f"FROM {PETITION} p CROSS JOIN generate_series(1, %s) AS g(i) WHERE p.id = %s "
            "RETURNING id", [count, template.pk])
        return sorted(row[0] for row in cursor.fetchall())


def _overdue(resident: User, count: int) -> list[int]:
    """COUNT open micro-grid petitions an hour past their deadline; the grid's is a day off."""
    template = submit(resident)
    assert template.tier == "microgrid" and template.holder_id is not None
    return _clone(template, count, due_at="now() - interval '1 hour'",
                  microgrid_due_at="now() - interval '1 hour'",
                  grid_due_at="now() + interval '1 day'")


def _tiers(ids: list[int]) -> Counter[str]:
    return Counter(Petition.objects.filter(pk__in=ids).values_list("tier", flat=True))


def _tally(ids: list[int]) -> dict[str, Any]:
    """What the sweep left for these petitions, and the worst duplication found."""
    events = PetitionEvent.objects.filter(petition_id__in=ids, kind="escalated")
    per_tier = events.values("petition_id", "to_tier").annotate(n=Count("id"))
    links = [f"/petitions/staff/{pk}/" for pk in ids]
    inbox = Notification.objects.filter(link__in=links, dedupe_key__startswith="escalate:")
    per_message = inbox.values("user_id", "link", "title").annotate(n=Count("id"))
    return {
        "tiers": dict(_tiers(ids)),
        "events": events.count(),
        "most_events_per_tier": max((row["n"] for row in per_tier), default=0),
        "inbox": inbox.count(),
        "most_inbox_per_message": max((row["n"] for row in per_message), default=0),
    }


def _escalated_once(ids: list[int], tier: str = "grid") -> dict[str, Any]:
    return {"tiers": {tier: len(ids)}, "events": len(ids), "most_events_per_tier": 1,
            "inbox": len(ids), "most_inbox_per_message": 1}


NOTHING = {"events": 0, "most_events_per_tier": 0, "inbox": 0, "most_inbox_per_message": 0}


@contextmanager
def _blocker(petition_id: int, holder_id: int, tier: str = "grid") -> Iterator[
        psycopg.Connection[Any]]:
    """An open transaction holding the inbox row the sweep will write for one petition."""
    blocker = psycopg.connect(_database_url())
    try:
        blocker.execute(
            f"INSERT INTO {INBOX} (user_id, title, body, link, created_at, dedupe_key) "  # noqa: S608
            "VALUES (%s, 'blocker', '', '', now(), %s)",
            [holder_id, f"escalate:{petition_id}:{tier}:{holder_id}"])
        yield blocker
    finally:
        blocker.rollback()
        blocker.close()


def _sweeps_in_flight() -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, wait_event_type, pg_blocking_pids(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND state = 'active' "
            "AND pid <> pg_backend_pid() AND query LIKE %s", ["%WITH claimed (%"])
        return [{"pid": pid, "wait": wait, "blocked_by": blocked_by}
                for pid, wait, blocked_by in cursor.fetchall()]


def _wait_for_blocked_sweep(blocker: psycopg.Connection[Any], *, other_than: int = 0,
                            timeout: float = 30) -> int:
    """The backend pid of a sweep stuck behind the blocker (mid-statement, mid-transaction)."""
    def blocked() -> int:
        for sweep in _sweeps_in_flight():
            if (sweep["wait"] == "Lock" and blocker.info.backend_pid in sweep["blocked_by"]
                    and sweep["pid"] != other_than):
                return sweep["pid"]
        return 0

    return wait_for(blocked, timeout=timeout, what="a sweep blocked by the test's transaction")


def _claimable(ids: list[int]) -> int:
    """How many of these rows nobody holds a lock on (0: the sweep has claimed them all)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM (SELECT id FROM {PETITION} WHERE id = ANY(%s) "  # noqa: S608
                       "FOR UPDATE SKIP LOCKED) s", [ids])
        return int(cursor.fetchone()[0])


def _backend_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] == 0


def _publish_sweep(broker_url: str) -> None:
    """One petitions.sweep message, as beat sends it (a plain producer, not the eager test app)."""
    producer = Celery("faults-producer", broker=broker_url, set_as_current=False)
    try:
        producer.send_task("petitions.sweep")
    finally:
        producer.close()


def _sweep_totals(*logs: str) -> tuple[int, int, int]:
    """From worker logs: (sweeps that succeeded, petitions escalated, petitions flagged)."""
    found = [ast.literal_eval(result) for log in logs for result in SWEEP_DONE.findall(log)]
    return (len(found), sum(result["escalated"] for result in found),
            sum(result["supervised"] for result in found))


def _overlapping_sweeps(log: str) -> int:
    """Pairs of sweeps whose run times overlapped (from "[time: …] … succeeded in Ns")."""
    spans = []
    for stamp, seconds in re.findall(r"\[(\d{4}-[\d-]+ [\d:]+,\d+): INFO/ForkPoolWorker-\d+\] "
                                      r"Task petitions\.sweep\[[^\]]+\] succeeded in ([\d.]+)s",
                                      log):
        end = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=UTC).timestamp()
        spans.append((end - float(seconds), end))
    return sum(1 for i, (start, end) in enumerate(spans) for other_start, other_end in spans[i + 1:]
               if start < other_end and other_start < end)


class WebhookReceiver:
    """A loopback endpoint that records each POST and whether its event was already committed
    when it arrived (a side effect sent before commit would show up as not committed)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._db = psycopg.connect(_database_url(), autocommit=True)
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver._lock:
                    committed = receiver._db.execute(
                        f"SELECT count(*) FROM {PetitionEvent._meta.db_table} "  # noqa: S608
                        "WHERE id = %s", [payload["event_id"]]).fetchone()[0] == 1
                    receiver.received.append({
                        "delivery": self.headers["X-Portal-Delivery"],
                        "event_id": payload["event_id"], "kind": payload["kind"],
                        "committed": committed})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._db.close()


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


# --- the settings that make a lost task come back ------------------------------------------------

def test_a_lost_task_is_requeued_and_no_task_outlives_the_visibility_timeout():
    from config.celery import app

    app.loader.import_default_modules()
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    assert app.connection_for_write().transport_options["visibility_timeout"] == visibility
    tasks = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}
    assert {"petitions.sweep", "petitions.webhooks_deliver",
            "notifications.outbox_deliver"} <= set(tasks)
    for name, task in tasks.items():
        hard_limit = task.time_limit or app.conf.task_time_limit
        # A task still running when the timeout ends would be handed to a second worker.
        assert hard_limit and hard_limit < visibility, name
        assert task.acks_late and task.reject_on_worker_lost, name


# --- 1. the whole worker killed mid-sweep --------------------------------------------------------

@committed
def test_worker_killed_mid_sweep_of_1000_loses_none_and_doubles_none(
        private_redis, celery_launcher, resident_user, microgrid_worker, grid_worker,
        street_admin):
    ids = _overdue(resident_user, 1000)
    started = time.monotonic()
    with _blocker(ids[500], grid_worker.pk) as blocker:
        worker = celery_launcher("worker", broker_url=private_redis.url(), beat=True,
                                 env=DEAD_CLIENT_CHECK)
        sweep = _wait_for_blocked_sweep(blocker)
        assert _claimable(ids) == 0  # the sweep holds every one of the 1,000 rows …
        assert _tiers(ids) == {"microgrid": 1000}  # … and has committed none of them
        worker.kill_group()
        assert worker.children() == []
        wait_for(lambda: _backend_gone(sweep), timeout=10, what="the killed sweep's backend")
        # The killed transaction left nothing behind; its message is still unacknowledged.
        assert _tally(ids) == {"tiers": {"microgrid": 1000}, **NOTHING}
        assert private_redis.client().hlen("unacked") == 1
    killed_at = time.monotonic()

    restarted = celery_launcher("worker", broker_url=private_redis.url(), beat=True)
    wait_for(lambda: _tiers(ids) == {"grid": 1000}, timeout=40, what="all 1,000 escalated")
    caught_up = time.monotonic()
    sweeps = _sweep_totals(restarted.log())[0]
    # Two more sweeps over the finished rows change nothing.
    wait_for(lambda: _sweep_totals(restarted.log())[0] >= sweeps + 2, timeout=20,
             what="two more sweeps")
    assert _tally(ids) == _escalated_once(ids)
    assert _sweep_totals(restarted.log())[1] == 1000
    print(f"\n[faults] whole worker SIGKILL mid-sweep: 1000 overdue, 0 committed by the killed "
          f"sweep, 1000 escalated once after restart in {caught_up - killed_at:.1f} s "
          f"(test {time.monotonic() - started:.1f} s)")


# --- 2. only the pool child killed ---------------------------------------------------------------

@committed
def test_pool_child_killed_mid_sweep_the_task_comes_back_and_finishes(
        private_redis, celery_launcher, resident_user, microgrid_worker, grid_worker,
        street_admin):
    ids = _overdue(resident_user, 1000)
    started = time.monotonic()
    # No beat at all: only the redelivered message can finish the work.
    worker = celery_launcher("worker", broker_url=private_redis.url(), env=DEAD_CLIENT_CHECK)
    [child] = worker.children()
    with _blocker(ids[500], grid_worker.pk) as blocker:
        _publish_sweep(private_redis.url())
        first = _wait_for_blocked_sweep(blocker)
        assert _claimable(ids) == 0
        # The worker's main process is paused while its child dies, so the requeued message
        # cannot start before the killed child's backend has let the rows go. Unpaused, the
        # redelivery can win that race: its sweep then skips the still-locked rows (SKIP LOCKED),
        # succeeds with nothing done, and only the next beat would escalate them.
        os.kill(worker.process.pid, signal.SIGSTOP)
        try:
            os.kill(child, signal.SIGKILL)  # what the out-of-memory killer does
            wait_for(lambda: _backend_gone(first), timeout=10, what="the killed child's backend")
            assert _tiers(ids) == {"microgrid": 1000}
            assert _claimable(ids) == 1000
        finally:
            os.kill(worker.process.pid, signal.SIGCONT)
        worker.wait_for_log("WorkerLostError", timeout=15)
        # The same message, requeued, runs again in a fresh child and claims the rows again.
        second = _wait_for_blocked_sweep(blocker, other_than=first)
        new_children = worker.children()
        assert len(new_children) == 1 and new_children != [child]
    wait_for(lambda: _tiers(ids) == {"grid": 1000}, timeout=30, what="all 1,000 escalated")
    worker.wait_for_log("succeeded", timeout=10)
    assert worker.process.poll() is None
    assert _tally(ids) == _escalated_once(ids)
    assert _sweep_totals(worker.log()) == (1, 1000, 0)
    # One message: received, lost with its process, received again, done once.
    [task_id] = set(re.findall(r"petitions\.sweep\[([^\]]+)\] received", worker.log()))
    assert worker.log().count(f"petitions.sweep[{task_id}] received") == 2
    assert private_redis.client().llen("celery") == 0
    assert private_redis.client().hlen("unacked") == 0
    print(f"\n[faults] pool child SIGKILL mid-sweep: backend {first} gone, redelivered as "
          f"{second}; 1000 escalated once by 1 sweep, no beat ({time.monotonic() - started:.1f} s)")


# --- 3. two beats at once ------------------------------------------------------------------------

@committed
def test_two_beats_at_once_escalate_and_notify_once_after_commit(
        private_redis, celery_launcher, webhook_receiver, resident_user, microgrid_worker,
        grid_worker, street_admin):
    hotline = external_system(webhook_url=webhook_receiver.url)
    template = submit(resident_user)
    broker = private_redis.url()
    env = {"PETITIONS_SWEEP_SECONDS": "0.5"}
    worker = celery_launcher("worker", broker_url=broker, concurrency=2, env=env, wait=False)
    beats = [celery_launcher("beat", broker_url=broker, env=env, wait=False) for _ in range(2)]
    for process in (worker, *beats):
        process.wait_ready()
    # 1,000 petitions falling due in 40 waves over 2 s; each tier's deadline 1.5 s after the last.
    # Every 40th comes from the 12345 hotline, which gets a signed webhook for each event.
    ids = _clone(
        template, 1000,
        due_at="now() + (g.i %% 40) * interval '50 ms'",
        microgrid_due_at="now() + (g.i %% 40) * interval '50 ms'",
        grid_due_at="now() + interval '1.5 s' + (g.i %% 40) * interval '50 ms'",
        street_due_at="now() + interval '3 s' + (g.i %% 40) * interval '50 ms'",
        external_system_id=f"CASE WHEN g.i %% 40 = 0 THEN {hotline.pk} END",
        external_ref="CASE WHEN g.i %% 40 = 0 THEN 'faults-' || g.i END",
    )
    started = time.monotonic()
    external = Petition.objects.filter(pk__in=ids, external_system=hotline).count()
    assert external == 25

    def finished() -> bool:
        return (Petition.objects.filter(pk__in=ids, tier="street", supervised=True).count()
                == 1000 and len(webhook_receiver.received) >= 3 * external)

    wait_for(finished, timeout=45, what="1,000 petitions escalated twice and supervised")
    done = time.monotonic()
    wait_for(lambda: all(b.log().count("Sending due task petitions-sweep") >= 6 for b in beats),
             timeout=10, what="both beats sending")

    events = PetitionEvent.objects.filter(petition_id__in=ids)
    assert events.filter(kind="escalated").count() == 2000
    assert events.filter(kind="supervised").count() == 1000
    assert max(events.filter(kind="escalated").values("petition_id", "to_tier")
               .annotate(n=Count("id")).values_list("n", flat=True)) == 1
    links = [f"/petitions/staff/{pk}/" for pk in ids]
    inbox = Notification.objects.filter(link__in=links)
    assert inbox.filter(dedupe_key__startswith="escalate:").count() == 2000
    assert inbox.filter(dedupe_key__startswith="supervise:").count() == 1000
    assert max(inbox.values("user_id", "link", "title").annotate(n=Count("id"))
               .values_list("n", flat=True)) == 1
    deliveries = WebhookDelivery.objects.filter(petition_id__in=ids)
    assert deliveries.count() == 3 * external
    assert deliveries.filter(delivered_at__isnull=False, attempts=1).count() == 3 * external
    received = webhook_receiver.received
    assert len(received) == 3 * external
    assert len({r["delivery"] for r in received}) == len({r["event_id"] for r in received}) \
        == 3 * external
    assert all(r["committed"] for r in received)
    assert Counter(r["kind"] for r in received) == {"escalated": 2 * external,
                                                     "supervised": external}
    sweeps, escalated, supervised = _sweep_totals(worker.log())
    assert (escalated, supervised) == (2000, 1000)
    sent = [b.log().count("Sending due task petitions-sweep") for b in beats]
    print(f"\n[faults] two beats ({sent} sweeps sent), 2 pool processes: {sweeps} sweeps "
          f"({_overlapping_sweeps(worker.log())} pairs overlapping), "
          f"2000 escalations + 1000 supervisions each once, 3000 inbox rows, "
          f"{len(received)} webhooks each once after commit; done {done - started:.1f} s "
          "after the first petition fell due")


# --- 4. Redis restarted mid-run ------------------------------------------------------------------

@committed
def test_redis_restarted_mid_run_the_next_sweep_catches_up(
        private_redis, celery_launcher, resident_user, microgrid_worker, grid_worker,
        street_admin):
    worker = celery_launcher("worker", broker_url=private_redis.url(), beat=True)
    before = _overdue(resident_user, 100)
    wait_for(lambda: _tiers(before) == {"grid": 100}, timeout=30, what="the first 100")
    private_redis.stop()
    stopped = time.monotonic()
    worker.wait_for_log("Connection to broker lost", timeout=15)
    time.sleep(0.5)  # anything the worker was running when Redis died has finished
    during = _overdue(resident_user, 200)  # fall due while Redis is down
    time.sleep(2)  # beat ticks that cannot be sent
    assert _tiers(during) == {"microgrid": 200}
    private_redis.start()  # empty: every queued message is gone
    restarted = time.monotonic()
    wait_for(lambda: _tiers(during) == {"grid": 200}, timeout=45,
             what="the 200 that fell due during the outage")
    caught_up = time.monotonic()
    assert _tally(before) == _escalated_once(before)
    assert _tally(during) == _escalated_once(during)
    assert worker.process.poll() is None
    print(f"\n[faults] Redis down {restarted - stopped:.1f} s: 200 fell due meanwhile, 0 moved "
          f"while down, all 200 escalated once {caught_up - restarted:.1f} s after it came back")


# --- 5. a rolled-back transaction sends nothing --------------------------------------------------

# Run by the production configuration (local settings, Celery not eager, Redis the broker):
# once rolled back, then — when the test writes a line — once committed.
PROBE_SCRIPT = """
import json, sys
import django
django.setup()
from django.db import connection, transaction
from django.utils import timezone
from accounts.models import User
from territory.models import Building
from notifications.models import OutboundMessage
from notifications.services import sms_enqueue
from petitions.models import Category, WebhookDelivery
from petitions.services import petition_submit
from petitions.sweep import petitions_escalate_overdue

user_id, building_id, category_id = sys.argv[1:4]


class Abandon(Exception):
    pass


def probe(external_ref, *, commit):
    sms_before = OutboundMessage.objects.count()
    webhooks_before = WebhookDelivery.objects.count()
    try:
        with transaction.atomic():
            petition_submit(
                actor=User.objects.get(pk=user_id), channel="hotline_12345",
                category=Category.objects.get(pk=category_id), description="rollback probe",
                building=Building.objects.get(pk=building_id), contact_phone="13700000042",
                external_ref=external_ref)
            # The hotline's caller is never texted (the hotline tells them); an SMS of its own
            # keeps the outbox in the probe.
            sms_enqueue(phone="13700000042", body="rollback probe")
            moved = petitions_escalate_overdue(now=timezone.now())
            print(json.dumps({"moved": moved,
                              "sms": OutboundMessage.objects.count() - sms_before,
                              "webhooks": WebhookDelivery.objects.count() - webhooks_before,
                              "on_commit": len(connection.run_on_commit)}), flush=True)
            if not commit:
                raise Abandon
    except Abandon:
        pass


probe("probe-1", commit=False)
sys.stdin.readline()
probe("probe-2", commit=True)
"""


class Probe:
    def __init__(self, *, broker_url: str, hotline: User, building_id: int,
                 category_id: int) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - a fixed command line
            [sys.executable, "-c", PROBE_SCRIPT, str(hotline.pk), str(building_id),
             str(category_id)],
            cwd=BASE_DIR, env=celery_environment(REDIS_URL=broker_url), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def result(self) -> dict[str, int]:
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line:
            self.process.wait(timeout=30)
            raise AssertionError(self.process.stderr.read()[-3000:])
        return json.loads(line)

    def go_on(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("\n")
        self.process.stdin.flush()

    def finish(self) -> None:
        assert self.process.wait(timeout=30) == 0, self.process.stderr.read()[-3000:]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def _published(redis_client: Any) -> list[str]:
    return sorted(json.loads(message)["headers"]["task"]
                  for message in redis_client.lrange("celery", 0, -1))


@committed
def test_rolled_back_transaction_sends_nothing(
        request, private_redis, webhook_receiver, territory, resident_user, microgrid_worker,
        grid_worker, street_admin):
    hotline = external_system(webhook_url=webhook_receiver.url)
    ids = _overdue(resident_user, 20)
    Petition.objects.filter(pk__in=ids).update(external_system=hotline)
    probe = Probe(broker_url=private_redis.url(), hotline=hotline,
                  building_id=territory.building1.pk,
                  category_id=Petition.objects.get(pk=ids[0]).category_id)
    request.addfinalizer(probe.close)
    redis_client = private_redis.client()
    sms_before = OutboundMessage.objects.count()  # the template's, already sent (eager here)
    LocmemSmsBackend.outbox.clear()

    queued = probe.result()
    # Inside the transaction, queued: the probe's SMS, the hotline petition's 2 webhooks
    # (submitted, dispatched) and 20 escalation webhooks; on commit: 1 outbox task, 2 webhook
    # tasks from the submission and 1 from the sweep.
    assert queued == {"moved": 20, "sms": 1, "webhooks": 2 + 20, "on_commit": 1 + 2 + 1}
    assert _published(redis_client) == []
    assert OutboundMessage.objects.count() == sms_before
    assert WebhookDelivery.objects.count() == 0
    assert not Petition.objects.filter(external_ref="probe-1").exists()
    assert _tally(ids) == {"tiers": {"microgrid": 20}, **NOTHING}
    assert (outbox_deliver(), webhook_deliveries_send_due()) == (0, 0)
    assert LocmemSmsBackend.outbox == [] and webhook_receiver.received == []

    # The same run committed: everything is queued and published, and can be sent.
    probe.go_on()
    assert probe.result() == queued
    probe.finish()
    assert _published(redis_client) == ["notifications.outbox_deliver",
                                        *["petitions.webhooks_deliver"] * 3]
    assert Petition.objects.filter(external_ref="probe-2").exists()
    assert _tally(ids) == _escalated_once(ids)
    assert (outbox_deliver(), webhook_deliveries_send_due()) == (1, 22)
    assert [sms["phone"] for sms in LocmemSmsBackend.outbox] == ["13700000042"]
    assert len(webhook_receiver.received) == 22
    assert all(received["committed"] for received in webhook_receiver.received)
    LocmemSmsBackend.outbox.clear()
