"""Escalation sweep benchmark on PostgreSQL: one sweep vs one hand-written UPDATE.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_h4_bench \
        .venv/bin/python bench/escalation.py --total 1000000 --overdue 10000

Creates (or reuses) a minimal territory — a street, a community, two grids, five micro-grids,
their workers — and TOTAL open petitions (OVERDUE of them past the micro-grid deadline) with one
server-side bulk INSERT … SELECT generate_series. Then:
1. times one `petitions_sweep` (missed arrivals + escalation + supervision + 黄牌/红牌), printing
   the petitions escalated, the cards issued, the seconds and the queries (CaptureQueriesContext);
   then, alone, the card step (petitions.cards.petitions_issue_cards) on the same rows, its
   seconds and queries. Each row's next card look (`card_check_at`) is armed as the card sweep
   leaves it — the micro-grid yellow card's moment (20 % before the deadline, the seeded rule) —
   so only the rows whose card is due are claimed, as in steady operation;
2. puts the rows back, VACUUM ANALYZE, and times one hand-written UPDATE moving the same rows up
   (tier, deadline, area, holder) — the floor any sweep must pay — and prints the ratio.
The sweep also writes a timeline event, an inbox row and (for external petitions) a webhook row
per petition, which the bare UPDATE does not.
3. 签收 and 滞留提醒 (petitions/acceptance.py, petitions/stalled.py): marks the rows as the
   acceptance columns would have them — every (TOTAL // OVERDUE)-th one dispatched and not
   accepted past its limit, a share accepted long ago with no note since, a share resolved and
   not verified — then times the sweep's acceptance step (`petitions_accept_overdue`) and one
   stalled-work digest (`stalled_digest_send`, the beat job without its day-off check), each
   with its query count, and runs each a second time (the second beat: it must write nothing).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_h4_bench \
        .venv/bin/python bench/escalation.py --petitions 2000   # a quick check of every step
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DEBUG", "false")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from notifications.models import Notification  # noqa: E402
from petitions.acceptance import petitions_accept_overdue  # noqa: E402
from petitions.cards import petitions_issue_cards  # noqa: E402
from petitions.models import (  # noqa: E402
    Category,
    Petition,
    PetitionCard,
    PetitionEvent,
    StalledDigestRun,
    WebhookDelivery,
)
from petitions.stalled import stalled_digest_send  # noqa: E402
from petitions.sweep import petitions_sweep  # noqa: E402
from territory.models import Area  # noqa: E402

STREET = "基准测试街道"


def territory() -> dict[str, object]:
    """The bench territory, created once: micro-grid ids/paths, their workers, grid workers."""
    street = Area.objects.filter(depth=1, name=STREET).first()
    if street is None:
        street = Area.objects.add_root({"name": STREET, "kind": Area.Kind.STREET})
        community = Area.objects.add_child(street, {"name": "基准社区",
                                                    "kind": Area.Kind.COMMUNITY})
        for grid_number, micro_count in ((1, 3), (2, 2)):
            grid = Area.objects.add_child(community, {"name": f"基准网格{grid_number}",
                                                      "kind": Area.Kind.GRID})
            User.objects.create(username=f"bench-grid{grid_number}", role=User.Role.GRID_WORKER,
                                scope_area=grid)
            for micro_number in range(micro_count):
                name = f"基准微网格{grid_number}-{micro_number}"
                micro = Area.objects.add_child(grid, {"name": name,
                                                      "kind": Area.Kind.MICROGRID})
                User.objects.create(username=f"bench-micro{grid_number}-{micro_number}",
                                    role=User.Role.MICROGRID_WORKER, scope_area=micro)
        User.objects.create(username="bench-street", role=User.Role.STREET_ADMIN,
                            scope_area=street)
    micros = list(Area.objects.filter(path__startswith=street.path, kind=Area.Kind.MICROGRID)
                  .order_by("path"))
    workers = dict(User.objects.filter(scope_area__in=micros).values_list("scope_area_id", "id"))
    return {"micros": micros, "workers": workers}


def populate(*, total: int, overdue: int, now: object) -> None:
    """TOTAL open dispatched petitions, every (TOTAL // OVERDUE)-th one overdue."""
    place = territory()
    micros: list[Area] = place["micros"]  # type: ignore[assignment]
    workers: dict[int, int] = place["workers"]  # type: ignore[assignment]
    category_id = Category.objects.order_by("id").values_list("id", flat=True).first()
    step = max(total // max(overdue, 1), 1)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {WebhookDelivery._meta.db_table}, "
                       f"{PetitionEvent._meta.db_table}, {PetitionCard._meta.db_table}, "
                       f"{Petition._meta.db_table} CASCADE")
        cursor.execute(f"DELETE FROM {Notification._meta.db_table} "
                       "WHERE dedupe_key LIKE 'escalate:%%' OR dedupe_key LIKE 'card:%%'")
        cursor.execute(
            f"""
            INSERT INTO {Petition._meta.db_table} (
                created_at, updated_at, channel, category_id, answers, description,
                location_text, size, tier, state, holder_id, area_id, area_path, origin_path,
                contact_name, contact_phone, is_public, is_anonymous, submitted_at,
                clock_started_at,
                dispatched_at, arrival_due_at, arrived_at, arrival_missed, microgrid_due_at,
                grid_due_at, street_due_at, due_at, supervised, reopened_count, rating,
                rating_comment, rejection_reason, resolution, resolved_tier, placement,
                placement_reason, callback_method, card_check_at)
            SELECT s.at, s.at, 'mobile_web', %(category)s, '{{}}'::jsonb, '基准诉求 ' || i, '',
                   'small', 'microgrid', 'on_site', (%(holders)s::bigint[])[m],
                   (%(areas)s::bigint[])[m], (%(paths)s::text[])[m], (%(paths)s::text[])[m],
                   '', '', FALSE, FALSE, s.at, s.at, s.at,
                   s.at + interval '7 minutes', s.at + interval '3 minutes', FALSE,
                   s.at + interval '1 day', s.at + interval '3 days', s.at + interval '5 days',
                   s.at + interval '1 day', FALSE, 0, '', '', '', '', '', 'given', '', '',
                   s.at + interval '19 hours 12 minutes'
            FROM generate_series(1, %(total)s) AS i
            CROSS JOIN LATERAL (SELECT 1 + (i %% %(micro_count)s) AS m,
                CASE WHEN i %% %(step)s = 0 AND i / %(step)s <= %(overdue)s
                     THEN %(now)s::timestamptz - interval '1 day 1 hour'
                     ELSE %(now)s::timestamptz - interval '2 hours' END AS at) AS s
            """,
            {"category": category_id, "total": total, "step": step, "overdue": overdue,
             "now": now, "micro_count": len(micros),
             "holders": [workers.get(micro.pk) for micro in micros],
             "areas": [micro.pk for micro in micros], "paths": [micro.path for micro in micros]},
        )
    vacuum()


def vacuum() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Petition._meta.db_table}")
        cursor.execute(f"VACUUM ANALYZE {PetitionEvent._meta.db_table}")
        cursor.execute(f"VACUUM ANALYZE {Notification._meta.db_table}")


