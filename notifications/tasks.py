from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from notifications.services import outbox_deliver, retention_purge


@shared_task(name="notifications.outbox_deliver")
def outbox_deliver_task() -> int:
    return outbox_deliver()


@shared_task(name="notifications.retention_purge")
def retention_purge_task() -> dict[str, int]:
    return retention_purge(now=timezone.now())
