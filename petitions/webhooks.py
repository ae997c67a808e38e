"""Deliver the webhook outbox: signed POSTs with retries and exponential backoff."""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import ApiKey
from core import metrics
from petitions.models import WebhookDelivery
from petitions.notify import webhook_body, webhook_sign

TIMEOUT_SECONDS = 5
BASE_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=6)
SIGNATURE_HEADER = "X-Portal-Signature"
logger = logging.getLogger(__name__)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min, … capped at 6 h."""
    delay: timedelta = min(BASE_BACKOFF * (2 ** min(max(attempts - 1, 0), 20)), MAX_BACKOFF)
    return delay


def _post(url: str, body: bytes, signature: str, delivery_id: int) -> int:
    request = urllib.request.Request(  # noqa: S310 - only http(s) URLs are stored (URLField)
        url, data=body, method="POST",
        headers={"Content-Type": "application/json; charset=utf-8",
                 SIGNATURE_HEADER: signature, "X-Portal-Delivery": str(delivery_id)},
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
        return int(response.status)


def webhook_delivery_attempt(*, delivery_id: int, now: datetime | None = None) -> bool:
    """Try one delivery (claimed with a lock another worker skips). True when delivered."""
    with transaction.atomic():
        delivery = (WebhookDelivery.objects.select_for_update(skip_locked=True)
                    .filter(pk=delivery_id, delivered_at__isnull=True, given_up_at__isnull=True)
                    .first())
        if delivery is None:
            return False
        secret = (ApiKey.objects.filter(user_id=delivery.external_system_id)
                  .values_list("webhook_secret", flat=True).first()) or ""
        body = webhook_body(delivery.payload)
        delivery.signature = webhook_sign(secret=secret, body=body)
        delivery.attempts += 1
        moment = now or timezone.now()
        try:
            status = _post(delivery.url, body, delivery.signature, delivery.pk)
        except urllib.error.HTTPError as error:
            status, delivery.last_error = error.code, f"HTTP {error.code}"
        except (urllib.error.URLError, OSError, ValueError) as error:
            status, delivery.last_error = 0, str(error)[:300]
        delivery.last_status = status or None
        if 200 <= status < 300:
            delivery.delivered_at = moment
            delivery.last_error = ""
        elif delivery.attempts >= WebhookDelivery.MAX_ATTEMPTS:
            delivery.given_up_at = moment
        else:
            delivery.next_attempt_at = moment + backoff(delivery.attempts)
        delivery.save(update_fields=["signature", "attempts", "last_status", "last_error",
                                     "delivered_at", "given_up_at", "next_attempt_at"])
        _attempt_recorded(delivery, status=status)
        return delivery.delivered_at is not None


def _attempt_recorded(delivery: WebhookDelivery, *, status: int) -> None:
    """The metrics and one log line, by the delivery's id and the answer's status."""
    is_success = delivery.delivered_at is not None
    metrics.outbox_attempted(channel=metrics.WEBHOOK, is_success=is_success,
                             is_retry=delivery.attempts > 1,
                             is_given_up=delivery.given_up_at is not None)
    logger.log(logging.INFO if is_success else logging.WARNING,
               "webhook delivery %s %s (attempt %s, HTTP %s)", delivery.pk,
               "delivered" if is_success else ("given up" if delivery.given_up_at else "failed"),
               delivery.attempts, status or "-",
               extra={"event": "outbox.webhook", "delivery_id": delivery.pk,
                      "attempt": delivery.attempts, "delivered": is_success,
                      "http_status": status or None})


def webhook_deliveries_send_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """Send every delivery whose next attempt is due. Returns how many were delivered."""
    moment = now or timezone.now()
    due_ids = list(
        WebhookDelivery.objects.filter(
            Q(delivered_at__isnull=True), Q(given_up_at__isnull=True),
            next_attempt_at__lte=moment,
        ).order_by("next_attempt_at").values_list("id", flat=True)[:limit]
    )
    return sum(webhook_delivery_attempt(delivery_id=delivery_id, now=moment)
               for delivery_id in due_ids)
