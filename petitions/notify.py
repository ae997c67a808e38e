"""Who hears about a petition event, written as outbox rows inside the service's transaction.

Inbox rows (notifications_create) and SMS rows (sms_enqueue) are written with the transition, so a
crash cannot lose them; delivery happens after commit. For a petition that came from an external
system a WebhookDelivery row is written too and its delivery task is scheduled on commit.
The webhook body is signed when it is sent (HMAC-SHA256 with the key's current secret).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import ApiKey, User
from accounts.wechat import ResidentMessage, resident_message_enqueue
from notifications.messages import Message, choice
from notifications.services import notifications_create, sms_enqueue
from petitions.models import Petition, PetitionEvent, WebhookDelivery

Kind = PetitionEvent.Kind
# Events the resident is told about by SMS (the rest only reach the inbox).
SMS_KINDS = frozenset({Kind.SUBMITTED, Kind.RESOLVED, Kind.REJECTED, Kind.REOPENED,
                       Kind.REFERRED, Kind.MERGED})
# Events an external system hears about (Open311 status changes).
WEBHOOK_KINDS = frozenset({
    Kind.SUBMITTED, Kind.DISPATCHED, Kind.CHECKED_IN, Kind.RESOLVED, Kind.VERIFIED, Kind.RATED,
    Kind.REOPENED, Kind.RETURNED, Kind.REJECTED, Kind.ESCALATED, Kind.SUPERVISED, Kind.REFERRED,
    Kind.CLOSED, Kind.MERGED,
})
# Events that make a petition someone's to act on: its (new) holder is texted as well.
HOLDER_SMS_KINDS = frozenset({Kind.DISPATCHED, Kind.REROUTED, Kind.ESCALATED})
# Channels of other systems: their callers' numbers are never texted (sms_recipient).
EXTERNAL_CHANNELS = frozenset({Petition.Channel.HOTLINE_12345, Petition.Channel.SUSUBAN,
                               Petition.Channel.API})
OPEN311_CLOSED_STATES = frozenset({"resolved", "verified", "rated", "closed", "rejected",
                                   "merged"})


@functools.cache
def _link_format(for_staff: bool) -> str:
    # reverse() once per process: the sweep builds a link for each of up to 100,000 rows.
    placeholder = 987654321
    url = reverse("petitions:staff-detail" if for_staff else "petitions:detail",
                  args=[placeholder])
    return url.replace(str(placeholder), "{id}")


def petition_link_parts(*, for_staff: bool) -> tuple[str, str]:
    """The link around the id, for SQL that builds links as head || id || tail."""
    head, tail = _link_format(for_staff).split("{id}")
    return head, tail


def petition_link(petition_id: int, *, for_staff: bool) -> str:
    """The page a message about the petition opens for its reader: staff work the petition on
    the staff page; the resident's page is theirs alone (it answers 404 to anyone else)."""
    return _link_format(for_staff).format(id=petition_id)


def staff_sms_link(petition_id: int) -> str:
    """The staff page as an SMS carries it: absolute (it is opened outside the portal)."""
    return f"{settings.SITE_URL}{petition_link(petition_id, for_staff=True)}"


def local_time(moment: datetime | None) -> str:
    return f"{timezone.localtime(moment):%m-%d %H:%M}" if moment is not None else ""


def escalated_sms_body(*, petition_id: int, tier_label: str, due_at: datetime | None) -> str:
    return (_("【有事您说话】诉求 #%(id)s 已升级至%(tier)s，由您承办，"
              "请于 %(due)s 前办结：%(link)s")
            % {"id": petition_id, "tier": tier_label, "due": local_time(due_at),
               "link": staff_sms_link(petition_id)})


def holder_sms_body(*, petition: Petition, kind: str) -> str:
    """What the holder is told when the petition becomes theirs, with the clock to beat."""
    link = staff_sms_link(petition.pk)
    if kind in (Kind.ESCALATED, Kind.TRIAGED):
        return escalated_sms_body(petition_id=petition.pk, tier_label=petition.get_tier_display(),
                                  due_at=petition.due_at)
    if petition.arrived_at is None and petition.arrival_due_at is not None:
        return (_("【有事您说话】您有新派单：诉求 #%(id)s，请于 %(due)s 前到场：%(link)s")
                % {"id": petition.pk, "due": local_time(petition.arrival_due_at), "link": link})
    return (_("【有事您说话】您有新派单：诉求 #%(id)s，请于 %(due)s 前办结：%(link)s")
            % {"id": petition.pk, "due": local_time(petition.due_at), "link": link})


def _holder_sms(petition: Petition, event: PetitionEvent) -> None:
    # Triage that moves a petition up a tier hands it on like an escalation.
    is_moved_up = event.kind == Kind.TRIAGED and event.from_tier != event.to_tier
    if (not (event.kind in HOLDER_SMS_KINDS or is_moved_up) or petition.holder_id is None
            or event.actor_id == petition.holder_id):
        return
    phone = User.objects.filter(pk=petition.holder_id, is_active=True).values_list(
        "phone", flat=True).first()
    if phone:
        with translation.override(settings.LANGUAGE_CODE):
            body = holder_sms_body(petition=petition, kind=event.kind)
        sms_enqueue(phone=phone, body=body,
                    dedupe_key=f"holder-sms:{event.pk}:{petition.holder_id}")


def open311_status(state: str) -> str:
    return "closed" if state in OPEN311_CLOSED_STATES else "open"


def webhook_payload(*, petition: Petition, event: PetitionEvent) -> dict[str, Any]:
    """The JSON an external system receives. The sweep builds the same shape in SQL."""
    return {
        "event_id": event.pk,
        "kind": event.kind,
        "service_request_id": str(petition.pk),
        "external_ref": petition.external_ref,
        "state": petition.state,
        "status": open311_status(petition.state),
        "tier": petition.tier,
        "at": event.created_at.isoformat(),
    }


