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

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accounts.models import ApiKey
from governance.models import Area, StaffPost
from notifications.models import Notification
from petitions.alerts import petitions_alert_escalated, petitions_alert_supervised
from petitions.models import (
    NEXT_TIER,
    OPEN_STATES,
    Petition,
    PetitionEvent,
    Tier,
    WebhookDelivery,
)
from petitions.notify import petition_link, petition_link_parts, schedule_webhook_delivery
from petitions.placement import (
    STEP,
    TIER_DEPTH,
    TIER_POST,
    TIER_ROLE,
    area_expression,
    holder_expression,
)

Kind = PetitionEvent.Kind
ESCALATING_TIERS = (Tier.MICROGRID, Tier.GRID)


@dataclass(frozen=True)
class SweepResult:
    escalated: int
    supervised: int
    arrivals_missed: int


def _messages(new_tier: str) -> tuple[str, str]:
    label = str(Tier(new_tier).label)
    title = _("诉求超时升级至%(tier)s，请尽快办理") % {"tier": label}
    note = _("超过时限未办结，自动升级至%(tier)s。") % {"tier": label}
    return title, note


def petitions_escalate_overdue(*, now: datetime) -> int:
    """Move every open petition past its tier's deadline up one tier. Returns how many moved."""
    moved = 0
    with transaction.atomic():
        for old_tier in ESCALATING_TIERS:
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
    new_tier = NEXT_TIER[old_tier]
    claimed = list(
        Petition.objects.select_for_update(skip_locked=True)
        .filter(tier=old_tier, due_at__lte=now, state__in=OPEN_STATES)
        .values_list("id", flat=True)
    )
    if not claimed:
        return 0
    count = Petition.objects.filter(pk__in=claimed, tier=old_tier).update(
        tier=new_tier, due_at=F(f"{new_tier}_due_at"),
        area_id=area_expression(new_tier), holder_id=holder_expression(new_tier),
        area_path=_prefix_expression(new_tier), updated_at=now,
    )
    rows = list(Petition.objects.filter(pk__in=claimed, tier=new_tier).values(
        "id", "holder_id", "external_system_id", "external_ref", "state"))
    title, note = _messages(new_tier)
    events = PetitionEvent.objects.bulk_create([
        PetitionEvent(petition_id=row["id"], kind=Kind.ESCALATED, from_tier=old_tier,
                      to_tier=new_tier, note=note, created_at=now)
        for row in rows
    ])
    Notification.objects.bulk_create([
        Notification(user_id=row["holder_id"], title=title, body=note,
                     link=petition_link(row["id"], for_staff=True),
                     dedupe_key=f"escalate:{row['id']}:{new_tier}:{row['holder_id']}")
        for row in rows if row["holder_id"]
    ], ignore_conflicts=True)
    _webhooks_bulk(rows, events, new_tier=new_tier, now=now)
    return count


def _prefix_expression(tier: str) -> Any:
    from django.db.models.functions import Substr

    return Substr("area_path", 1, STEP * TIER_DEPTH[tier])


def _webhooks_bulk(rows: list[dict[str, Any]], events: list[PetitionEvent], *, new_tier: str,
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


def _sweep_payload(row: dict[str, Any], event_id: int | None, kind: str, tier: str,
                   now: datetime) -> dict[str, Any]:
    return {"event_id": event_id, "kind": kind, "service_request_id": str(row["id"]),
            "external_ref": row["external_ref"], "state": row["state"], "status": "open",
            "tier": tier, "at": now.isoformat()}


def _escalate_tier_postgresql(old_tier: str, *, now: datetime) -> int:
    new_tier = NEXT_TIER[old_tier]
    title, note = _messages(new_tier)
    sql = _ESCALATE_SQL.format(
        petition=Petition._meta.db_table, area=Area._meta.db_table,
        user=Petition._meta.get_field("holder").related_model._meta.db_table,
        post=StaffPost._meta.db_table, event=PetitionEvent._meta.db_table,
        notification=Notification._meta.db_table, apikey=ApiKey._meta.db_table,
        webhook=WebhookDelivery._meta.db_table, new_due=f"{new_tier}_due_at",
    )
    params = {
        "old": old_tier, "new": new_tier, "now": now, "open": sorted(OPEN_STATES),
        "length": STEP * TIER_DEPTH[new_tier], "role": TIER_ROLE[new_tier],
        "post_kind": TIER_POST.get(new_tier, ""), "today": now.date(), "note": note,
        "title": title, "kind": Kind.ESCALATED, "now_iso": now.isoformat(),
    }
    # The staff page of the petition, as petition_link builds it in Python.
    params["link_head"], params["link_tail"] = petition_link_parts(for_staff=True)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.fetchone()[0])


