"""What the query metrics' database wrapper costs a query, in CPU: django-prometheus' own and
the project's (core.dbbackends, settings.PROMETHEUS_DB_ENGINES).

    .venv/bin/python bench/db_wrapper.py [--vendor sqlite|postgresql] [--queries 20000]
    PROMETHEUS_MULTIPROC_DIR=$(mktemp -d) .venv/bin/python bench/db_wrapper.py   # mmap'd values

Three connections in one process, the plain backend, django-prometheus' wrapper of it and
core.dbbackends', run the same `SELECT %s` (execute + fetchone) in alternating rounds, a new
cursor every 5 statements (as the ORM opens one a query); the median CPU seconds
(time.process_time: this process only, not the database server's) per query of each, and the
difference. PostgreSQL: the `postgres` database on 127.0.0.1:5432 as user postgres (the CI
services lane's), or $BENCH_PG_* .
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import django
from django.conf import settings

BACKENDS = {"sqlite": ("django.db.backends.sqlite3", "django_prometheus.db.backends.sqlite3",
                       "core.dbbackends.sqlite3"),
            "postgresql": ("django.db.backends.postgresql",
                           "django_prometheus.db.backends.postgresql",
                           "core.dbbackends.postgresql")}


def databases(vendor: str) -> dict[str, dict[str, object]]:
    plain, wrapped, ours = BACKENDS[vendor]
    if vendor == "sqlite":
        options: dict[str, object] = {"NAME": ":memory:"}
    else:
        options = {"NAME": os.environ.get("BENCH_PG_NAME", "postgres"),
                   "USER": os.environ.get("BENCH_PG_USER", "postgres"),
                   "PASSWORD": os.environ.get("BENCH_PG_PASSWORD", ""),
                   "HOST": os.environ.get("BENCH_PG_HOST", "127.0.0.1"),
                   "PORT": int(os.environ.get("BENCH_PG_PORT", "5432"))}
    return {"default": {"ENGINE": plain, **options}, "wrapped": {"ENGINE": wrapped, **options},
            "ours": {"ENGINE": ours, **options}}


def cpu_per_query(alias: str, count: int) -> float:
    from django.db import connections

    connection = connections[alias]
    started = time.process_time()
    for first in range(0, count, 5):
        with connection.cursor() as cursor:
            for number in range(first, min(first + 5, count)):
                cursor.execute("SELECT %s", [number])
                cursor.fetchone()
    return (time.process_time() - started) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vendor", choices=sorted(BACKENDS), default="sqlite")
    parser.add_argument("--queries", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=9)
    arguments = parser.parse_args()
    settings.configure(DATABASES=databases(arguments.vendor),
                       INSTALLED_APPS=["django_prometheus"], USE_TZ=True)
    django.setup()
    aliases = ("default", "wrapped", "ours")
    for alias in aliases:  # connect, warm up
        cpu_per_query(alias, min(arguments.queries, 1000))
    figures: dict[str, list[float]] = {alias: [] for alias in aliases}
    for _round in range(arguments.rounds):
        for alias in aliases:
            figures[alias].append(cpu_per_query(alias, arguments.queries))
    plain, wrapped, ours = (statistics.median(figures[alias]) * 1e6 for alias in aliases)
    mode = "multiprocess" if os.environ.get("PROMETHEUS_MULTIPROC_DIR") else "one process"
    print(f"{arguments.vendor}, {mode}: CPU a query: plain {plain:.1f} µs; django-prometheus "
          f"{wrapped:.1f} µs (+{wrapped - plain:.1f}); core.dbbackends {ours:.1f} µs "
          f"(+{ours - plain:.1f})")


if __name__ == "__main__":
    main()
