"""The escalation sweep: set-based, idempotent, safe with two workers at once.

A constant number of queries whatever the backlog:
- PostgreSQL: per tier ONE statement — a CTE claims the overdue rows (FOR UPDATE SKIP LOCKED, so
  a concurrent sweep skips them), moves them up with the new area/holder/deadline (`WHERE
  tier = old`, so a row is moved once), and inserts the timeline events, inbox rows and webhook
  rows from its RETURNING. A killed worker's transaction rolls back whole: nothing is lost.
- Elsewhere (SQLite: tests, the embedded demo): claim ids, one conditional bulk UPDATE, then one
  bulk insert per kind of row, all in one transaction (SQLite serialises writers).
Belt and braces: a partial unique index allows one "escalated to X" event per petition.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import ApiKey
from notifications.messages import Message, choice
from notifications.models import Notification
from notifications.services import notification_fields
from petitions import policy
from petitions.acceptance import petitions_accept_overdue
from petitions.alerts import petitions_alert_escalated, petitions_alert_supervised
from petitions.cards import petitions_issue_cards
from petitions.models import Petition, PetitionEvent, SlaPolicy, Tier, WebhookDelivery
from petitions.notify import petition_link, petition_link_parts, schedule_webhook_delivery

Kind = PetitionEvent.Kind


@dataclass(frozen=True)
class SweepResult:
    escalated: int
    supervised: int
    arrivals_missed: int
    accept_overdue: int = 0
    yellow_cards: int = 0
    red_cards: int = 0


def accept_rearm(petition_ids: list[int], *, tier: str, now: datetime) -> None:
    """The escalated petitions that changed hands: the new holder accepts within `tier`'s limit
    (petitions/acceptance.py); one who keeps the petition keeps their acceptance."""
    if petition_ids:
        Petition.objects.filter(pk__in=petition_ids).update(
            accepted_at=None, accept_due_at=now + SlaPolicy.current().accept_limit(tier))


def _messages(new_tier: str) -> tuple[Message, Message]:
    """The holder's inbox title and the event's note (also the inbox body), tier by value."""
    params = {"tier": choice("petitions.tier", new_tier)}
    return (Message(gettext_noop("诉求超时升级至%(tier)s，请尽快办理"), params),
            Message(gettext_noop("超过时限未办结，自动升级至%(tier)s。"), params))


def _supervised_messages() -> tuple[Message, Message]:
    return (Message(gettext_noop("诉求已列入督办")),
            Message(gettext_noop("超过街道办结时限，列入督办。")))


def petitions_escalate_overdue(*, now: datetime) -> int:
    """Move every open petition past its tier's deadline up one tier. Returns how many moved."""
    moved = 0
    with transaction.atomic():
        for old_tier in policy.ESCALATING_TIERS:
            if connection.vendor == "postgresql":
                moved += _escalate_tier_postgresql(old_tier, now=now)
            else:
                moved += _escalate_tier_portable(old_tier, now=now)
        if moved:
            petitions_alert_escalated(now=now)
    if moved:
        transaction.on_commit(schedule_webhook_delivery)
    return moved


def _escalate_tier_portable(old_tier: str, *, now: datetime) -> int:
    new_tier = policy.NEXT_TIER[old_tier]
    old_holders = dict(
        Petition.objects.select_for_update(skip_locked=True)
        .filter(policy.escalation_due_q(old_tier, now))
        .values_list("id", "holder_id")
    )
    claimed = list(old_holders)
    if not claimed:
        return 0
    holder = policy.holder_expression(new_tier, today=timezone.localdate(now),
                                      keep=F("holder_id"))
    count = Petition.objects.filter(pk__in=claimed, tier=old_tier).update(
        tier=new_tier, due_at=F(policy.tier_deadline_field(new_tier)),
        area_id=policy.area_expression(new_tier), holder_id=holder,
        area_path=policy.area_path_expression(new_tier), updated_at=now,
    )
    rows = list(Petition.objects.filter(pk__in=claimed, tier=new_tier).values(
        "id", "holder_id", "external_system_id", "external_ref", "state"))
    accept_rearm([row["id"] for row in rows if row["holder_id"] != old_holders[row["id"]]],
                 tier=new_tier, now=now)
    title, note = _messages(new_tier)
    inbox = notification_fields(title=title, body=note)
    events = PetitionEvent.objects.bulk_create([
        PetitionEvent(petition_id=row["id"], kind=Kind.ESCALATED, from_tier=old_tier,
                      to_tier=new_tier, note=inbox["body"], created_at=now)
        for row in rows
    ])
    Notification.objects.bulk_create([
        Notification(user_id=row["holder_id"], **inbox,
                     link=petition_link(row["id"], for_staff=True),
                     dedupe_key=f"escalate:{row['id']}:{new_tier}:{row['holder_id']}")
        for row in rows if row["holder_id"]
    ], ignore_conflicts=True)
    _webhooks_bulk(rows, events, new_tier=new_tier, now=now)
    return count