def reset(*, now: object) -> None:
    """Put the escalated rows back where they were and drop what the sweep wrote."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {Petition._meta.db_table} p SET tier = 'microgrid',
                   due_at = p.microgrid_due_at, area_id = a.id, area_path = a.path,
                   holder_id = (SELECT u.id FROM accounts_user u WHERE u.scope_area_id = a.id
                                ORDER BY u.id LIMIT 1)
               FROM {Area._meta.db_table} a
               WHERE a.path = p.origin_path AND p.tier <> 'microgrid'""")
        cursor.execute(f"TRUNCATE {PetitionEvent._meta.db_table}, "
                       f"{WebhookDelivery._meta.db_table}, {PetitionCard._meta.db_table} CASCADE")
        cursor.execute(f"DELETE FROM {Notification._meta.db_table} "
                       "WHERE dedupe_key LIKE 'escalate:%%' OR dedupe_key LIKE 'card:%%'")
        # The card columns as populate() left them: the next look at the yellow card's moment.
        cursor.execute(f"""UPDATE {Petition._meta.db_table} SET yellow_card_at = NULL,
                               red_card_at = NULL, supervised = FALSE, supervised_at = NULL,
                               card_check_at = submitted_at + interval '19 hours 12 minutes'
                           WHERE card_check_at IS DISTINCT FROM
                                 submitted_at + interval '19 hours 12 minutes'
                              OR yellow_card_at IS NOT NULL OR red_card_at IS NOT NULL""")
    vacuum()


