"""签收 (acceptance), distinct from dispatch: the holder says "mine, I have seen it".

A dispatch (and any hand-over that makes someone the holder: a reroute, an escalation by the
sweep or by hand, a triage that moves the petition up, a reopen) sets `accept_due_at` — the
hand-over plus the holding tier's limit in the SLA policy (`SlaPolicy.accept_<tier>`, a few
minutes in a micro-grid) — and clears `accepted_at`. The holder accepts with `petition_accept`
(or by checking in, or by writing a note or resolving it themselves: those prove it was seen).

Not accepted in time: the sweep step `petitions_accept_overdue` stamps `accept_overdue_at`, writes
an internal `签收超时` event, and tells the next person in the area (HOLDER_RULES' next candidate,
else the holder of the tier above: `policy.backup_expression`) by inbox and SMS. The stamp stays
(the record is kept); the next hand-over may time out again (`accept_overdue_at <
accept_due_at`).

Whose delay it is: the arrival clock (7 minutes) still runs from dispatch, as DESIGN.md's 7135
rules say — the resident waits from dispatch, and the response rate of the street counts every
miss. But a petition whose acceptance timed out was not in the worker's hands: the delay is the
dispatch's. The worker ranking's 响应率 leaves those petitions out (`worker_response_q`), and
`accept_overdue_at` counts them separately (reports).

The sweep step is set-based: a constant number of queries whatever the backlog (claim, one
conditional UPDATE, one read with the backup per row, then one bulk insert per kind of row),
harmless twice or at once (the conditional UPDATE and the dedupe keys).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Case, F, Q, When
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from core.exceptions import ApplicationError, PermissionDeniedError
from notifications.messages import Message
from notifications.models import Notification
from notifications.services import Sms, notification_fields, sms_enqueue_many
from petitions import policy, rules
from petitions.models import OPEN_STATES, Petition, PetitionEvent, SlaPolicy
from petitions.notify import petition_link, staff_sms_link

Kind = PetitionEvent.Kind
ACCEPT_FIELDS = ["accept_due_at", "accepted_at"]


# --- hand-over: the new holder must accept ------------------------------------------------------


def accept_arm(petition: Petition, *, now: datetime, sla_policy: SlaPolicy) -> list[str]:
    """A hand-over: the (new) holder accepts within the holding tier's limit. Sets the fields on
    the instance and returns their names, for the caller's save(update_fields=...)."""
    petition.accepted_at = None
    petition.accept_due_at = (now + sla_policy.accept_limit(petition.tier)
                              if petition.holder_id is not None else None)
    return list(ACCEPT_FIELDS)


def accept_implied(petition: Petition, *, actor: User, now: datetime) -> list[str]:
    """The holder acted on the petition (checked in, wrote a note, resolved it): it was seen.
    Returns the fields set (none when someone else acted or it was accepted already)."""
    if not rules.is_holder(actor, petition) or petition.accepted_at is not None:
        return []
    petition.accepted_at = now
    return ["accepted_at"]


# --- the service --------------------------------------------------------------------------------


def petition_accept(*, petition_id: int, actor: User) -> Petition:
    """签收: the holder accepts the petition handed to them.

    1. lock the row (404 for anyone who may not see it); only the holder (403);
    2. only an open petition not yet accepted in this hand-over (400);
    3. stamp `accepted_at` (and `last_progress_at`); an internal `签收` event notes a late
       acceptance and by how much (the delay is the dispatch's, already recorded by the sweep).
    """
    with transaction.atomic():
        petition = Petition.objects.select_for_update().filter(pk=petition_id).first()
        if petition is None or not rules.can_view(actor, petition):
            raise Http404(_("诉求不存在。"))
        if not rules.is_holder(actor, petition):
            raise PermissionDeniedError(_("只有承办人可以签收。"))
        if petition.state not in OPEN_STATES:
            raise ApplicationError(_("只有办理中的诉求可以签收。"))
        if petition.accepted_at is not None:
            raise ApplicationError(_("该诉求已签收。"))
        now = timezone.now()
        petition.accepted_at = now
        petition.last_progress_at = now
        petition.save(update_fields=["accepted_at", "last_progress_at", "updated_at"])
        PetitionEvent.objects.create(petition=petition, kind=Kind.ACCEPTED, actor=actor,
                                     note=_late_note(petition.accept_due_at, now),
                                     is_internal=True, created_at=now)
        return petition


