"""Celery's signals, connected by config/celery.py in every process that loads the Celery app
(web, worker, beat), before Django's apps are ready: nothing here touches a model.

- The request id: a web request that queues a task puts its id in the message's headers
  (before_task_publish); the worker binds it while the task runs (task_prerun/postrun), so the
  task's log lines, and the tasks it queues in turn, carry it (core.log_filters.RequestIdFilter).
- Beat's heartbeat: beat stamps the cache as it publishes `monitoring.beat_heartbeat`
  (monitoring.heartbeat), and once when it starts.
- Logs: in JSON mode (LOG_FORMAT=json, production's default) the handlers Celery installs write
  JSON lines with the request id, like the web's; in text mode Celery's own format stays (the
  integration tests read its "succeeded in" lines).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from celery import signals
from django.conf import settings

from core.log_filters import RequestIdFilter, json_formatter
from core.middleware import bind_request_id, current_request_id, is_sane_request_id
from monitoring import heartbeat

HEADER = "portal_request_id"
logger = logging.getLogger(__name__)


def request_id_into_headers(sender: str | None = None, headers: dict[str, Any] | None = None,
                            **kwargs: Any) -> None:
    if sender == heartbeat.TASK_NAME:
        heartbeat.beat_seen_stamp()
    request_id = current_request_id()
    if request_id and headers is not None and HEADER not in headers:
        headers[HEADER] = request_id


def request_id_bound(sender: Any = None, task: Any = None, **kwargs: Any) -> None:
    request_id = getattr(getattr(task, "request", None), HEADER, None)
    if isinstance(request_id, str) and is_sane_request_id(request_id):
        bind_request_id(request_id)


def request_id_unbound(sender: Any = None, task: Any = None, **kwargs: Any) -> None:
    bind_request_id("")


def beat_started(sender: Any = None, **kwargs: Any) -> None:
    try:
        heartbeat.beat_seen_stamp()
    except Exception:  # the cache may be down at start; the first tick stamps again
        logger.warning("beat heartbeat: the cache could not be written at start", exc_info=True)


def handlers_configured(logger: logging.Logger | None = None, **kwargs: Any) -> None:
    if logger is None:
        return
    for handler in logger.handlers:
        if not any(isinstance(existing, RequestIdFilter) for existing in handler.filters):
            handler.addFilter(RequestIdFilter())
        if settings.LOG_FORMAT == "json":
            handler.setFormatter(json_formatter())


def multiprocess_directory_prepared(directory: str | None, *, is_fresh_start: bool) -> None:
    """prometheus-client writes its files into PROMETHEUS_MULTIPROC_DIR from the first metric
    made, so the directory must exist before any app is imported; on a fresh start (gunicorn's
    master, the Celery worker's main process) the files of the previous run are removed, as the
    processes that wrote them are gone."""
    if not directory:
        return
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    if is_fresh_start:
        for stale in path.glob("*.db"):
            stale.unlink(missing_ok=True)


def worker_started(sender: Any = None, **kwargs: Any) -> None:
    multiprocess_directory_prepared(os.environ.get("PROMETHEUS_MULTIPROC_DIR"),
                                    is_fresh_start=True)


def connect() -> None:
    """Idempotent (dispatch uids); strong references, the functions are module-level anyway."""
    signals.before_task_publish.connect(request_id_into_headers, weak=False,
                                        dispatch_uid="monitoring.request_id_into_headers")
    signals.task_prerun.connect(request_id_bound, weak=False,
                                dispatch_uid="monitoring.request_id_bound")
    signals.task_postrun.connect(request_id_unbound, weak=False,
                                 dispatch_uid="monitoring.request_id_unbound")
    signals.worker_init.connect(worker_started, weak=False,
                                dispatch_uid="monitoring.worker_started")
    signals.beat_init.connect(beat_started, weak=False, dispatch_uid="monitoring.beat_started")
    signals.after_setup_logger.connect(handlers_configured, weak=False,
                                       dispatch_uid="monitoring.logger_configured")
    signals.after_setup_task_logger.connect(handlers_configured, weak=False,
                                            dispatch_uid="monitoring.task_logger_configured")
