from __future__ import annotations

import os
from pathlib import Path

from celery import Celery
from django.conf import settings

from config.env import settings_module
from monitoring import celery_signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module())
# Before any metric is made (the apps' imports): its directory must exist. Not emptied here: a
# `celery inspect` would empty the running worker's (worker_init does, in the worker only).
celery_signals.multiprocess_directory_prepared(os.environ.get("PROMETHEUS_MULTIPROC_DIR"),
                                               is_fresh_start=False)

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The request id into the tasks a request queues, beat's heartbeat, JSON worker logs.
celery_signals.connect()


def _ensure_filesystem_broker_folders() -> None:
    """kombu's filesystem transport needs its folders to exist before the first message."""
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    for key in ("data_folder_in", "data_folder_out", "processed_folder"):
        if key in options:
            Path(options[key]).mkdir(parents=True, exist_ok=True)


@app.on_after_configure.connect
def _on_configure(sender: Celery, **kwargs: object) -> None:
    _ensure_filesystem_broker_folders()