def _late_note(due: datetime | None, now: datetime) -> str:
    if due is None or not policy.is_late(due, now):
        return ""
    minutes = max(1, int((now - due).total_seconds() // 60))
    return _("超过签收时限 %(minutes)s 分钟签收（计入派单延误）。") % {"minutes": minutes}


# --- the sweep step -----------------------------------------------------------------------------


def accept_overdue_q(now: datetime) -> Q:
    """Open, held, not accepted, past the acceptance limit, and not yet stamped in this
    hand-over (a stamp older than the current deadline belongs to an earlier one)."""
    return (Q(state__in=OPEN_STATES, holder__isnull=False, accepted_at__isnull=True)
            & policy.late_q("accept_due_at", now)
            & (Q(accept_overdue_at__isnull=True) | Q(accept_overdue_at__lt=F("accept_due_at"))))


def worker_response_q() -> Q:
    """The petitions whose arrival counts for (or against) the worker: those whose acceptance
    never timed out. A timed-out one is the dispatch's delay (counted apart)."""
    return Q(accept_overdue_at__isnull=True)


def _backup(today: Any) -> Case:
    """The person to tell, per row, by the tier holding it (policy.backup_expression)."""
    return Case(*[When(tier=tier, then=policy.backup_expression(tier, today=today))
                  for tier in policy.TIER_ORDER], default=None)


def petitions_accept_overdue(*, now: datetime) -> int:
    """The beat step: stamp every petition whose holder did not accept in time, write its
    `签收超时` event, and tell the next person in the area (inbox + SMS). Returns how many.

    Queries, whatever the backlog: the claim, the conditional stamp, the read of the stamped
    rows with their backup, the backups' phones, then the events, the inbox rows and the SMS
    outbox (sms_enqueue_many: three)."""
    with transaction.atomic():
        claimed = list(Petition.objects.select_for_update(skip_locked=True)
                       .filter(accept_overdue_q(now)).values_list("id", flat=True))
        if not claimed:
            return 0
        # Conditional: a row accepted or stamped since the claim (a second beat) is left alone.
        Petition.objects.filter(pk__in=claimed).filter(accept_overdue_q(now)).update(
            accept_overdue_at=now, updated_at=now)
        rows = list(Petition.objects.filter(pk__in=claimed, accept_overdue_at=now)
                    .annotate(backup_id=_backup(timezone.localdate(now)))
                    .values("id", "holder_id", "tier", "accept_due_at", "backup_id"))
        if not rows:
            return 0
        _record_and_tell(rows, now=now)
        return len(rows)


def _record_and_tell(rows: Sequence[Mapping[str, Any]], *, now: datetime) -> None:
    PetitionEvent.objects.bulk_create([
        PetitionEvent(petition_id=row["id"], kind=Kind.ACCEPT_OVERDUE, created_at=now,
                      is_internal=True, from_tier=row["tier"], to_tier=row["tier"],
                      note=_("派单后超过签收时限未签收，计入派单延误，已通知同区域人员。"))
        for row in rows])
    told = [row for row in rows if row["backup_id"] and row["backup_id"] != row["holder_id"]]
    if not told:
        return
    phones = dict(User.objects.filter(pk__in={row["backup_id"] for row in told},
                                      is_active=True).values_list("id", "phone"))
    inbox, texts = [], []
    for row in told:
        backup_id = row["backup_id"]
        if backup_id not in phones:
            continue
        # Once per hand-over: the deadline names it.
        key = f"accept-overdue:{row['id']}:{int(row['accept_due_at'].timestamp())}:{backup_id}"
        inbox.append(Notification(
            user_id=backup_id, link=petition_link(row["id"], for_staff=True), dedupe_key=key,
            **notification_fields(
                title=Message(gettext_noop("签收超时：诉求 #%(id)s 派单后未签收"),
                              {"id": row["id"]}),
                body=Message(gettext_noop("承办人未在签收时限内签收，请您协助联系承办人或"
                                          "先行处置。")))))
        phone = phones[backup_id]
        if phone:
            texts.append(Sms(
                phone=phone, dedupe_key=f"{key}:sms",
                body=_("【有事您说话】诉求 #%(id)s 派单后超过签收时限仍未签收，请协助跟进："
                       "%(link)s") % {"id": row["id"], "link": staff_sms_link(row["id"])}))
    Notification.objects.bulk_create(inbox, ignore_conflicts=True)
    if texts:
        sms_enqueue_many(messages=texts)

