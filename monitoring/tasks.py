from __future__ import annotations

from celery import shared_task

from monitoring.heartbeat import TASK_NAME, worker_seen_stamp


@shared_task(name=TASK_NAME, ignore_result=True)
def beat_heartbeat_task() -> None:
    """Beat stamped its key when it sent this; running it proves a worker consumes the queue."""
    worker_seen_stamp()
