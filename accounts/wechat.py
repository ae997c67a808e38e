"""WeChat for residents: the openid binding that signs them in, their choice of channel, and the
outbox of template messages with its SMS fallback. (The HTTP calls are core.wechat.)

A module of its own beside services.py: the binding, the channel and the outbox are one
feature, read together, and services.py is the phone sign-in.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User, WechatBinding, WechatMessage
from accounts.rules import is_resident
from core import metrics, wechat
from core.crypto import blind_index_key
from notifications.services import sms_enqueue

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# Retry after 1, 2, 4, 8 minutes; past MAX_ATTEMPTS the SMS goes instead.
BACKOFF_BASE = timedelta(minutes=1)
WECHAT_KEY_PREFIX = "wechat:"


def openid_digest(openid: str) -> str:
    """HMAC-SHA256 of the openid under the blind-index key. Not core.crypto.blind_index: that
    folds case (for ID numbers), and openids are case-sensitive."""
    message = f"wechat-openid:{openid}".encode()
    return hmac.new(blind_index_key(), message, hashlib.sha256).hexdigest()


def wechat_user_get(*, openid: str) -> User | None:
    """The active resident whose account the openid is bound to, or None."""
    binding = (WechatBinding.objects.select_related("user")
               .filter(openid_digest=openid_digest(openid)).first())
    if binding is None or not binding.user.is_active or not is_resident(binding.user):
        return None
    return binding.user


def wechat_bind(*, user: User, openid: str) -> WechatBinding:
    """Bind `openid` to `user` (who just proved their phone with a code).

    The openid leaves any other account it was bound to, and the user's previous openid (a
    different WeChat account) is replaced: one openid, one account; one account, one openid.
    """
    digest = openid_digest(openid)
    with transaction.atomic():
        moved = WechatBinding.objects.filter(openid_digest=digest).exclude(user=user).delete()[0]
        if moved:
            logger.info("A WeChat binding moved to account %s", user.pk)
        binding, created = WechatBinding.objects.select_for_update().get_or_create(
            user=user, defaults={"openid": openid, "openid_digest": digest})
        if not created and binding.openid_digest != digest:
            binding.openid, binding.openid_digest = openid, digest
            binding.save(update_fields=["openid", "openid_digest", "updated_at"])
    return binding


def wechat_unbind(*, user: User) -> bool:
    """Remove the user's binding; their unsent WeChat messages go by SMS instead (kept)."""
    with transaction.atomic():
        deleted = WechatBinding.objects.filter(user=user).delete()[0]
    return bool(deleted)


def wechat_channel_set(*, user: User, channel: str) -> WechatBinding:
    if channel not in WechatBinding.Channel.values:
        raise ValueError(channel)
    with transaction.atomic():
        binding = WechatBinding.objects.select_for_update().get(user=user)
        if binding.channel != channel:
            binding.channel = channel
            binding.save(update_fields=["channel", "updated_at"])
    return binding


@dataclass(frozen=True)
class ResidentMessage:
    """One event for a resident: its SMS text and the same news as template fields."""

    template: str  # a key of settings.WECHAT_TEMPLATES
    data: dict[str, str]
    sms_body: str
    link: str = ""


def resident_message_enqueue(*, user_id: int, message: ResidentMessage,
                             dedupe_key: str) -> str:
    """Queue `message` for a resident by the channel they chose; returns "wechat", "sms",
    "both" or "" (no phone and no WeChat).

    1. WeChat is used when it is configured with this template, the resident is bound and
       chose it (or both); everything else goes by SMS as before.
    2. The WeChat row (dedupe key "wechat:" + dedupe_key) is delivered after commit by
       `wechat_outbox_deliver`, which falls back to SMS when WeChat refuses; the SMS, sent or
       fallen back to, has `dedupe_key` itself, so the resident never gets it twice.
    """
    channel = _channel_for(user_id=user_id, template=message.template)
    if channel in ("wechat", "both"):
        WechatMessage.objects.bulk_create(
            [WechatMessage(user_id=user_id, template=message.template, data=message.data,
                           link=message.link, sms_body=message.sms_body,
                           dedupe_key=f"{WECHAT_KEY_PREFIX}{dedupe_key}",
                           next_attempt_at=timezone.now())],
            ignore_conflicts=True)
        transaction.on_commit(_schedule_wechat_delivery)
    if channel in ("sms", "both"):
        phone = User.objects.filter(pk=user_id).values_list("phone", flat=True).first()
        if not phone:
            return "wechat" if channel == "both" else ""
        sms_enqueue(phone=phone, body=message.sms_body, dedupe_key=dedupe_key)
    return channel


