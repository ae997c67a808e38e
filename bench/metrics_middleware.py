"""What django-prometheus' middleware costs a request, in CPU (issue 20).

    .venv/bin/python bench/metrics_middleware.py [--requests 3000] [--rounds 5]

Two measures, CPU seconds (time.process_time), median of the rounds:
1. the pair alone: PrometheusBeforeMiddleware → PrometheusAfterMiddleware around a view that
   returns at once, against the same view bare (the middleware's own work: counters, the latency
   histogram, labels by view and method);
2. the whole stack: GET /healthz through the test client with settings.MIDDLEWARE as shipped, and
   with the two Prometheus entries taken out (what a real request pays, and how that compares
   with the rest of the stack).
Both run in one process against the test settings (SQLite in memory), without
PROMETHEUS_MULTIPROC_DIR; with it, each counter increment also writes to an mmap'd file, which
--multiprocess measures (a temporary directory).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the apps, whatever the editable install of the venv lists
PROMETHEUS_MIDDLEWARE = ("django_prometheus.middleware.PrometheusBeforeMiddleware",
                         "django_prometheus.middleware.PrometheusAfterMiddleware")


def cpu_per_call(call: Callable[[], object], count: int) -> float:
    started = time.process_time()
    for _ in range(count):
        call()
    return (time.process_time() - started) / count


def median_of(rounds: int, call: Callable[[], object], count: int) -> float:
    call()  # warm: the first request resolves URLs, imports, creates the label children
    return statistics.median(cpu_per_call(call, count) for _ in range(rounds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--multiprocess", action="store_true",
                        help="PROMETHEUS_MULTIPROC_DIR set, as under gunicorn in compose")
    arguments = parser.parse_args()
    if arguments.multiprocess:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="bench-metrics-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    import django

    django.setup()
    from django.conf import settings
    from django.http import HttpResponse
    from django.test import Client, RequestFactory, override_settings
    from django.test.utils import setup_databases, setup_test_environment
    from django_prometheus.middleware import (
        PrometheusAfterMiddleware,
        PrometheusBeforeMiddleware,
    )

    setup_test_environment()
    setup_databases(verbosity=0, interactive=False)
    count, rounds = arguments.requests, arguments.rounds

    def view(request: object) -> HttpResponse:
        return HttpResponse("ok")

    request = RequestFactory().get("/healthz")
    wrapped = PrometheusBeforeMiddleware(PrometheusAfterMiddleware(view))
    bare = median_of(rounds, lambda: view(request), count)
    pair = median_of(rounds, lambda: wrapped(request), count)

    client = Client()
    with_metrics = median_of(rounds, lambda: client.get("/healthz"), count)
    stack = [entry for entry in settings.MIDDLEWARE if entry not in PROMETHEUS_MIDDLEWARE]
    with override_settings(MIDDLEWARE=stack):
        plain_client = Client()  # its handler loads the middleware once, as a worker does
        without = median_of(rounds, lambda: plain_client.get("/healthz"), count)

    mode = "multiprocess (mmap files)" if arguments.multiprocess else "single process"
    print(f"django-prometheus middleware, {mode}: median of {rounds} rounds of {count} requests")
    print(f"  the pair alone:   {(pair - bare) * 1e6:8.1f} µs CPU a request "
          f"(bare view {bare * 1e6:.1f} µs, wrapped {pair * 1e6:.1f} µs)")
    print(f"  whole /healthz:   {with_metrics * 1e6:8.1f} µs with, {without * 1e6:.1f} µs "
          f"without: {(with_metrics - without) * 1e6:+.1f} µs "
          f"({(with_metrics - without) / without:+.1%})")


if __name__ == "__main__":
    main()
