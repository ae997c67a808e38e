"""The 7135 policy: every clock rule of the petitions, in this one file.

1. Tiers — the order micro-grid → grid → street, the next tier, the first tier by size (triage),
   and the area that holds a tier (a prefix of the micro-grid's path in the territory tree).
2. Deadlines — from acceptance, per tier, in calendar days or statutory working days
   (core.workdays); the arrival clock from dispatch; the rating window from verification.
3. Late — ONE boundary for every clock: a deadline is missed when now > deadline. The
   deadline's own instant is still on time ("on site within 7 minutes" includes the seventh
   minute's last instant). `is_late` says it in Python and `late_q` in SQL, and every caller —
   the sweep, the overdue lists and filters, the clocks on the pages and in the API, check-in,
   resolve, close — goes through one of the two (the pages' live countdown,
   static/js/petitions.js, turns to 已超时 the same way: once past the deadline).
4. The holder of a tier — `HOLDER_RULES`, an ordered list of places to look per tier, is the
   only definition; `tier_holder_id` (Python, one area) and `holder_expression` (SQL, per row,
   for the sweep's UPDATE and its PostgreSQL statement) are both generated from it.
5. Escalation and supervision — which open rows the sweep moves up a tier, and which it flags
   for 督办 (past the street deadline).

Working days: whole days of a duration are counted as working days, in local time, keeping the
time of day; a petition accepted on a day off starts its clock at 00:00 of the next working
day. Any part of a duration below a day (and the 7-minute arrival clock) runs in calendar time,
because someone is on duty every day. A working-day deadline that runs past the holiday table's
end is counted Monday to Friday and marked `is_estimated`, which the petition keeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any, Literal

from django.db.models import BigIntegerField, Expression, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone

from accounts.models import User
from core.workdays import WorkCalendar
from governance.models import StaffPost
from petitions.models import OPEN_STATES, Petition, SlaPolicy, Tier
from territory.models import Area

# --- 1. tiers ----------------------------------------------------------------------------------

TIER_ORDER: tuple[str, ...] = (Tier.MICROGRID, Tier.GRID, Tier.STREET)
TIER_RANK: dict[str, int] = {tier: rank for rank, tier in enumerate(TIER_ORDER)}
NEXT_TIER: dict[str, str] = dict(pairwise(TIER_ORDER))
# The tiers the sweep moves a petition up from (the street has nowhere to go: 督办 instead).
ESCALATING_TIERS: tuple[str, ...] = tuple(NEXT_TIER)
SIZE_TIER: dict[str, str] = {Petition.Size.SMALL: Tier.MICROGRID, Petition.Size.BIG: Tier.GRID,
                             Petition.Size.HARD: Tier.STREET}

# The territory tree's paths have 4 characters a level: street (1) → community (2) → grid (3)
# → micro-grid (4); a tier's holding area is the prefix of that depth of the micro-grid's path.
STEP = Area.steplen
TIER_DEPTH: dict[str, int] = {Tier.MICROGRID: 4, Tier.GRID: 3, Tier.STREET: 1}


def initial_tier(size: str) -> str:
    """Triage: a small matter starts in the micro-grid, a big one in the grid, a hard one at
    the street."""
    return SIZE_TIER.get(size, Tier.MICROGRID)


def is_above(tier: str, other: str) -> bool:
    return TIER_RANK[tier] > TIER_RANK[other]


def tier_path(path: str, tier: str) -> str:
    return path[: STEP * TIER_DEPTH[tier]]


def tier_area(origin: Area, tier: str) -> Area:
    """The area holding a petition at `tier`, for a petition located in `origin`."""
    path = tier_path(origin.path, tier)
    if path == origin.path:
        return origin
    area: Area = Area.objects.get(path=path)
    return area


def tier_path_expression(tier: str, path_field: str = "area_path") -> Expression:
    """SQL: the holding area's path at `tier` for the outer row's `path_field`."""
    return Substr(OuterRef(path_field), 1, STEP * TIER_DEPTH[tier])


def area_expression(tier: str, path_field: str = "area_path") -> Expression:
    """SQL, per row: the id of the area holding it at `tier` (the current area if none)."""
    return Coalesce(
        Subquery(Area.objects.filter(path=tier_path_expression(tier, path_field))
                 .order_by().values("id")[:1]),
        F("area_id"))


def area_path_expression(tier: str) -> Expression:
    """SQL, per row: the petition's area_path cut to `tier` (tier_path in SQL)."""
    return Substr("area_path", 1, STEP * TIER_DEPTH[tier])


