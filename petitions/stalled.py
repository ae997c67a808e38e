"""滞留提醒: the stalled-work digest (Klarschiff's "not accepted in N days" and friends).

Three kinds of stalled petitions, thresholds in the SLA policy:

- 派单未签收 — held, open, not accepted past the acceptance limit (`accept_due_at`);
- 签收后无办理记录 — accepted, open, no sign of work (签收, check-in, a staff note:
  `last_progress_at`) for `SlaPolicy.stalled_note_after`;
- 办结未核查 — resolved and not verified for `SlaPolicy.stalled_verify_after`.

Each run of the beat job belongs to an interval (`SlaPolicy.stalled_digest_interval`, a day by
default, its slots starting at DIGEST_HOUR local time). The first run of an interval claims it
with a `StalledDigestRun` row (unique `slot_start`): a second beat, or two at once, finds it
taken and sends nothing. The claim sends ONE inbox message to each person concerned — the holder
of each stalled petition and its supervisors (community staff whose scope covers it, street
admins in scope) — listing their stalled petitions; an SMS only to a holder with petitions
still waiting for 签收 (those they have not even seen, so the inbox may not reach them either).
Every row also carries a dedupe key of the slot and the person. A petition still stalled at the
next interval is in the next digest: the repeat.

On a day off in the statutory calendar (core.workdays) no digest goes out; the next working
day's first run sends it. A constant number of queries whatever the backlog (asserted in
tests/petitions/test_stalled.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from core.workdays import WorkCalendar
from notifications.messages import Message
from notifications.models import Notification
from notifications.services import Sms, notification_fields, sms_enqueue_many
from petitions import policy
from petitions.models import OPEN_STATES, Petition, PetitionState, SlaPolicy, StalledDigestRun

DIGEST_HOUR = 8  # local time: the digest's day starts at 08:00, when the office opens
LISTED_PER_KIND = 10  # ids named per kind in one message; the count says the rest
NOT_ACCEPTED, NO_NOTE, NOT_VERIFIED = "not_accepted", "no_note", "not_verified"
KINDS = (NOT_ACCEPTED, NO_NOTE, NOT_VERIFIED)
ROW_FIELDS = ("id", "holder_id", "holder__phone", "area_path", "origin_path")


def stalled_q(now: datetime, sla_policy: SlaPolicy) -> dict[str, Q]:
    """The three kinds as conditions on Petition rows (each fits one partial index)."""
    return {
        NOT_ACCEPTED: (Q(state__in=OPEN_STATES, holder__isnull=False, accepted_at__isnull=True)
                       & policy.late_q("accept_due_at", now)),
        NO_NOTE: (Q(state__in=OPEN_STATES, accepted_at__isnull=False)
                  & policy.late_q("last_progress_at", now - sla_policy.stalled_note_after)),
        NOT_VERIFIED: (Q(state=PetitionState.RESOLVED)
                       & policy.late_q("resolved_at", now - sla_policy.stalled_verify_after)),
    }


def digest_slot(now: datetime, interval: timedelta) -> datetime:
    """The start of the interval `now` falls in: slots of `interval` from DIGEST_HOUR local
    time on a fixed day, so every run of one interval names the same slot."""
    anchor = datetime.combine(date(2024, 1, 1), time(DIGEST_HOUR),
                              tzinfo=timezone.get_current_timezone())
    return anchor + ((now - anchor) // interval) * interval


@dataclass
class Digest:
    """One person's stalled petitions, by kind."""

    phone: str = ""
    holder_waiting: int = 0  # petitions they hold, waiting for their 签收
    ids: dict[str, list[int]] = field(default_factory=lambda: {kind: [] for kind in KINDS})

    @property
    def total(self) -> int:
        return sum(len(ids) for ids in self.ids.values())


def _supervisors() -> dict[str, list[Mapping[str, Any]]]:
    """Community staff and street admins, by the path of their scope ("" = no scope: a street
    admin who sees all). One query."""
    by_path: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for person in (User.objects.filter(is_active=True, role__in=[User.Role.COMMUNITY_STAFF,
                                                                  User.Role.STREET_ADMIN])
                   .values("id", "phone", "role", "scope_area__path").order_by("id")):
        path = person["scope_area__path"]
        if path is None and person["role"] != User.Role.STREET_ADMIN:
            continue  # community staff without a community supervise nothing
        by_path[path or ""].append(person)
    return by_path


def _covering(row: Mapping[str, Any], by_path: Mapping[str, list[Mapping[str, Any]]]
              ) -> Iterable[Mapping[str, Any]]:
    """The supervisors whose scope holds the petition's area or its place (rules.covers)."""
    prefixes = {""}
    for path in (row["area_path"], row["origin_path"]):
        prefixes.update(path[:end] for end in range(policy.STEP, len(path) + 1, policy.STEP))
    seen: set[int] = set()
    for prefix in prefixes:
        for person in by_path.get(prefix, ()):
            if person["id"] not in seen:
                seen.add(person["id"])
                yield person