def wechat_reader_ids(*, user_ids: list[int], template: str) -> set[int]:
    """Of `user_ids`, those told by WeChat (channel wechat or both) when WeChat and `template`
    are configured: a sender of many messages sends these through resident_message_enqueue
    and the rest by SMS in bulk, as before. One query (none unconfigured)."""
    if not user_ids or not (wechat.is_configured() and settings.WECHAT_TEMPLATES.get(template)):
        return set()
    return set(WechatBinding.objects.filter(
        user_id__in=user_ids, channel__in=[WechatBinding.Channel.WECHAT,
                                           WechatBinding.Channel.BOTH])
        .values_list("user_id", flat=True))


def _channel_for(*, user_id: int, template: str) -> str:
    if not (wechat.is_configured() and settings.WECHAT_TEMPLATES.get(template)):
        return "sms"
    channel = (WechatBinding.objects.filter(user_id=user_id)
               .values_list("channel", flat=True).first())
    return channel or "sms"


def _schedule_wechat_delivery() -> None:
    from accounts.tasks import wechat_outbox_deliver_task  # noqa: PLC0415 tasks imports this

    wechat_outbox_deliver_task.delay()


def wechat_outbox_deliver(*, limit: int = 200) -> int:
    """Send the WeChat messages that are due, each claimed with a row lock that skips rows
    another worker holds; returns how many WeChat accepted."""
    sent = 0
    for _attempt in range(limit):
        with transaction.atomic():
            now = timezone.now()
            message = (WechatMessage.objects.select_for_update(skip_locked=True)
                       .filter(processed_at__isnull=True, next_attempt_at__lte=now)
                       .order_by("next_attempt_at", "pk").first())
            if message is None:
                break
            sent += _deliver_one(message, now=now)
    return sent


def _deliver_one(message: WechatMessage, *, now: datetime) -> int:
    """Send one claimed row: stamp it sent, schedule its retry, or fall back to SMS."""
    openid = (WechatBinding.objects.filter(user_id=message.user_id)
              .values_list("openid", flat=True).first())
    template_id = settings.WECHAT_TEMPLATES.get(message.template, "")
    message.attempts += 1
    if not openid or not template_id or not wechat.is_configured():
        return _fall_back(message, now=now, reason="no binding or template")
    try:
        wechat.template_send(openid=openid, template_id=template_id, data=message.data,
                             url=message.link)
    except wechat.WechatError as error:
        message.last_error = str(error)[:200]
        if error.is_unreachable and message.attempts < MAX_ATTEMPTS:
            message.next_attempt_at = now + BACKOFF_BASE * 2 ** (message.attempts - 1)
            message.save(update_fields=["attempts", "last_error", "next_attempt_at"])
            metrics.outbox_attempted(channel=metrics.WECHAT, is_success=False,
                                     is_retry=message.attempts > 1)
            return 0
        metrics.outbox_attempted(channel=metrics.WECHAT, is_success=False,
                                 is_retry=message.attempts > 1, is_given_up=True)
        # WeChat said no (43004 unfollowed, 40003 not our openid, a template error…): it
        # will say no again; the resident hears it by SMS now.
        logger.info("WeChat message %s refused (%s): sending SMS", message.pk, error.errcode)
        return _fall_back(message, now=now, reason=message.last_error)
    message.processed_at, message.outcome = now, WechatMessage.Outcome.SENT
    message.save(update_fields=["attempts", "processed_at", "outcome"])
    metrics.outbox_attempted(channel=metrics.WECHAT, is_success=True,
                             is_retry=message.attempts > 1)
    return 1


def _fall_back(message: WechatMessage, *, now: datetime, reason: str) -> int:
    phone = User.objects.filter(pk=message.user_id).values_list("phone", flat=True).first()
    if phone and message.sms_body:
        key = (message.dedupe_key or "").removeprefix(WECHAT_KEY_PREFIX)
        sms_enqueue(phone=phone, body=message.sms_body, dedupe_key=key or None)
        message.outcome = WechatMessage.Outcome.FELL_BACK
    else:
        message.outcome = WechatMessage.Outcome.DROPPED
    message.last_error = reason[:200]
    message.processed_at = now
    message.save(update_fields=["attempts", "last_error", "processed_at", "outcome"])
    return 0