def _webhooks_bulk(rows: Sequence[Mapping[str, Any]], events: list[PetitionEvent], *, new_tier: str,
                   now: datetime) -> None:
    external_ids = {row["external_system_id"] for row in rows if row["external_system_id"]}
    if not external_ids:
        return
    urls = dict(ApiKey.objects.filter(user_id__in=external_ids, is_active=True)
                .exclude(webhook_url="").values_list("user_id", "webhook_url"))
    event_by_petition = {event.petition_id: event for event in events}
    WebhookDelivery.objects.bulk_create([
        WebhookDelivery(
            external_system_id=row["external_system_id"], petition_id=row["id"],
            event=event_by_petition[row["id"]], url=urls[row["external_system_id"]],
            payload=_sweep_payload(row, event_by_petition[row["id"]].pk, Kind.ESCALATED,
                                   new_tier, now),
            created_at=now, next_attempt_at=now,
        )
        for row in rows if row["external_system_id"] in urls
    ])


def _sweep_payload(row: Mapping[str, Any], event_id: int | None, kind: str, tier: str,
                   now: datetime) -> dict[str, Any]:
    return {"event_id": event_id, "kind": kind, "service_request_id": str(row["id"]),
            "external_ref": row["external_ref"], "state": row["state"], "status": "open",
            "tier": tier, "at": now.isoformat()}


def _escalate_tier_postgresql(old_tier: str, *, now: datetime) -> int:
    new_tier = policy.NEXT_TIER[old_tier]
    title, note = _messages(new_tier)
    inbox = notification_fields(title=title, body=note)
    # Which rows are late and who holds the new tier: compiled from the policy's own queries.
    claimed, claimed_params = named_sql(
        Petition.objects.select_for_update(skip_locked=True)
        .filter(policy.escalation_due_q(old_tier, now)).order_by()
        .values("id", target_path=policy.area_path_expression(new_tier)), prefix="claim_")
    targets, target_params = named_sql(
        policy.tier_targets(new_tier, today=timezone.localdate(now)), prefix="target_")
    # The staff page of the petition, as petition_link builds it in Python.
    link_before, link_after = petition_link_parts(for_staff=True)
    sql = _ESCALATE_SQL.format(
        petition=Petition._meta.db_table, claimed=claimed, targets=targets,
        event=PetitionEvent._meta.db_table,
        notification=Notification._meta.db_table, apikey=ApiKey._meta.db_table,
        webhook=WebhookDelivery._meta.db_table,
        new_due=policy.tier_deadline_field(new_tier), new=new_tier,
        policy=SlaPolicy._meta.db_table,
    )
    params = {
        "old": old_tier, "new": new_tier, "now": now, "note": inbox["body"],
        "title": inbox["title"], "title_key": inbox["title_key"], "body_key": inbox["body_key"],
        "inbox_params": json.dumps(inbox["params"]), "kind": Kind.ESCALATED,
        "now_iso": now.isoformat(), "policy_id": SlaPolicy.SINGLETON_ID,
        "accept_default": SlaPolicy().accept_limit(new_tier),
        "link_before": link_before, "link_after": link_after, **claimed_params,
        **target_params,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.fetchone()[0])


