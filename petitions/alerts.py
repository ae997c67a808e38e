"""Alerts beyond an event's inbox rows: the sweep's SMS, 督办 for street admins, and 催办.

- Escalation (the sweep): the new holder is texted, and the reminder of the new tier's deadline
  is armed. The services' escalations and dispatches text the holder through notify_event.
- 督办 (the sweep): the holder is texted; every street admin whose scope covers the petition,
  and every superuser with a phone, gets an inbox message and, with a phone, an SMS.
- 催办: before each clock runs out — the 7-minute arrival clock and the current tier's
  resolution deadline — the holder is reminded once, when SlaPolicy.reminder_share of the clock
  has gone. The moments are indexed columns (`arrival_remind_at`, `due_remind_at`) set with the
  deadlines; the beat task claims the rows whose moment has come by clearing the column.

All of it is set-based like the sweep (petitions/sweep.py): a constant number of queries whatever
the backlog. Every row carries a dedupe key (once per clock, tier and round), so a second run, or
two at once, writes nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, cast

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from core.queries import update_datetimes_by_id
from notifications.messages import Message, choice
from notifications.models import Notification
from notifications.services import Sms, notification_fields, sms_enqueue_many
from petitions import policy
from petitions.models import OPEN_STATES, Petition, PetitionEvent, SlaPolicy, choice_label
from petitions.models import Tier as TierChoices
from petitions.notify import escalated_sms_body, local_time, petition_link, staff_sms_link

Kind = PetitionEvent.Kind


# --- the sweep: escalation --------------------------------------------------------------------


def petitions_alert_escalated(*, now: datetime) -> int:
    """Called inside the sweep's escalation transaction, after it moved petitions up: text
    each one's holder (once, for the tier it has reached, however many it climbed) and arm the
    reminder of that tier's deadline. The sweep's events at `now` say which petitions moved."""
    rows = [row for row in PetitionEvent.objects.filter(
        kind=Kind.ESCALATED, actor__isnull=True, created_at=now,
    ).values("petition_id", "to_tier", "petition__tier", "petition__holder_id",
             "petition__holder__phone", "petition__due_at", "petition__clock_started_at")
        if row["to_tier"] == row["petition__tier"]]
    if not rows:
        return 0
    share = SlaPolicy.current().reminder_share
    update_datetimes_by_id(Petition, "due_remind_at", {
        row["petition_id"]: policy.reminder_at(row["petition__clock_started_at"],
                                               row["petition__due_at"], share)
        for row in rows})
    sms_enqueue_many(messages=[
        Sms(phone=row["petition__holder__phone"],
            body=escalated_sms_body(petition_id=row["petition_id"],
                                    tier_label=choice_label(TierChoices, row["to_tier"]),
                                    due_at=row["petition__due_at"]),
            dedupe_key=(f"escalate-sms:{row['petition_id']}:{row['to_tier']}:"
                        f"{row['petition__holder_id']}"))
        for row in rows if row["petition__holder__phone"]])
    return len(rows)


# --- the sweep: 督办 ----------------------------------------------------------------------------


def _street_admins() -> list[Mapping[str, Any]]:
    """Who hears of every 督办: active street admins, and superusers with a phone (a superuser
    without one is a technical account, not someone on duty)."""
    with_phone = Q(phone__isnull=False) & ~Q(phone="")
    return list(User.objects.filter(is_active=True)
                .filter(Q(role=User.Role.STREET_ADMIN) | (Q(is_superuser=True) & with_phone))
                .values("id", "phone", "is_superuser", "scope_area__path").order_by("id"))


def _covers(admin: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    prefix = admin["scope_area__path"]
    if admin["is_superuser"] or prefix is None:
        return True
    return bool(row["area_path"].startswith(prefix) or row["origin_path"].startswith(prefix))


def petitions_alert_supervised(*, petition_ids: Iterable[int]) -> None:
    """Called inside the sweep's 督办 transaction: text the holders of the petitions just put
    under supervision, and tell every street admin in scope (inbox, and SMS with a phone)."""
    rows = list(Petition.objects.filter(pk__in=list(petition_ids)).values(
        "id", "holder_id", "holder__phone", "area_path", "origin_path"))
    if not rows:
        return
    admins = _street_admins()
    inbox_fields = notification_fields(
        title=Message(gettext_noop("诉求已列入督办")),
        body=Message(gettext_noop("超过街道办结时限，列入督办。")))
    inbox: list[Notification] = []
    texts: list[Sms] = []
    for row in rows:
        link = staff_sms_link(row["id"])
        if row["holder_id"] and row["holder__phone"]:
            texts.append(Sms(
                phone=row["holder__phone"],
                dedupe_key=f"supervise-sms:{row['id']}:{row['holder_id']}",
                body=_("【有事您说话】诉求 #%(id)s 超过街道办结时限，已列入督办，"
                       "请尽快办结：%(link)s") % {"id": row["id"], "link": link}))
        for admin in admins:
            if not _covers(admin, row):
                continue
            # The same key as the holder's inbox row: a street admin holding it hears once.
            inbox.append(Notification(
                user_id=admin["id"], **inbox_fields,
                link=petition_link(row["id"], for_staff=True),
                dedupe_key=f"supervise:{row['id']}:{admin['id']}"))
            if admin["phone"] and admin["id"] != row["holder_id"]:
                texts.append(Sms(
                    phone=admin["phone"], dedupe_key=f"supervise-sms:{row['id']}:{admin['id']}",
                    body=_("【有事您说话】督办：诉求 #%(id)s 超过街道办结时限仍未办结：%(link)s")
                    % {"id": row["id"], "link": link}))
    Notification.objects.bulk_create(inbox, ignore_conflicts=True)
    sms_enqueue_many(messages=texts)


# --- 催办 --------------------------------------------------------------------------------------


def _claim(column: str, *, now: datetime) -> list[int]:
    """The rows whose `column` moment has come, cleared so no later run sees them again (a
    concurrent run skips the rows locked here, on PostgreSQL; on SQLite writers queue and the
    dedupe keys keep the second one's messages out)."""
    ids = list(Petition.objects.select_for_update(skip_locked=True)
               .filter(**{f"{column}__lte": now}).values_list("id", flat=True))
    if ids:
        Petition.objects.filter(pk__in=ids, **{f"{column}__lte": now}).update(**{column: None})
    return ids


def _arrival_reminders(*, now: datetime) -> tuple[list[Notification], list[Sms]]:
    ids = _claim("arrival_remind_at", now=now)
    if not ids:
        return [], []
    # Only a clock still running: open, held, nobody on site yet, not yet late.
    rows = Petition.objects.filter(
        pk__in=ids, state__in=OPEN_STATES, holder__isnull=False, holder__is_active=True,
        arrived_at__isnull=True, arrival_missed=False, arrival_due_at__gt=now,
    ).values("id", "holder_id", "holder__phone", "arrival_due_at")
    inbox, texts = [], []
    for row in rows:
        # arrival_due_at__gt above leaves no row without the deadline.
        due_at = cast(datetime, row["arrival_due_at"])
        key = f"remind-arrival:{row['id']}:{int(due_at.timestamp())}"
        due = local_time(due_at)
        inbox.append(Notification(
            user_id=row["holder_id"], link=petition_link(row["id"], for_staff=True),
            **notification_fields(
                title=Message(gettext_noop("催办：诉求 #%(id)s 请于 %(due)s 前到场"),
                              {"id": row["id"], "due": due}),
                body=Message(gettext_noop("到场时限将至，请尽快到场签到。"))),
            dedupe_key=f"{key}:{row['holder_id']}"))
        if row["holder__phone"]:
            texts.append(Sms(
                phone=row["holder__phone"], dedupe_key=f"{key}:sms",
                body=_("【有事您说话】催办：诉求 #%(id)s 请于 %(due)s 前到场签到：%(link)s")
                % {"id": row["id"], "due": due, "link": staff_sms_link(row["id"])}))
    return inbox, texts


def _due_reminders(*, now: datetime) -> tuple[list[Notification], list[Sms]]:
    ids = _claim("due_remind_at", now=now)
    if not ids:
        return [], []
    rows = Petition.objects.filter(
        pk__in=ids, state__in=OPEN_STATES, holder__isnull=False, holder__is_active=True,
        due_at__gt=now,
    ).values("id", "holder_id", "holder__phone", "due_at", "tier", "reopened_count")
    inbox, texts = [], []
    for row in rows:
        # Once per tier and round (a reopen starts a new round with new clocks).
        key = f"remind-due:{row['id']}:{row['tier']}:{row['reopened_count']}"
        values = {"id": row["id"], "due": local_time(row["due_at"]),
                  "tier": choice_label(TierChoices, row["tier"])}
        values_raw = {**values, "tier": choice("petitions.tier", row["tier"])}
        inbox.append(Notification(
            user_id=row["holder_id"], link=petition_link(row["id"], for_staff=True),
            **notification_fields(
                title=Message(gettext_noop("催办：诉求 #%(id)s 将于 %(due)s 到期"), values_raw),
                body=Message(gettext_noop("%(tier)s办结时限将至，请尽快办结。"), values_raw)),
            dedupe_key=f"{key}:{row['holder_id']}"))
        if row["holder__phone"]:
            texts.append(Sms(
                phone=row["holder__phone"], dedupe_key=f"{key}:sms",
                body=_("【有事您说话】催办：诉求 #%(id)s 的%(tier)s办结时限为 %(due)s，"
                       "请尽快办结：%(link)s") % {**values, "link": staff_sms_link(row["id"])}))
    return inbox, texts


def petitions_send_reminders(*, now: datetime) -> int:
    """The beat job (催办): remind each holder whose clock has reached its reminder moment.
    Returns how many reminders were written (a clock of a finished or late petition, or one
    nobody holds, is cleared without one)."""
    with transaction.atomic():
        arrival_inbox, arrival_texts = _arrival_reminders(now=now)
        due_inbox, due_texts = _due_reminders(now=now)
        inbox = arrival_inbox + due_inbox
        if inbox:
            Notification.objects.bulk_create(inbox, ignore_conflicts=True)
            sms_enqueue_many(messages=arrival_texts + due_texts)
    return len(inbox)