# --- 2. deadlines ------------------------------------------------------------------------------

CALENDAR_DAYS = SlaPolicy.Calendar.CALENDAR_DAYS.value
WORKING_DAYS = SlaPolicy.Calendar.WORKING_DAYS.value


@dataclass(frozen=True)
class Durations:
    arrival: timedelta
    microgrid: timedelta
    grid: timedelta
    street: timedelta
    calendar: str = CALENDAR_DAYS

    def for_tier(self, tier: str) -> timedelta:
        durations: dict[str, timedelta] = {Tier.MICROGRID: self.microgrid, Tier.GRID: self.grid,
                                           Tier.STREET: self.street}
        return durations[tier]

    @classmethod
    def of(cls, policy: SlaPolicy) -> Durations:
        return cls(arrival=policy.arrival, microgrid=policy.microgrid, grid=policy.grid,
                   street=policy.street, calendar=policy.calendar)


@dataclass(frozen=True)
class Deadlines:
    arrival_due_at: datetime
    microgrid_due_at: datetime
    grid_due_at: datetime
    street_due_at: datetime
    # A working-day deadline ran past the holiday table's end: counted Monday to Friday.
    is_estimated: bool = False

    def for_tier(self, tier: str) -> datetime:
        deadlines: dict[str, datetime] = {Tier.MICROGRID: self.microgrid_due_at,
                                          Tier.GRID: self.grid_due_at,
                                          Tier.STREET: self.street_due_at}
        return deadlines[tier]


def counts_working_days(duration: timedelta, *, calendar: str) -> bool:
    return calendar == WORKING_DAYS and duration >= timedelta(days=1)


def deadline_after(start: datetime, duration: timedelta, *, calendar: str,
                   workdays: WorkCalendar | None = None) -> datetime:
    """When a clock of `duration` started at `start` runs out."""
    if not counts_working_days(duration, calendar=calendar):
        return start + duration
    whole_days = duration.days
    remainder = duration - timedelta(days=whole_days)
    return (workdays or WorkCalendar()).add_workdays(start, whole_days) + remainder


def compute_deadlines(accepted_at: datetime, durations: Durations, *,
                      workdays: WorkCalendar | None = None) -> Deadlines:
    """All the clocks of one petition, measured from acceptance.

    One `WorkCalendar` serves the three clocks (a batch may pass its own to share it further),
    so a petition costs two queries of the holiday table, whatever its durations.
    """
    workdays = workdays or WorkCalendar()
    tiers = {tier: deadline_after(accepted_at, durations.for_tier(tier),
                                  calendar=durations.calendar, workdays=workdays)
             for tier in TIER_ORDER}
    start = timezone.localdate(accepted_at)
    is_estimated = any(
        counts_working_days(durations.for_tier(tier), calendar=durations.calendar)
        and not workdays.covers(start, timezone.localdate(deadline))
        for tier, deadline in tiers.items())
    return Deadlines(
        arrival_due_at=accepted_at + durations.arrival,
        microgrid_due_at=tiers[Tier.MICROGRID], grid_due_at=tiers[Tier.GRID],
        street_due_at=tiers[Tier.STREET], is_estimated=is_estimated,
    )


def tier_deadline(petition: Petition, tier: str) -> datetime:
    """The resolution deadline of `tier`, as stored on the petition at acceptance."""
    deadlines: dict[str, datetime] = {Tier.MICROGRID: petition.microgrid_due_at,
                                      Tier.GRID: petition.grid_due_at,
                                      Tier.STREET: petition.street_due_at}
    return deadlines[tier]


def tier_deadline_field(tier: str) -> str:
    """The column the sweep copies into due_at when the petition reaches `tier`."""
    return f"{tier}_due_at"


def arrival_deadline(dispatched_at: datetime, policy: SlaPolicy) -> datetime:
    """The arrival clock runs from dispatch, in calendar time."""
    return dispatched_at + policy.arrival