def named_sql(queryset: QuerySet[Any], *, prefix: str) -> tuple[str, dict[str, Any]]:
    """A queryset's SQL with named parameters `%(<prefix>N)s`, to sit inside a raw statement
    that uses named parameters."""
    sql, params = queryset.query.sql_with_params()
    named: dict[str, Any] = {}

    def name(_match: re.Match[str]) -> str:
        key = f"{prefix}{len(named)}"
        named[key] = params[len(named)]
        return f"%({key})s"

    # A literal percent sign is "%%" in compiled SQL: leave those alone.
    return "%%".join(re.sub(r"%s", name, part) for part in sql.split("%%")), named


# Claimed: the policy's late rows of the old tier, locked (a concurrent sweep skips them).
# Each text parameter is cast: bound on the server (settings: server_side_binding), a parameter
# in a SELECT list or in jsonb_build_object has no type PostgreSQL could infer.
# Targets: the new tier's areas and holders (policy.tier_targets); nobody there: the old holder
# keeps the petition.
_ESCALATE_SQL = """
WITH claimed (id, target_path) AS (
    {claimed}
), targets (area_id, path, holder_id) AS (
    {targets}
), plan AS (
    SELECT c.id, t.area_id, t.path, t.holder_id
    FROM claimed c LEFT JOIN targets t ON t.path = c.target_path
), moved AS (
    UPDATE {petition} p SET
        tier = %(new)s::text, due_at = p.{new_due}, updated_at = %(now)s,
        area_id = COALESCE(plan.area_id, p.area_id),
        area_path = COALESCE(plan.path, p.area_path),
        holder_id = COALESCE(plan.holder_id, p.holder_id),
        -- 签收 (petitions/acceptance.py): a new holder accepts within the new tier's limit.
        accepted_at = CASE WHEN plan.holder_id IS DISTINCT FROM p.holder_id
                           AND plan.holder_id IS NOT NULL THEN NULL ELSE p.accepted_at END,
        accept_due_at = CASE WHEN plan.holder_id IS DISTINCT FROM p.holder_id
                             AND plan.holder_id IS NOT NULL
                        THEN %(now)s + COALESCE((SELECT accept_{new} FROM {policy}
                                                 WHERE id = %(policy_id)s), %(accept_default)s)
                        ELSE p.accept_due_at END
    FROM plan
    WHERE p.id = plan.id AND p.tier = %(old)s::text
    RETURNING p.id, p.holder_id, p.external_system_id, p.external_ref, p.state
), events AS (
    INSERT INTO {event} (petition_id, kind, actor_id, from_state, to_state, from_tier, to_tier,
                         note, is_internal, created_at)
    SELECT id, %(kind)s::text, NULL, '', '', %(old)s::text, %(new)s::text, %(note)s::text,
           FALSE, %(now)s
    FROM moved
    ON CONFLICT DO NOTHING
    RETURNING id, petition_id
), inbox AS (
    INSERT INTO {notification} (user_id, title, body, link, created_at, read_at, dedupe_key,
                                title_key, body_key, params)
    SELECT holder_id, %(title)s::text, %(note)s::text,
           %(link_before)s::text || id || %(link_after)s::text, %(now)s, NULL,
           'escalate:' || id || ':' || %(new)s::text || ':' || holder_id,
           %(title_key)s::text, %(body_key)s::text, %(inbox_params)s::jsonb
    FROM moved WHERE holder_id IS NOT NULL
    ON CONFLICT DO NOTHING
), hooks AS (
    INSERT INTO {webhook} (external_system_id, petition_id, event_id, url, payload, signature,
                           created_at, next_attempt_at, attempts, delivered_at, given_up_at,
                           last_status, last_error)
    SELECT m.external_system_id, m.id, e.id, k.webhook_url,
           jsonb_build_object('event_id', e.id, 'kind', %(kind)s::text,
                              'service_request_id', m.id::text, 'external_ref', m.external_ref,
                              'state', m.state, 'status', 'open', 'tier', %(new)s::text,
                              'at', %(now_iso)s::text),
           '', %(now)s, %(now)s, 0, NULL, NULL, NULL, ''
    FROM moved m JOIN events e ON e.petition_id = m.id
    JOIN {apikey} k ON k.user_id = m.external_system_id AND k.is_active AND k.webhook_url <> ''
)
SELECT count(*) FROM moved
"""


