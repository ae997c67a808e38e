"""Settings for bench/load/run.py: bench/http_settings.py (DEBUG off, throttles raised) plus a
bare JSON view served by the same gunicorn, and a broker queue of its own.

Production-like where it matters for latency: DEBUG off, the whole middleware stack, persistent
database connections (CONN_MAX_AGE from base.py, with health checks), Redis for cache and broker
when REDIS_URL is set. Plain HTTP on 127.0.0.1 (no TLS, no proxy).
"""

from __future__ import annotations

from bench.http_settings import *  # noqa: F403

ROOT_URLCONF = "bench.load.urls"
# Tasks queued by the submissions (notifications, webhooks) go to a queue of their own, which the
# runner deletes afterwards; no worker consumes it during the run (the web tier is measured).
CELERY_TASK_DEFAULT_QUEUE = "bench_load"
