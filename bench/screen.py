"""Big screen (大屏) benchmark on PostgreSQL: a street's screen over TOTAL petitions in a month.

    psql -h 127.0.0.1 -U postgres -c \
        "CREATE DATABASE portal_screen_bench LOCALE 'C' TEMPLATE template0"
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_screen_bench \
        .venv/bin/python bench/screen.py --total 1000000

Reuses report.py's fill (escalation.py's bench territory, three buildings a micro-grid, one
INSERT … SELECT generate_series; 20 % of the rows open, about 1 % of those overdue, 0.1 %
supervised) over November 2026, Shanghai time, and reads the screen at 23:59 on the 30th: the
month's rates then cover every row (the worst day of a month), today's intake a thirtieth of
them. `--reuse` keeps the rows of an earlier run (same TOTAL) instead of filling again.

Prints `screen_figure_counts` cold (its queries, each with its time, counted with
CaptureQueriesContext) and `screen_figures` warm: a second screen in the same minute. The cache
is a LocMemCache here (the bench has no Redis); in production a warm screen costs one Redis GET.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DEBUG", "false")

import django

django.setup()

from django.core.cache.backends.locmem import LocMemCache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from report import populate  # noqa: E402  the report bench's fill

from petitions.models import Petition  # noqa: E402
from reports import screen  # noqa: E402
from territory.models import Area  # noqa: E402

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 1, tzinfo=SHANGHAI)
END = datetime(2026, 12, 1, tzinfo=SHANGHAI)
NOW = END - timedelta(minutes=1)


def street_with(total: int, *, reuse: bool) -> Area:
    if reuse and Petition.objects.count() == total:
        street = Area.objects.get(depth=1, name="基准测试街道")
        print(f"reusing {total:,} petitions")
        return street
    started = time.perf_counter()
    street = populate(total=total, start=START, end=END)
    print(f"populated {total:,} petitions in {time.perf_counter() - started:.1f} s")
    return street


def cold(street: Area) -> None:
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        figures = screen.screen_figure_counts(area=street, now=NOW)
        seconds = time.perf_counter() - started
    print(f"cold (computed): {seconds:.2f} s, {len(queries.captured_queries)} queries — "
          f"today {figures['today']['total']:,}, open {figures['open']['total']:,}, "
          f"overdue {figures['open']['overdue']:,}, 督办 {figures['open']['supervised']:,}, "
          f"month {figures['month']['submitted']:,}, newest {len(figures['newest'])}")
    for query in queries.captured_queries:
        print(f"    {float(query['time']):.3f} s  {query['sql'][:110]}…")


def warm(street: Area) -> None:
    screen.cache = LocMemCache("screen-bench", {})  # type: ignore[assignment]
    screen.screen_figures(area=street, now=NOW)
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        for _screen in range(20):
            screen.screen_figures(area=street, now=NOW)
        seconds = time.perf_counter() - started
    print(f"warm (cached, 20 screens in the minute): {seconds * 1000:.2f} ms in all, "
          f"{len(queries.captured_queries)} queries")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--total", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true")
    arguments = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database (e.g. portal_screen_bench).")
    call_command("migrate", verbosity=0)
    street = street_with(arguments.total, reuse=arguments.reuse)
    cold(street)
    cold(street)  # again: the table's pages now in PostgreSQL's buffers
    warm(street)


if __name__ == "__main__":
    main()