def rating_deadline(verified_at: datetime, policy: SlaPolicy) -> datetime:
    """The resident rates within the rating window opened by verification."""
    return verified_at + policy.rating_window


# --- 3. late: one boundary ---------------------------------------------------------------------


def is_late(deadline: datetime | None, now: datetime) -> bool:
    """Missed: now is past the deadline. No deadline (no clock running) is never late."""
    return deadline is not None and now > deadline


def late_q(field: str, now: datetime) -> Q:
    """`is_late` in SQL: the rows whose `field` deadline is missed at `now` (NULL: not late)."""
    return Q(**{f"{field}__lt": now})


def on_time_q(field: str, now: datetime) -> Q:
    """The rows whose `field` deadline still runs at `now` (the complement of late_q, NULLs
    excepted)."""
    return Q(**{f"{field}__gte": now})


def is_overdue(petition: Petition, now: datetime) -> bool:
    """Open and past the resolution deadline of its tier."""
    return state_is_overdue(state=petition.state, due_at=petition.due_at, now=now)


def state_is_overdue(*, state: str, due_at: datetime | None, now: datetime) -> bool:
    """is_overdue over the columns themselves (a list read with values())."""
    return state in OPEN_STATES and is_late(due_at, now)


def overdue_q(now: datetime) -> Q:
    return Q(state__in=OPEN_STATES) & late_q("due_at", now)


def is_arrival_missed(petition: Petition, now: datetime) -> bool:
    """Nobody arrived in time: recorded by the sweep, or open, not checked in and late."""
    return state_is_arrival_missed(
        state=petition.state, arrival_missed=petition.arrival_missed,
        arrived_at=petition.arrived_at, arrival_due_at=petition.arrival_due_at, now=now)


def state_is_arrival_missed(*, state: str, arrival_missed: bool, arrived_at: datetime | None,
                            arrival_due_at: datetime | None, now: datetime) -> bool:
    """is_arrival_missed over the columns themselves (a list read with values())."""
    return arrival_missed or (
        state in OPEN_STATES and arrived_at is None and is_late(arrival_due_at, now))


def arrival_missed_q(now: datetime) -> Q:
    """The rows the sweep stamps arrival_missed on: open, nobody checked in, late, not yet
    stamped."""
    return (Q(state__in=OPEN_STATES, arrived_at__isnull=True, arrival_missed=False)
            & late_q("arrival_due_at", now))


def is_resolved_on_time(petition: Petition, resolved_at: datetime) -> bool:
    return not is_late(petition.due_at, resolved_at)


def rating_window_passed(petition: Petition, now: datetime) -> bool:
    """The resident had their time to rate: staff may close the petition unrated.
    No recorded window (a row not verified through petition_verify): nothing to wait for."""
    return petition.rating_due_at is None or is_late(petition.rating_due_at, now)


# --- 4. the holder of a tier -------------------------------------------------------------------


@dataclass(frozen=True)
class HolderRule:
    """One place to look for a tier's holder; a tier's rules are tried in order, the first that
    finds an active person wins, and among several the lowest id (the longest-standing account or
    post) wins.

    - source "account", scope "area": an active user with role `kind` scoped to the tier's area;
    - source "account", scope "none": an active user with role `kind` and no scope (sees all);
    - source "post": the active user of a StaffPost of kind `kind` on the tier's area, the post
      running today (started, not ended).
    """

    source: Literal["account", "post"]
    kind: str
    scope: Literal["area", "none"] = "area"


HOLDER_RULES: dict[str, tuple[HolderRule, ...]] = {
    Tier.MICROGRID: (HolderRule("account", User.Role.MICROGRID_WORKER),
                     HolderRule("post", StaffPost.Kind.MICROGRID_WORKER)),
    Tier.GRID: (HolderRule("account", User.Role.GRID_WORKER),
                HolderRule("post", StaffPost.Kind.GRID_WORKER)),
    # A street often has one admin account with no scope: the street's petitions are theirs.
    Tier.STREET: (HolderRule("account", User.Role.STREET_ADMIN),
                  HolderRule("account", User.Role.STREET_ADMIN, scope="none")),
}


