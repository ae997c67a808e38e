from __future__ import annotations

from celery import shared_task

from notifications.services import outbox_deliver


@shared_task(name="notifications.outbox_deliver")
def outbox_deliver_task() -> int:
    return outbox_deliver()