HAND_WRITTEN = """
UPDATE petitions_petition p SET tier = 'grid', due_at = p.grid_due_at, updated_at = %(now)s,
    area_id = g.id, area_path = g.path,
    holder_id = COALESCE((SELECT u.id FROM accounts_user u WHERE u.scope_area_id = g.id
                          AND u.role = 'grid_worker' AND u.is_active ORDER BY u.id LIMIT 1),
                         p.holder_id)
FROM governance_area g
WHERE p.tier = 'microgrid' AND p.due_at < %(now)s
  AND p.state IN ('submitted', 'dispatched', 'on_site', 'returned', 'reopened')
  AND g.path = substr(p.area_path, 1, 12)
"""


ACCEPTANCE_COLUMNS = """
UPDATE petitions_petition SET
    accept_due_at = dispatched_at + interval '5 minutes', accept_overdue_at = NULL,
    accepted_at = CASE WHEN id %% %(step)s = 1 THEN NULL ELSE dispatched_at END,
    last_progress_at = CASE WHEN id %% %(step)s = 2 THEN %(now)s - interval '3 days'
                            ELSE dispatched_at END,
    state = CASE WHEN id %% %(step)s = 3 THEN 'resolved' ELSE state END,
    resolved_at = CASE WHEN id %% %(step)s = 3 THEN %(now)s - interval '2 days'
                       ELSE resolved_at END
"""


def timed(label: str, step: Callable[[], int]) -> None:
    """One run of `step`, then a second (the second beat), with seconds and queries each."""
    for attempt in ("first", "second"):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            count = step()
            seconds = time.perf_counter() - started
        print(f"{label} ({attempt} run): {count:,} in {seconds:.3f} s "
              f"with {len(queries.captured_queries)} queries")


def acceptance_and_stalled(*, total: int, overdue: int, now: datetime) -> None:
    """Section 3: the acceptance step and the stalled-work digest over the bench rows."""
    step = max(total // max(overdue, 1), 4)
    with connection.cursor() as cursor:
        cursor.execute(ACCEPTANCE_COLUMNS, {"step": step, "now": now})
        cursor.execute(f"DELETE FROM {Notification._meta.db_table} "
                       "WHERE dedupe_key LIKE 'accept-overdue:%%' "
                       "OR dedupe_key LIKE 'stalled-digest:%%'")
    StalledDigestRun.objects.all().delete()
    vacuum()
    print(f"every {step}-th petition not accepted, every {step}-th accepted with no note for "
          f"3 days, every {step}-th resolved 2 days ago and not verified")
    timed("acceptance step: petitions stamped 签收超时",
          lambda: petitions_accept_overdue(now=now))
    timed("stalled digest: people told", lambda: stalled_digest_send(now=now))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total", "--petitions", type=int, default=1_000_000)
    parser.add_argument("--overdue", type=int, default=None,
                        help="default: 1%% of --total")
    arguments = parser.parse_args()
    overdue = arguments.overdue if arguments.overdue is not None else arguments.total // 100
    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database (e.g. portal_h4_bench).")
    call_command("migrate", verbosity=0)
    now = timezone.now()
    started = time.perf_counter()
    populate(total=arguments.total, overdue=overdue, now=now)
    print(f"populated {arguments.total:,} open petitions ({overdue:,} overdue) "
          f"in {time.perf_counter() - started:.1f} s")

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = petitions_sweep(now=now)
        sweep_seconds = time.perf_counter() - started
    print(f"sweep: escalated {result.escalated:,} petitions in {sweep_seconds:.3f} s "
          f"with {len(queries.captured_queries)} queries "
          f"(supervised {result.supervised}, missed arrivals {result.arrivals_missed}, "
          f"yellow cards {result.yellow_cards:,}, red cards {result.red_cards:,})")

    reset(now=now)
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        cards = petitions_issue_cards(now=now)
        cards_seconds = time.perf_counter() - started
    print(f"cards alone: {cards.yellow:,} yellow and {cards.red:,} red in {cards_seconds:.3f} s "
          f"with {len(queries.captured_queries)} queries")

    reset(now=now)
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(HAND_WRITTEN, {"now": now})
        hand_rows = cursor.rowcount
        hand_seconds = time.perf_counter() - started
    print(f"hand-written UPDATE: {hand_rows:,} rows in {hand_seconds:.3f} s")
    print(f"ratio sweep / hand-written UPDATE: {sweep_seconds / hand_seconds:.2f}x")
    reset(now=now + timedelta(0))
    acceptance_and_stalled(total=arguments.total, overdue=overdue, now=now)


if __name__ == "__main__":
    main()
