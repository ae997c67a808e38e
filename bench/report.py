"""Monthly report benchmark on PostgreSQL: one street's month of TOTAL petitions.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_h4_bench \
        .venv/bin/python bench/report.py --total 1000000

Reuses escalation.py's bench territory (1 street, 1 community, 2 grids, 5 micro-grids), adds a
compound with three buildings a micro-grid, and fills last month with TOTAL petitions in one
server-side INSERT … SELECT generate_series: every channel and three categories in turn, a mix
of dispatched, arrived (some late), resolved on time or late at each tier, rated, and a few
overdue and supervised. Then times `report_figures` (the aggregate queries, counted with
CaptureQueriesContext) and `report_generate` (figures + the .xlsx + the row), then the grid and
worker rankings and the stats API's report and rankings payloads (uncached) over the same month.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DEBUG", "false")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from escalation import territory, vacuum  # noqa: E402  the bench territory

from petitions.models import Category, Petition, PetitionEvent, WebhookDelivery  # noqa: E402
from reports import rankings  # noqa: E402
from reports.api.views import rankings_payload, report_payload  # noqa: E402
from reports.selectors import report_figures  # noqa: E402
from reports.services import report_generate  # noqa: E402
from territory.models import Area, Building, Compound  # noqa: E402

FILL = """
INSERT INTO petitions_petition (
    created_at, updated_at, channel, category_id, answers, description, location_text, size,
    tier, state, holder_id, area_id, area_path, origin_path, building_id, contact_name,
    contact_phone, is_public, is_anonymous, submitted_at, clock_started_at, dispatched_at,
    arrival_due_at, arrived_at, arrival_missed, microgrid_due_at, grid_due_at, street_due_at,
    due_at, supervised, supervised_at, reopened_count, rating, rating_comment,
    rejection_reason, resolution, resolved_at, resolved_tier, resolved_on_time, placement,
    placement_reason, callback_method)
SELECT s.at, s.at, (ARRAY['mobile_web','walk_in','phone','hotline_12345','susuban','api'])
           [1 + i %% 6],
       (%(categories)s::bigint[])[1 + i %% 3], '{}'::jsonb, '基准诉求 ' || i, '', 'small',
       s.tier, CASE WHEN s.resolved THEN 'rated' ELSE 'on_site' END,
       NULL, (%(areas)s::bigint[])[s.m], (%(paths)s::text[])[s.m], (%(paths)s::text[])[s.m],
       (%(buildings)s::bigint[])[s.b], '', '', FALSE, FALSE, s.at, s.at,
       CASE WHEN i %% 10 <> 0 THEN s.at END, s.at + interval '7 minutes',
       CASE WHEN i %% 10 <> 0 THEN s.at + interval '5 minutes' END, i %% 17 = 0,
       s.at + interval '1 day', s.at + interval '3 days', s.at + interval '5 days',
       CASE WHEN i %% 101 = 0 THEN s.at + interval '1 day' ELSE s.at + interval '40 days' END,
       i %% 997 = 0,
       CASE WHEN i %% 997 = 0 THEN s.at + interval '5 days' END,
       0, CASE WHEN s.resolved AND i %% 3 <> 0 THEN (ARRAY['satisfied','basic','unsatisfied'])
           [1 + i %% 3] ELSE '' END, '', '', '',
       CASE WHEN s.resolved THEN s.at + interval '20 hours' END,
       CASE WHEN s.resolved THEN s.tier ELSE '' END,
       CASE WHEN s.resolved THEN i %% 11 <> 0 END, 'given', '', ''
FROM generate_series(1, %(total)s) AS i
CROSS JOIN LATERAL (SELECT 1 + i %% %(micro_count)s AS m,
    1 + i %% %(building_count)s AS b,
    (ARRAY['microgrid','microgrid','grid','street'])[1 + i %% 4] AS tier,
    i %% 5 <> 0 AS resolved,
    %(start)s::timestamptz
        + (i::float / %(total)s) * (%(end)s::timestamptz - %(start)s::timestamptz) AS at) AS s
"""


def buildings(micros: list[Area]) -> list[int]:
    """Three buildings a micro-grid, in one bench compound (created once)."""
    compound = Compound.objects.filter(name="基准小区").first()
    if compound is None:
        community = Area.objects.get(pk=micros[0].get_parent().get_parent().pk)
        compound = Compound.objects.create(name="基准小区", community=community)
        Building.objects.bulk_create(
            Building(compound=compound, micro_grid=micro, number=str(index * 3 + offset + 1))
            for index, micro in enumerate(micros) for offset in range(3))
    return list(Building.objects.filter(compound=compound).order_by("micro_grid__path", "id")
                .values_list("id", flat=True))


def populate(*, total: int, start: date, end: date) -> Area:
    place = territory()
    micros: list[Area] = place["micros"]  # type: ignore[assignment]
    building_ids = buildings(micros)
    categories = list(Category.objects.order_by("id").values_list("id", flat=True)[:3])
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {WebhookDelivery._meta.db_table}, "
                       f"{PetitionEvent._meta.db_table}, {Petition._meta.db_table} CASCADE")
        cursor.execute(FILL, {
            "total": total, "start": start.isoformat(), "end": end.isoformat(),
            "categories": (categories * 3)[:3], "micro_count": len(micros),
            "building_count": len(building_ids), "buildings": building_ids,
            "areas": [micro.pk for micro in micros], "paths": [micro.path for micro in micros]})
    vacuum()
    return Area.objects.get(path=micros[0].path[:Area.steplen])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--total", type=int, default=1_000_000)
    arguments = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database (e.g. portal_h4_bench).")
    call_command("migrate", verbosity=0)
    month = date(2026, 11, 1)
    started = time.perf_counter()
    street = populate(total=arguments.total, start=month, end=date(2026, 12, 1))
    print(f"populated {arguments.total:,} petitions in {time.perf_counter() - started:.1f} s")
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        figures = report_figures(area=street, start=month, kind="month")
        seconds = time.perf_counter() - started
    print(f"report_figures: {figures.rates['submitted']:,} petitions, "
          f"{len(figures.overdue):,} overdue, {len(figures.supervised):,} supervised "
          f"in {seconds:.2f} s with {len(queries.captured_queries)} queries")
    started = time.perf_counter()
    report_generate(street=street, kind="month", period_start=month)
    print(f"report_generate (figures + .xlsx + row): {time.perf_counter() - started:.2f} s")
    # The rankings (考核排名) and the stats API's two payloads over the same month, uncached.
    for label, run in (
        ("grid_ranking", lambda: rankings.grid_ranking(street=street, start=month,
                                                       end=date(2026, 12, 1))),
        ("worker_ranking", lambda: rankings.worker_ranking(street=street, start=month,
                                                           end=date(2026, 12, 1))),
        ("stats API report_payload", lambda: report_payload(area=street, start=month,
                                                            kind="month")),
        ("stats API rankings_payload", lambda: rankings_payload(
            area=street, start=month, kind="month", rate="resolution")),
    ):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            run()
            seconds = time.perf_counter() - started
        print(f"{label}: {seconds:.2f} s with {len(queries.captured_queries)} queries")


if __name__ == "__main__":
    main()
