"""Write notifications; deliver them after commit. Every other app notifies through here."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core import metrics
from core.masking import mask_phone
from notifications.messages import Message
from notifications.models import Notification, OutboundMessage
from notifications.sms import send_sms

logger = logging.getLogger(__name__)
# A message refused this many times is kept for the record and no longer sent.
OUTBOX_MAX_ATTEMPTS = 5


def notifications_create(
    *,
    user_ids: Iterable[int],
    title: str | Message,
    body: str | Message = "",
    link: str = "",
    dedupe_key: str | None = None,
) -> int:
    """Put a message in each user's inbox. With a dedupe_key, a repeat is ignored.

    A title or body given as a `Message` is read in each reader's language (its text is kept in
    Chinese beside it); a plain string (a petition's own words, a staff note) is shown as it is.
    Returns the number of rows offered (duplicates are skipped by the unique key).
    """
    fields = notification_fields(title=title, body=body)
    rows = [
        Notification(user_id=user_id, link=link, **fields,
                     dedupe_key=f"{dedupe_key}:{user_id}" if dedupe_key else None)
        for user_id in dict.fromkeys(user_ids)
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def notification_fields(*, title: str | Message, body: str | Message = "") -> dict[str, Any]:
    """The text and key columns of a Notification for a title and body (for bulk writers)."""
    params: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    for name, value in (("title", title), ("body", body)):
        if isinstance(value, Message):
            clash = {key for key in value.params if params.get(key, value.params[key])
                     != value.params[key]}
            if clash:
                raise ValueError(f"title and body give {sorted(clash)} different values")
            params.update(value.params)
            fields[name], fields[f"{name}_key"] = value.stored_text(), value.msgid
        else:
            fields[name], fields[f"{name}_key"] = value, ""
    return {**fields, "params": params}


def sms_enqueue(*, phone: str, body: str, dedupe_key: str | None = None) -> None:
    """Queue an SMS; it is sent by `outbox_deliver` only after the transaction commits.

    Past the recipient's hourly or daily limit (settings.SMS_MAX_PER_RECIPIENT_PER_HOUR / _DAY)
    the row is still written, stamped suppressed with the reason, and never sent: the portal
    texts no number more than that, whoever asks, and the record shows what was held back.
    """
    now = timezone.now()
    reason = _sms_limit_reason(phone=phone, now=now)
    if reason:
        logger.warning("SMS to %s suppressed: %s", mask_phone(phone), reason)
    OutboundMessage.objects.bulk_create(
        [OutboundMessage(recipient=phone, body=body, dedupe_key=dedupe_key,
                         suppressed_at=now if reason else None, last_error=reason)],
        ignore_conflicts=True,
    )
    if reason:
        return

    def _deliver() -> None:
        from notifications.tasks import outbox_deliver_task  # noqa: PLC0415 tasks imports services

        outbox_deliver_task.delay()

    transaction.on_commit(_deliver)


def _sms_limit_reason(*, phone: str, now: datetime) -> str:
    """Why one more SMS to `phone` is over its limit ("" when it is not): one indexed count.

    Suppressed rows do not count, so a flood does not push the number's window on. Two writers
    racing may each pass the count: the limit caps floods, it is not an exact quota.
    """
    counts = OutboundMessage.objects.filter(
        recipient=phone, created_at__gt=now - timedelta(days=1), suppressed_at__isnull=True,
    ).aggregate(day=Count("id"),
                hour=Count("id", filter=Q(created_at__gt=now - timedelta(hours=1))))
    return _limit_reason(hour=counts["hour"], day=counts["day"])


def _limit_reason(*, hour: int, day: int) -> str:
    per_hour = settings.SMS_MAX_PER_RECIPIENT_PER_HOUR
    per_day = settings.SMS_MAX_PER_RECIPIENT_PER_DAY
    if hour >= per_hour:
        return _("超出单个号码的短信限额（每小时 %(count)s 条），未发送。") % {"count": per_hour}
    if day >= per_day:
        return _("超出单个号码的短信限额（每天 %(count)s 条），未发送。") % {"count": per_day}
    return ""


@dataclass(frozen=True)
class Sms:
    phone: str
    body: str
    dedupe_key: str | None = None


def sms_enqueue_many(*, messages: Sequence[Sms]) -> int:
    """`sms_enqueue` for a batch (the petition sweeps): the same per-recipient limits and dedupe,
    in three queries whatever the batch size. Returns how many new rows were written (a message
    whose dedupe_key is already in the outbox is skipped, suppressed ones included).

    1. drop messages whose dedupe_key is already queued (one query);
    2. count each recipient's last hour and day (one grouped query), then walk the batch
       counting its own messages, so a batch cannot carry a number past its limit;
    3. write every row at once (suppressed ones stamped, with the reason); deliver on commit.
    """
    keys = [message.dedupe_key for message in messages if message.dedupe_key]
    queued = set(OutboundMessage.objects.filter(dedupe_key__in=keys)
                 .values_list("dedupe_key", flat=True)) if keys else set()
    fresh = list({message.dedupe_key or id(message): message for message in messages
                  if message.dedupe_key not in queued}.values())
    if not fresh:
        return 0
    now = timezone.now()
    counts = {row["recipient"]: [row["hour"], row["day"]] for row in (
        OutboundMessage.objects.filter(recipient__in={message.phone for message in fresh},
                                       created_at__gt=now - timedelta(days=1),
                                       suppressed_at__isnull=True)
        .values("recipient")
        .annotate(day=Count("id"),
                  hour=Count("id", filter=Q(created_at__gt=now - timedelta(hours=1)))))}
    rows = []
    for message in fresh:
        sent = counts.setdefault(message.phone, [0, 0])
        reason = _limit_reason(hour=sent[0], day=sent[1])
        if reason:
            logger.warning("SMS to %s suppressed: %s", mask_phone(message.phone), reason)
        else:
            sent[0] += 1
            sent[1] += 1
        rows.append(OutboundMessage(recipient=message.phone, body=message.body,
                                    dedupe_key=message.dedupe_key,
                                    suppressed_at=now if reason else None, last_error=reason))
    OutboundMessage.objects.bulk_create(rows, ignore_conflicts=True)
    if any(row.suppressed_at is None for row in rows):
        transaction.on_commit(_schedule_outbox_delivery)
    return len(rows)


def _schedule_outbox_delivery() -> None:
    from notifications.tasks import outbox_deliver_task  # noqa: PLC0415 tasks imports services

    outbox_deliver_task.delay()


def outbox_deliver(*, limit: int = 200) -> int:
    """Send pending messages, each claimed with a lock that skips rows another worker holds."""
    sent = 0
    # A message the gateway refused is retried by the next run, not at once: without this a
    # refusal spent all five attempts within one run, in a second.
    failed_ids: list[int] = []
    for _attempt in range(limit):
        with transaction.atomic():
            message = (
                OutboundMessage.objects.select_for_update(skip_locked=True)
                .filter(processed_at__isnull=True, suppressed_at__isnull=True,
                        attempts__lt=OUTBOX_MAX_ATTEMPTS)
                .exclude(pk__in=failed_ids)
                .order_by("created_at")
                .first()
            )
            if message is None:
                break
            is_retry = message.attempts > 0
            try:
                send_sms(phone=message.recipient, message=message.body)
            except Exception as error:
                message.attempts += 1
                message.last_error = str(error)[:300]
                message.save(update_fields=["attempts", "last_error"])
                failed_ids.append(message.pk)
                _delivery_recorded(message, is_success=False, is_retry=is_retry, error=error)
                continue
            message.processed_at = timezone.now()
            message.attempts += 1
            message.save(update_fields=["processed_at", "attempts"])
            _delivery_recorded(message, is_success=True, is_retry=is_retry)
            sent += 1
    return sent


def _delivery_recorded(message: OutboundMessage, *, is_success: bool, is_retry: bool,
                       error: Exception | None = None) -> None:
    """The metrics and one log line, by the message's id: never its recipient or body."""
    is_given_up = not is_success and message.attempts >= OUTBOX_MAX_ATTEMPTS
    metrics.outbox_attempted(channel=metrics.SMS, is_success=is_success, is_retry=is_retry,
                             is_given_up=is_given_up)
    details = {"event": "outbox.sms", "outbox_id": message.pk, "attempt": message.attempts,
               "delivered": is_success}
    if is_success:
        logger.info("SMS outbox message %s sent (attempt %s)", message.pk, message.attempts,
                    extra=details)
    else:
        # The gateway's words may quote the number: only the error's kind is logged.
        logger.warning("SMS outbox message %s failed (attempt %s%s): %s", message.pk,
                       message.attempts, ", given up" if is_given_up else "",
                       type(error).__name__, extra=details)


def notification_mark_read(*, user_id: int, notification_id: int | None = None) -> int:
    queryset = Notification.objects.filter(user_id=user_id, read_at__isnull=True)
    if notification_id is not None:
        queryset = queryset.filter(pk=notification_id)
    return queryset.update(read_at=timezone.now())