def webhook_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


def webhook_sign(*, secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _schedule_webhook_delivery() -> None:
    def _deliver() -> None:
        from petitions.tasks import (  # noqa: PLC0415 tasks → sweep → notify: a cycle
            petitions_webhooks_deliver_task,
        )

        petitions_webhooks_deliver_task.delay()

    transaction.on_commit(_deliver)


def _inbox_recipients(petition: Petition, event: PetitionEvent) -> list[int]:
    recipients: list[int] = []
    if (petition.submitter_id and event.actor_id != petition.submitter_id
            and not event.is_withheld):
        recipients.append(petition.submitter_id)
    if petition.holder_id and event.actor_id != petition.holder_id:
        recipients.append(petition.holder_id)
    return recipients


def sms_recipient(petition: Petition) -> str:
    """The number a petition's SMS go to: only one that someone vouches for, or none.

    - A resident's petition: the phone of their account, verified by a code at sign-in. Never
      the contact_phone they typed (staff may call it back): texting that let anyone send SMS to
      any number, outside every sign-in code limit.
    - Recorded by staff (walk-in, phone call): the number the staff member took down from the
      person; the petition names who recorded it.
    - From an external system (12345, 诉速办, Open311): none. The number is that system's caller;
      the system hears every change by webhook and informs its own caller.
    - Anything else (no account, no recorder; or the resident's account since deleted): none,
      as nobody here can tell who the number belongs to.
    """
    if petition.submitter_id is not None:
        phone = User.objects.filter(pk=petition.submitter_id).values_list("phone", flat=True)
        return phone.first() or ""
    if petition.recorded_by_id is not None and petition.channel not in EXTERNAL_CHANNELS:
        return petition.contact_phone
    return ""


def resident_message(petition: Petition, event: PetitionEvent) -> ResidentMessage:
    """The news of an event for its resident, as an SMS text and as template-message fields.
    Both go out in the portal's language, whoever's request caused them (an English page must
    not send a resident an English SMS)."""
    with translation.override(settings.LANGUAGE_CODE):
        kind = str(event.get_kind_display())
        sms_body = (_("【有事您说话】您的诉求（编号 %(id)s）%(kind)s。%(note)s")
                    % {"id": petition.pk, "kind": kind, "note": event.resident_note[:60]})
        data = {"first": _("您的诉求有新进展"), "keyword1": f"#{petition.pk}",
                "keyword2": kind, "keyword3": local_time(event.created_at),
                "remark": event.resident_note[:60] or _("点击查看详情")}
    link = f"{settings.SITE_URL}{petition_link(petition.pk, for_staff=False)}"
    return ResidentMessage(template="petition_status", data=data, sms_body=sms_body, link=link)


def _resident_message(petition: Petition, event: PetitionEvent) -> None:
    """A resident's own petition: by the channel they chose (accounts.wechat: WeChat with SMS
    as the fallback, or SMS); a number staff took down: by SMS; anyone else: nothing."""
    key = f"petition-sms:{event.pk}"
    if petition.submitter_id is not None:
        resident_message_enqueue(user_id=petition.submitter_id,
                                 message=resident_message(petition, event), dedupe_key=key)
        return
    phone = sms_recipient(petition)
    if phone:
        sms_enqueue(phone=phone, body=resident_message(petition, event).sms_body,
                    dedupe_key=key)


def notify_event(*, petition: Petition, event: PetitionEvent,
                 extra_user_ids: tuple[int, ...] = ()) -> None:
    """Write the inbox, SMS and webhook rows for one event (inside the caller's transaction).
    The resident is told of every step but an internal note (event.resident_note)."""
    title = Message(gettext_noop("诉求 #%(id)s：%(kind)s"),
                    {"id": petition.pk, "kind": choice("petitions.event_kind", event.kind)})
    recipients = _inbox_recipients(petition, event)
    resident_ids = [user_id for user_id in recipients if user_id == petition.submitter_id]
    staff_ids = [user_id for user_id in [*recipients, *extra_user_ids]
                 if user_id != petition.submitter_id]
    for user_ids, for_staff in ((resident_ids, False), (staff_ids, True)):
        if user_ids:
            note = event.note if for_staff else event.resident_note
            notifications_create(user_ids=user_ids, title=title,
                                 body=note or petition.description[:100],
                                 link=petition_link(petition.pk, for_staff=for_staff),
                                 dedupe_key=f"petition-event:{event.pk}")
    is_for_outside = not event.is_withheld
    if event.kind in SMS_KINDS and is_for_outside:
        _resident_message(petition, event)
    _holder_sms(petition, event)
    if petition.external_system_id and event.kind in WEBHOOK_KINDS and is_for_outside:
        webhook_enqueue(petition=petition, event=event)  # its payload carries no note


def webhook_enqueue(*, petition: Petition, event: PetitionEvent) -> WebhookDelivery | None:
    system_id = petition.external_system_id
    if system_id is None:  # only a system's own petitions are told by webhook
        return None
    key = (ApiKey.objects.filter(user_id=system_id, is_active=True)
           .exclude(webhook_url="").only("webhook_url").first())
    if key is None:
        return None
    delivery = WebhookDelivery.objects.create(
        external_system_id=system_id, petition=petition, event=event,
        url=key.webhook_url, payload=webhook_payload(petition=petition, event=event),
        next_attempt_at=timezone.now(),
    )
    _schedule_webhook_delivery()
    return delivery


def schedule_webhook_delivery() -> None:
    """For the sweep, which writes its webhook rows in bulk."""
    _schedule_webhook_delivery()