def _collect(rows_by_kind: Mapping[str, list[Mapping[str, Any]]]) -> dict[int, Digest]:
    by_path = _supervisors()
    digests: dict[int, Digest] = defaultdict(Digest)
    for kind, rows in rows_by_kind.items():
        for row in rows:
            if row["holder_id"]:
                holder = digests[row["holder_id"]]
                holder.phone = row["holder__phone"] or ""
                holder.ids[kind].append(row["id"])
                holder.holder_waiting += kind == NOT_ACCEPTED
            for person in _covering(row, by_path):
                digest = digests[person["id"]]
                digest.phone = digest.phone or person["phone"] or ""
                if row["id"] not in digest.ids[kind]:
                    digest.ids[kind].append(row["id"])
    return digests


def _body(digest: Digest, sla_policy: SlaPolicy) -> str:
    labels = {
        NOT_ACCEPTED: _("派单后超过签收时限未签收"),
        NO_NOTE: _("签收后超过 %(hours)s 小时无办理记录")
        % {"hours": _hours(sla_policy.stalled_note_after)},
        NOT_VERIFIED: _("办结后超过 %(hours)s 小时未核查")
        % {"hours": _hours(sla_policy.stalled_verify_after)},
    }
    lines = []
    for kind in KINDS:
        ids = sorted(digest.ids[kind])
        if not ids:
            continue
        named = "、".join(f"#{petition_id}" for petition_id in ids[:LISTED_PER_KIND])
        more = _("等") if len(ids) > LISTED_PER_KIND else ""
        lines.append(_("%(label)s %(count)s 件：%(ids)s%(more)s")
                     % {"label": labels[kind], "count": len(ids), "ids": named, "more": more})
    return "\n".join(lines)


def _hours(duration: timedelta) -> str:
    hours = duration.total_seconds() / 3600
    return f"{hours:g}"


def _claim(slot: datetime, now: datetime) -> StalledDigestRun | None:
    """The interval's one run, or None when another run has it (the unique slot)."""
    try:
        with transaction.atomic():
            return StalledDigestRun.objects.create(slot_start=slot, created_at=now)
    except IntegrityError:
        return None


def petitions_stalled_digest(*, now: datetime) -> int:
    """The beat job (hourly): the interval's digest, once. Returns how many people it told
    (0 on a day off, when another run already sent this interval's, or when nothing stalls).

    1. a day off in the statutory calendar: nothing (and nothing claimed);
    2. claim the interval (StalledDigestRun); taken: nothing;
    3. read the three kinds (one query each), find the supervisors (one query);
    4. one inbox row per person, an SMS to holders with petitions waiting for 签收 — keyed by
       slot and person; record the counts on the run.
    """
    if not WorkCalendar().is_workday(timezone.localdate(now)):
        return 0
    return stalled_digest_send(now=now)


def stalled_digest_send(*, now: datetime) -> int:
    """The digest of `now`'s interval, whatever the day (the beat job checks the calendar
    first; bench/escalation.py times this part on any day)."""
    sla_policy = SlaPolicy.current()
    slot = digest_slot(now, sla_policy.stalled_digest_interval)
    with transaction.atomic():
        run = _claim(slot, now)
        if run is None:
            return 0
        rows_by_kind = {kind: list(Petition.objects.filter(condition).order_by()
                                   .values(*ROW_FIELDS))
                        for kind, condition in stalled_q(now, sla_policy).items()}
        digests = _collect(rows_by_kind) if any(rows_by_kind.values()) else {}
        _send(digests, slot=slot, sla_policy=sla_policy)
        run.recipients = len(digests)
        run.petitions = len({row["id"] for rows in rows_by_kind.values() for row in rows})
        run.save(update_fields=["recipients", "petitions"])
        return len(digests)


def _send(digests: Mapping[int, Digest], *, slot: datetime, sla_policy: SlaPolicy) -> None:
    if not digests:
        return
    key = f"stalled-digest:{int(slot.timestamp())}"
    link = reverse("petitions:staff-queue")
    inbox, texts = [], []
    for user_id, digest in digests.items():
        inbox.append(Notification(
            user_id=user_id, link=link, dedupe_key=f"{key}:{user_id}",
            **notification_fields(
                title=Message(gettext_noop("滞留提醒：%(count)s 件诉求待跟进"),
                              {"count": digest.total}),
                body=_body(digest, sla_policy))))
        if digest.holder_waiting and digest.phone:
            texts.append(Sms(phone=digest.phone, dedupe_key=f"{key}:{user_id}:sms",
                             body=_("【有事您说话】滞留提醒：您有 %(count)s 件诉求派单后仍未签收，"
                                    "请登录工作台签收办理。") % {"count": digest.holder_waiting}))
    Notification.objects.bulk_create(inbox, ignore_conflicts=True)
    if texts:
        sms_enqueue_many(messages=texts)