def petitions_record_missed_arrivals(*, now: datetime) -> int:
    """Stamp arrival_missed on every dispatched petition nobody reached in time (one event each).
    The response rate counts these; nobody is reassigned for it."""
    with transaction.atomic():
        claimed = list(
            Petition.objects.select_for_update(skip_locked=True)
            .filter(policy.arrival_missed_q(now))
            .values_list("id", flat=True)
        )
        if not claimed:
            return 0
        count = Petition.objects.filter(pk__in=claimed, arrival_missed=False).update(
            arrival_missed=True, updated_at=now)
        PetitionEvent.objects.bulk_create([
            PetitionEvent(petition_id=petition_id, kind=Kind.ARRIVAL_MISSED, created_at=now,
                          note=_("超过到场时限未签到。"), is_internal=True)
            for petition_id in claimed
        ])
        return count


def petitions_flag_supervision(*, now: datetime) -> int:
    """Past the street deadline and still open: flag 督办 once, tell the street admins."""
    with transaction.atomic():
        rows = list(
            Petition.objects.select_for_update(skip_locked=True)
            .filter(policy.supervision_due_q(now))
            .values("id", "holder_id", "external_system_id", "external_ref", "state")
        )
        if not rows:
            return 0
        ids = [row["id"] for row in rows]
        count = Petition.objects.filter(pk__in=ids, supervised=False).update(
            supervised=True, supervised_at=now, updated_at=now)
        title, note = _supervised_messages()
        inbox = notification_fields(title=title, body=note)
        events = PetitionEvent.objects.bulk_create([
            PetitionEvent(petition_id=petition_id, kind=Kind.SUPERVISED, created_at=now,
                          note=inbox["body"])
            for petition_id in ids
        ])
        Notification.objects.bulk_create([
            Notification(user_id=row["holder_id"], **inbox,
                         link=petition_link(row["id"], for_staff=True),
                         dedupe_key=f"supervise:{row['id']}:{row['holder_id']}")
            for row in rows if row["holder_id"]
        ], ignore_conflicts=True)
        petitions_alert_supervised(petition_ids=ids)
        external_rows = [row for row in rows if row["external_system_id"]]
        if external_rows:
            _webhooks_supervised(external_rows, events, now=now)
        return count


def _webhooks_supervised(rows: Sequence[Mapping[str, Any]], events: list[PetitionEvent], *,
                         now: datetime) -> None:
    urls = dict(ApiKey.objects.filter(user_id__in={row["external_system_id"] for row in rows},
                                      is_active=True)
                .exclude(webhook_url="").values_list("user_id", "webhook_url"))
    event_by_petition = {event.petition_id: event for event in events}
    WebhookDelivery.objects.bulk_create([
        WebhookDelivery(
            external_system_id=row["external_system_id"], petition_id=row["id"],
            event=event_by_petition[row["id"]], url=urls[row["external_system_id"]],
            payload=_sweep_payload(row, event_by_petition[row["id"]].pk, Kind.SUPERVISED,
                                   Tier.STREET, now),
            created_at=now, next_attempt_at=now,
        )
        for row in rows if row["external_system_id"] in urls
    ])
    transaction.on_commit(schedule_webhook_delivery)


def petitions_sweep(*, now: datetime) -> SweepResult:
    """The beat job: missed arrivals, acceptance timeouts (签收超时, before escalation hands
    a petition on), escalations, supervision flags, then 黄牌/红牌."""
    arrivals = petitions_record_missed_arrivals(now=now)
    accept_overdue = petitions_accept_overdue(now=now)
    escalated = petitions_escalate_overdue(now=now)
    supervised = petitions_flag_supervision(now=now)
    cards = petitions_issue_cards(now=now)
    return SweepResult(escalated=escalated, supervised=supervised, arrivals_missed=arrivals,
                       accept_overdue=accept_overdue, yellow_cards=cards.yellow,
                       red_cards=cards.red)
