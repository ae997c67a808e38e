"""Write notifications; deliver them after commit. Every other app notifies through here."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from notifications.models import Notification, OutboundMessage


def notifications_create(
    *,
    user_ids: Iterable[int],
    title: str,
    body: str = "",
    link: str = "",
    dedupe_key: str | None = None,
) -> int:
    """Put a message in each user's inbox. With a dedupe_key, a repeat is ignored.

    Returns the number of rows offered (duplicates are skipped by the unique key).
    """
    rows = [
        Notification(user_id=user_id, title=title, body=body, link=link,
                     dedupe_key=f"{dedupe_key}:{user_id}" if dedupe_key else None)
        for user_id in dict.fromkeys(user_ids)
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def sms_enqueue(*, phone: str, body: str, dedupe_key: str | None = None) -> None:
    """Queue an SMS; it is sent by `outbox_deliver` only after the transaction commits."""
    OutboundMessage.objects.bulk_create(
        [OutboundMessage(recipient=phone, body=body, dedupe_key=dedupe_key)],
        ignore_conflicts=True,
    )

    def _deliver() -> None:
        from notifications.tasks import outbox_deliver_task

        outbox_deliver_task.delay()

    transaction.on_commit(_deliver)


def outbox_deliver(*, limit: int = 200) -> int:
    """Send pending messages, each claimed with a lock that skips rows another worker holds."""
    from accounts.sms import send_sms

    sent = 0
    for _ in range(limit):
        with transaction.atomic():
            message = (
                OutboundMessage.objects.select_for_update(skip_locked=True)
                .filter(processed_at__isnull=True, attempts__lt=5)
                .order_by("created_at")
                .first()
            )
            if message is None:
                break
            try:
                send_sms(phone=message.recipient, message=message.body)
            except Exception as error:
                message.attempts += 1
                message.last_error = str(error)[:300]
                message.save(update_fields=["attempts", "last_error"])
                continue
            message.processed_at = timezone.now()
            message.attempts += 1
            message.save(update_fields=["processed_at", "attempts"])
            sent += 1
    return sent


def notification_mark_read(*, user_id: int, notification_id: int | None = None) -> int:
    queryset = Notification.objects.filter(user_id=user_id, read_at__isnull=True)
    if notification_id is not None:
        queryset = queryset.filter(pk=notification_id)
    return queryset.update(read_at=timezone.now())
