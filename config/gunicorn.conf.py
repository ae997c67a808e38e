"""gunicorn's settings (Dockerfile, docker-compose.yml: `--config config/gunicorn.conf.py`).

Everything an operator tunes comes from the environment (.env.example explains each), so the
command line stays the same in the image, in compose and in the CI smoke lane (ops/smoke.py).

The access log names the path without its query string and without the referrer: either may
carry an API key or a phone number, and a log is read by more people than the database.
"""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import multiprocess

from monitoring.compaction import fold_dead_process


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND", "").strip() or "0.0.0.0:8000"
workers = _int("GUNICORN_WORKERS", 3)
# A sync worker silent this long is killed and replaced (a stuck request, not a slow client:
# nginx buffers uploads and responses, so gunicorn never waits on a phone's connection).
timeout = _int("GUNICORN_TIMEOUT", 30)
# On SIGTERM, requests in flight get this long to finish (compose's stop_grace_period is longer).
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Recycle each worker after this many requests (+ a random share of the jitter, so they do not
# all restart at once): bounds the growth of a slow leak.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100)
# Only nginx reaches gunicorn (compose's network, or loopback), and its address is not fixed.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")
accesslog = "-"
# No gunicornc control socket (gunicorn >= 25 opens one in $HOME by default): nothing uses it, the
# image's home is not writable, and two masters on one host would share the path.
control_socket_disable = True
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s" %(M)sms'


def on_starting(server: object) -> None:
    """The master, before any worker: the metrics directory exists and holds no stale files."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        for stale in Path(directory).glob("*.db"):
            stale.unlink(missing_ok=True)


def child_exit(server: object, worker: object) -> None:
    """Prometheus' multiprocess mode (PROMETHEUS_MULTIPROC_DIR, docs/operations.md): a worker
    that exits takes its live gauges with it; its counters and histograms are added to the
    directory's archive files and its own files removed (monitoring.compaction), so workers
    replaced after GUNICORN_MAX_REQUESTS leave no file behind."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        pid = worker.pid  # type: ignore[attr-defined]
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
        fold_dead_process(directory, pid)
