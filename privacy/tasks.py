from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from privacy.retention import retention_purge


# Named as when notifications ran it: the beat schedule (CELERY_BEAT_SCHEDULE, synced into
# django_celery_beat's stored rows) and any message already queued name the task this way.
@shared_task(name="notifications.retention_purge")
def retention_purge_task() -> dict[str, int]:
    return retention_purge(now=timezone.now())
