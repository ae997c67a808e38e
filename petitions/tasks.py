"""Thin tasks: each calls one service; safe to run twice or concurrently (see sweep.py)."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import shared_task
from django.utils import timezone

from core import metrics
from petitions.alerts import petitions_send_reminders
from petitions.pending_photos import pending_photos_purge
from petitions.recurrence import recurrence_detect
from petitions.stalled import petitions_stalled_digest
from petitions.sweep import petitions_sweep
from petitions.webhooks import webhook_deliveries_send_due

logger = logging.getLogger(__name__)


@shared_task(name="petitions.sweep", acks_late=True, ignore_result=True)
def petitions_sweep_task() -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result = petitions_sweep(now=timezone.now())
    except Exception:
        metrics.sweep_failed()
        raise
    seconds = time.perf_counter() - started
    metrics.sweep_succeeded(escalated=result.escalated, supervised=result.supervised,
                            arrivals_missed=result.arrivals_missed, seconds=seconds,
                            accept_overdue=result.accept_overdue,
                            finished_at=time.time())
    figures = {"escalated": result.escalated, "supervised": result.supervised,
               "arrivals_missed": result.arrivals_missed, "accept_overdue": result.accept_overdue,
               "yellow_cards": result.yellow_cards, "red_cards": result.red_cards}
    # The run is named by its task id (core.log_filters puts it on the line); counts only.
    logger.info("escalation sweep done in %.3f s: %s", seconds, figures,
                extra={"event": "petitions.sweep", "duration_seconds": round(seconds, 4),
                       **figures})
    return figures


@shared_task(name="petitions.webhooks_deliver", acks_late=True, ignore_result=True)
def petitions_webhooks_deliver_task() -> int:
    return webhook_deliveries_send_due()


@shared_task(name="petitions.remind", acks_late=True, ignore_result=True)
def petitions_remind_task() -> int:
    return petitions_send_reminders(now=timezone.now())


@shared_task(name="petitions.pending_photos_purge", acks_late=True, ignore_result=True)
def petitions_pending_photos_purge_task() -> int:
    return pending_photos_purge(now=timezone.now())


@shared_task(name="petitions.recurrence_detect", acks_late=True, ignore_result=True)
def petitions_recurrence_detect_task() -> int:
    return recurrence_detect(now=timezone.now())



@shared_task(name="petitions.stalled_digest", acks_late=True, ignore_result=True)
def petitions_stalled_digest_task() -> int:
    return petitions_stalled_digest(now=timezone.now())