def _candidates(rule: HolderRule, *, area_path: str | Combinable,
                today: date) -> QuerySet[Any]:
    """The people `rule` finds for the area at `area_path` (a value or an SQL expression), best
    first, as one column of user ids: the shared body of the Python rule and the SQL one."""
    if rule.source == "post":
        posts = (StaffPost.objects.filter(kind=rule.kind, area__path=area_path,
                                          user__is_active=True, starts_on__lte=today)
                 .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today)))
        return posts.order_by("id").values("user_id")
    users = User.objects.filter(role=rule.kind, is_active=True)
    if rule.scope == "none":
        users = users.filter(scope_area__isnull=True)
    else:
        users = users.filter(scope_area__path=area_path)
    return users.order_by("id").values("id")


def tier_holder_id(area: Area, tier: str, *, today: date | None = None) -> int | None:
    """Who holds a petition at `tier` in `area` (HOLDER_RULES), or None: nobody there."""
    today = today or timezone.localdate()
    for rule in HOLDER_RULES[tier]:
        row = _candidates(rule, area_path=area.path, today=today).first()
        if row is not None:
            return int(next(iter(row.values())))
    return None


def holder_expression(tier: str, *, today: date, area_path: Combinable | None = None,
                      keep: Combinable | None = None) -> Expression:
    """`tier_holder_id` in SQL, per row: COALESCE of one subquery per rule, in order.

    `area_path` is the SQL of the tier's area path (default: the outer petition's area_path
    cut to the tier); `keep` is what a row keeps when the rules find nobody (the sweep: the old
    holder)."""
    path = area_path if area_path is not None else tier_path_expression(tier)
    parts: list[Any] = [Subquery(_candidates(rule, area_path=path, today=today)[:1])
                        for rule in HOLDER_RULES[tier]]
    if keep is not None:
        parts.append(keep)
    # A user id, whether it comes from a subquery or the row's own holder_id (a foreign key).
    return Coalesce(*parts, output_field=BigIntegerField()) if len(parts) > 1 else parts[0]


def tier_targets(tier: str, *, today: date) -> QuerySet[Any]:
    """The areas of `tier` with their holder: rows of (id, path, holder_id). The PostgreSQL
    sweep compiles this into its statement, so it runs the same rule, not a copy of it."""
    targets: QuerySet[Any] = (
        Area.objects.filter(depth=TIER_DEPTH[tier]).order_by()
        .annotate(holder_id=holder_expression(tier, today=today, area_path=OuterRef("path")))
        .values("id", "path", "holder_id"))
    return targets


# --- 5. escalation and supervision -------------------------------------------------------------


def escalation_due_q(tier: str, now: datetime) -> Q:
    """Open rows at `tier` past its deadline: the sweep moves them to NEXT_TIER[tier]."""
    return Q(tier=tier) & overdue_q(now)


def supervision_due_q(now: datetime) -> Q:
    return Q(tier=Tier.STREET, supervised=False) & overdue_q(now)


def reminder_at(start: datetime | None, deadline: datetime | None,
                share: Decimal) -> datetime | None:
    """When the holder is reminded (催办) of a clock running from `start` to `deadline`: once
    `share` of it has gone. The share of the wall-clock span, so a working-day deadline over a
    holiday is reminded proportionally later."""
    if start is None or deadline is None:
        return None
    return start + (deadline - start) * float(share)


# --- 6. 签收: who is told when the holder does not accept (petitions/acceptance.py) -------------


def backup_expression(tier: str, *, today: date) -> Expression:
    """SQL, per row held at `tier`: the next person in the holding area by HOLDER_RULES, the
    holder excepted; with nobody else there, the holder of the tier above (none above the
    street). NULL: nobody to tell."""
    parts: list[Any] = []
    for rule in HOLDER_RULES[tier]:
        column = "user_id" if rule.source == "post" else "id"
        others = _candidates(rule, area_path=tier_path_expression(tier), today=today).exclude(
            **{column: OuterRef("holder_id")})
        parts.append(Subquery(others[:1]))
    above = NEXT_TIER.get(tier)
    if above is not None:
        parts.append(holder_expression(above, today=today))
    return Coalesce(*parts, output_field=BigIntegerField())