# The new holder: a user with the tier's role scoped to the new area, else a staff post there,
# else (street) any street admin without a scope, else the old holder keeps it.
_ESCALATE_SQL = """
WITH claimed AS (
    SELECT id FROM {petition}
    WHERE tier = %(old)s AND due_at <= %(now)s AND state = ANY(%(open)s)
    FOR UPDATE SKIP LOCKED
), targets AS (
    SELECT a.id AS area_id, a.path, COALESCE(
        (SELECT u.id FROM {user} u WHERE u.scope_area_id = a.id AND u.role = %(role)s
            AND u.is_active ORDER BY u.id LIMIT 1),
        (SELECT sp.user_id FROM {post} sp JOIN {user} pu ON pu.id = sp.user_id
            WHERE sp.area_id = a.id AND sp.kind = %(post_kind)s AND pu.is_active
            AND (sp.ends_on IS NULL OR sp.ends_on >= %(today)s) ORDER BY sp.id LIMIT 1),
        (SELECT u.id FROM {user} u WHERE %(role)s = 'street_admin' AND u.role = %(role)s
            AND u.scope_area_id IS NULL AND u.is_active ORDER BY u.id LIMIT 1)
    ) AS holder_id
    FROM {area} a WHERE length(a.path) = %(length)s
), plan AS (
    SELECT c.id, t.area_id, t.path, t.holder_id
    FROM claimed c JOIN {petition} p2 ON p2.id = c.id
    LEFT JOIN targets t ON t.path = substr(p2.area_path, 1, %(length)s)
), moved AS (
    UPDATE {petition} p SET
        tier = %(new)s, due_at = p.{new_due}, updated_at = %(now)s,
        area_id = COALESCE(plan.area_id, p.area_id),
        area_path = COALESCE(plan.path, p.area_path),
        holder_id = COALESCE(plan.holder_id, p.holder_id)
    FROM plan
    WHERE p.id = plan.id AND p.tier = %(old)s
    RETURNING p.id, p.holder_id, p.external_system_id, p.external_ref, p.state
), events AS (
    INSERT INTO {event} (petition_id, kind, actor_id, from_state, to_state, from_tier, to_tier,
                         note, is_internal, created_at)
    SELECT id, %(kind)s, NULL, '', '', %(old)s, %(new)s, %(note)s, FALSE, %(now)s FROM moved
    ON CONFLICT DO NOTHING
    RETURNING id, petition_id
), inbox AS (
    INSERT INTO {notification} (user_id, title, body, link, created_at, read_at, dedupe_key)
    SELECT holder_id, %(title)s, %(note)s, %(link_head)s || id || %(link_tail)s, %(now)s, NULL,
           'escalate:' || id || ':' || %(new)s || ':' || holder_id
    FROM moved WHERE holder_id IS NOT NULL
    ON CONFLICT DO NOTHING
), hooks AS (
    INSERT INTO {webhook} (external_system_id, petition_id, event_id, url, payload, signature,
                           created_at, next_attempt_at, attempts, delivered_at, given_up_at,
                           last_status, last_error)
    SELECT m.external_system_id, m.id, e.id, k.webhook_url,
           jsonb_build_object('event_id', e.id, 'kind', %(kind)s,
                              'service_request_id', m.id::text, 'external_ref', m.external_ref,
                              'state', m.state, 'status', 'open', 'tier', %(new)s,
                              'at', %(now_iso)s),
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
            .filter(arrival_due_at__lte=now, arrived_at__isnull=True, arrival_missed=False,
                    state__in=OPEN_STATES)
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
            .filter(tier=Tier.STREET, due_at__lte=now, supervised=False, state__in=OPEN_STATES)
            .values("id", "holder_id", "external_system_id", "external_ref", "state")
        )
        if not rows:
            return 0
        ids = [row["id"] for row in rows]
        count = Petition.objects.filter(pk__in=ids, supervised=False).update(
            supervised=True, supervised_at=now, updated_at=now)
        note = _("超过街道办结时限，列入督办。")
        events = PetitionEvent.objects.bulk_create([
            PetitionEvent(petition_id=petition_id, kind=Kind.SUPERVISED, created_at=now,
                          note=note)
            for petition_id in ids
        ])
        Notification.objects.bulk_create([
            Notification(user_id=row["holder_id"], title=_("诉求已列入督办"), body=note,
                         link=petition_link(row["id"], for_staff=True),
                         dedupe_key=f"supervise:{row['id']}:{row['holder_id']}")
            for row in rows if row["holder_id"]
        ], ignore_conflicts=True)
        petitions_alert_supervised(petition_ids=ids)
        external_rows = [row for row in rows if row["external_system_id"]]
        if external_rows:
            _webhooks_supervised(external_rows, events, now=now)
        return count


def _webhooks_supervised(rows: list[dict[str, Any]], events: list[PetitionEvent], *,
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
    """The beat job: missed arrivals, escalations, then supervision flags."""
    arrivals = petitions_record_missed_arrivals(now=now)
    escalated = petitions_escalate_overdue(now=now)
    supervised = petitions_flag_supervision(now=now)
    return SweepResult(escalated=escalated, supervised=supervised, arrivals_missed=arrivals)
