"""黄牌/红牌: cards at offsets before and after each clock's deadline (Tianque's yellow and red
limits per organisation level × issue type; GLPI's escalation levels at −N … +N).

- A clock is a step (STEP_CLOCKS: 到场 the arrival clock from dispatch, 办结 a tier's resolution
  deadline from acceptance) at a tier. A new step (签收…) is a CardStep value and a function here.
- The rule is a CardRule for the step × tier × category (the category's own, else its parent's,
  else the tier's default): yellow a share of the clock, hours or days before the deadline; red
  hours or days after it. Days are working days when SlaPolicy.calendar counts working days,
  on core.workdays' table; a moment past the table's end is counted Monday to Friday and the card
  says so (`is_estimated`, and its note) — never silently.
- Yellow warns the holder and the level above (the grid's worker for a micro-grid petition,
  street admins in scope above that): inbox and SMS. Red does the same and enters 督办 (the
  petition's supervision flag and its once-only event, as petitions/sweep.py sets it past the
  street deadline); the escalation itself is the sweep's, at each tier's deadline.

The sweep is set-based: it claims the rows whose `card_check_at` has come (an indexed column
set to now whenever a clock starts or moves, and to the next card moment by the sweep; NULL once
no clock runs), computes their moments in Python on one WorkCalendar, and writes everything in
bulk — a constant number of queries whatever the backlog. A card is unique per petition, step,
tier, color and deadline, `yellow_card_at` / `red_card_at` are stamped only where NULL, and every
message carries a dedupe key: two sweeps, or two at once, issue one card.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from core.queries import update_datetimes_by_id
from core.workdays import WorkCalendar
from notifications.messages import Message, choice
from notifications.models import Notification
from notifications.services import Sms, notification_fields, sms_enqueue_many
from petitions import policy
from petitions.models import (
    OPEN_STATES,
    CardRule,
    CardStep,
    Petition,
    PetitionCard,
    PetitionEvent,
    SlaPolicy,
    Tier,
    choice_label,
)
from petitions.notify import petition_link, staff_sms_link

Color = PetitionCard.Color
Unit = CardRule.Unit
Kind = PetitionEvent.Kind

# At most this many rows a run (the oldest looks first): a backlog (a rule changed for a whole
# tier) drains over a few beats, in bounded memory, with the same queries a run.
CLAIM_LIMIT = 5000

# The columns the sweep reads of a claimed row.
ROW_FIELDS = (
    "id", "state", "tier", "size", "category_id", "category__parent_id", "holder_id",
    "area_path", "origin_path", "clock_started_at", "dispatched_at", "arrival_due_at",
    "arrived_at", "microgrid_due_at", "grid_due_at", "street_due_at", "due_at", "supervised",
)


# --- the rules ---------------------------------------------------------------------------------


class Rules:
    """The active card rules, read once per sweep (one query)."""

    def __init__(self, rules: Iterable[CardRule]) -> None:
        self._by_key = {(rule.step, rule.tier, rule.category_id): rule for rule in rules}

    @classmethod
    def load(cls) -> Rules:
        return cls(CardRule.objects.filter(is_active=True))

    def for_clock(self, step: str, tier: str, category_id: int | None,
                  parent_id: int | None) -> CardRule | None:
        for key in [key for key in (category_id, parent_id) if key is not None] + [None]:
            rule = self._by_key.get((step, tier, key))
            if rule is not None:
                return rule
        return None


# --- the moments -------------------------------------------------------------------------------


def subtract_workdays(workdays: WorkCalendar, end: datetime, days: int) -> datetime:
    """`days` working days before `end`, at the same local time of day (add_workdays run
    backwards); an end on a day off counts back from the previous working day's end."""
    local = timezone.localtime(end)
    day = local.date()
    if not workdays.is_workday(day):
        day = workdays.previous_workday(day)
        local = datetime.combine(day, time(23, 59, 59), tzinfo=local.tzinfo)
    for _count in range(days):
        day = workdays.previous_workday(day)
    return datetime.combine(day, local.timetz())


@dataclass(frozen=True)
class Moment:
    at: datetime
    is_estimated: bool


def _shift(deadline: datetime, unit: str, amount: int, *, sign: int, calendar: str,
           workdays: WorkCalendar) -> Moment:
    if unit == Unit.HOURS:
        return Moment(deadline + sign * timedelta(hours=amount), False)
    if calendar != policy.WORKING_DAYS:
        return Moment(deadline + sign * timedelta(days=amount), False)
    moment = (workdays.add_workdays(deadline, amount) if sign > 0
              else subtract_workdays(workdays, deadline, amount))
    first, last = sorted((timezone.localdate(deadline), timezone.localdate(moment)))
    return Moment(moment, not workdays.covers(first, last))


def yellow_moment(rule: CardRule, start: datetime | None, deadline: datetime, *, calendar: str,
                  workdays: WorkCalendar) -> Moment | None:
    """When the clock from `start` to `deadline` shows yellow; None: no yellow for it."""
    if not rule.yellow_before:
        return None
    if rule.yellow_unit == Unit.PERCENT:
        if start is None or start >= deadline:
            return None
        return Moment(deadline - (deadline - start) * (rule.yellow_before / 100), False)
    return _shift(deadline, rule.yellow_unit, rule.yellow_before, sign=-1, calendar=calendar,
                  workdays=workdays)


def red_moment(rule: CardRule, deadline: datetime, *, calendar: str,
               workdays: WorkCalendar) -> Moment:
    """When the clock shows red: `red_after` past its deadline (0: the deadline itself, late
    being past it, as everywhere — policy.is_late)."""
    if not rule.red_after:
        return Moment(deadline, False)
    return _shift(deadline, rule.red_unit, rule.red_after, sign=1, calendar=calendar,
                  workdays=workdays)


# --- the clocks --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    step: str
    tier: str
    start: datetime | None
    deadline: datetime
    # The petition has reached this clock's tier: its cards may be issued (a later tier's clock
    # is only watched, so the next check is armed for it).
    is_current: bool


def _arrival_clocks(row: Mapping[str, Any]) -> list[Clock]:
    if row["arrived_at"] is not None or row["arrival_due_at"] is None:
        return []
    return [Clock(CardStep.ARRIVAL, row["tier"], row["dispatched_at"], row["arrival_due_at"],
                  True)]


def _resolve_clocks(row: Mapping[str, Any]) -> list[Clock]:
    """A tier's resolution deadline for every tier from where the petition started (its size)
    up to the street; the current tier's is `due_at` (an extension moves it)."""
    current = policy.TIER_RANK[row["tier"]]
    first = min(policy.TIER_RANK[policy.initial_tier(row["size"])], current)
    clocks = []
    for tier in policy.TIER_ORDER[first:]:
        rank = policy.TIER_RANK[tier]
        deadline = row["due_at"] if rank == current else row[policy.tier_deadline_field(tier)]
        if deadline is not None:
            clocks.append(Clock(CardStep.RESOLVE, tier, row["clock_started_at"], deadline,
                                rank <= current))
    return clocks


# The clocks of each step, read off a claimed row.
STEP_CLOCKS: dict[str, Callable[[Mapping[str, Any]], list[Clock]]] = {
    CardStep.ARRIVAL: _arrival_clocks,
    CardStep.RESOLVE: _resolve_clocks,
}


@dataclass(frozen=True)
class Due:
    """A card to issue now."""

    petition_id: int
    clock: Clock
    color: str
    moment: Moment


def evaluate(row: Mapping[str, Any], *, rules: Rules, issued: set[tuple[Any, ...]],
             now: datetime, calendar: str,
             workdays: WorkCalendar) -> tuple[list[Due], datetime | None]:
    """The cards due on `row` now (not yet issued), and when to look at it next (None: no clock
    left to watch). A red card due leaves the same clock's yellow unissued: one message."""
    if row["state"] not in OPEN_STATES:
        return [], None
    due: list[Due] = []
    upcoming: list[datetime] = []
    for clocks in STEP_CLOCKS.values():
        for clock in clocks(row):
            rule = rules.for_clock(clock.step, clock.tier, row["category_id"],
                                   row["category__parent_id"])
            if rule is None:
                continue
            red = red_moment(rule, clock.deadline, calendar=calendar, workdays=workdays)
            yellow = yellow_moment(rule, clock.start, clock.deadline, calendar=calendar,
                                   workdays=workdays)
            colors = [(Color.RED, red)]
            if yellow is not None and yellow.at < red.at:
                colors.append((Color.YELLOW, yellow))
            red_shown = False
            for color, moment in colors:
                key = (row["id"], clock.step, clock.tier, color, clock.deadline)
                if key in issued:
                    red_shown = red_shown or color == Color.RED
                elif not clock.is_current:
                    # A later tier's clock: the petition reaches it at the current deadline at
                    # the earliest (an escalation by hand or a triage looks again at once).
                    upcoming.append(max(moment.at, row["due_at"], now + timedelta(minutes=1)))
                elif moment.at > now:
                    upcoming.append(moment.at)
                elif not red_shown:
                    red_shown = color == Color.RED
                    due.append(Due(row["id"], clock, color, moment))
    return due, min(upcoming, default=None)


# --- the sweep ---------------------------------------------------------------------------------


def _messages(card: Due) -> tuple[Message, Message]:
    params = {"id": card.petition_id, "step": choice("petitions.card_step", card.clock.step),
              "tier": choice("petitions.tier", card.clock.tier),
              "due": f"{timezone.localtime(card.clock.deadline):%m-%d %H:%M}"}
    if card.color == Color.YELLOW:
        return (Message(gettext_noop("黄牌：诉求 #%(id)s 的%(tier)s%(step)s时限 %(due)s 将至"),
                        params),
                Message(gettext_noop("%(tier)s%(step)s时限 %(due)s 将至，亮黄牌预警，请尽快办理。"),
                        params))
    return (Message(gettext_noop("红牌：诉求 #%(id)s 超过%(tier)s%(step)s时限，列入督办"),
                    params),
            Message(gettext_noop("超过%(tier)s%(step)s时限 %(due)s，亮红牌，列入督办。"),
                    params))


def _sms(card: Due) -> str:
    values = {"id": card.petition_id, "step": choice_label(CardStep, card.clock.step),
              "tier": choice_label(Tier, card.clock.tier),
              "due": f"{timezone.localtime(card.clock.deadline):%m-%d %H:%M}",
              "link": staff_sms_link(card.petition_id)}
    if card.color == Color.YELLOW:
        return _("【有事您说话】黄牌预警：诉求 #%(id)s 的%(tier)s%(step)s时限为 %(due)s，"
                 "请尽快办理：%(link)s") % values
    return _("【有事您说话】红牌督办：诉求 #%(id)s 超过%(tier)s%(step)s时限 %(due)s，"
             "已列入督办：%(link)s") % values


def _supervisors(cards: list[Due], rows: Mapping[int, Mapping[str, Any]], *,
                 now: datetime) -> dict[int, set[int]]:
    """The level above each carded petition's holder: the grid's worker for a micro-grid
    petition (policy.HOLDER_RULES, in one query), street admins covering it for the grid and
    the street, and for every red card (督办). Two queries whatever the number."""
    microgrid_ids = [card.petition_id for card in cards if card.clock.tier == Tier.MICROGRID]
    grid_holders = dict(
        Petition.objects.filter(pk__in=microgrid_ids)
        .annotate(above=policy.holder_expression(
            Tier.GRID, today=timezone.localdate(now),
            area_path=policy.tier_path_expression(Tier.GRID, "origin_path")))
        .values_list("id", "above")) if microgrid_ids else {}
    admins = _street_admins()
    above: dict[int, set[int]] = {}
    for card in cards:
        row = rows[card.petition_id]
        people = above.setdefault(card.petition_id, set())
        if card.clock.tier == Tier.MICROGRID and grid_holders.get(card.petition_id):
            people.add(int(grid_holders[card.petition_id]))
        if card.clock.tier != Tier.MICROGRID or card.color == Color.RED:
            people.update(admin["id"] for admin in admins if _covers(admin, row))
        people.discard(row["holder_id"])
    return above


def _street_admins() -> list[Mapping[str, Any]]:
    return list(User.objects.filter(is_active=True)
                .filter(Q(role=User.Role.STREET_ADMIN)
                        | (Q(is_superuser=True) & Q(phone__isnull=False) & ~Q(phone="")))
                .values("id", "is_superuser", "scope_area__path").order_by("id"))


def _covers(admin: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    prefix = admin["scope_area__path"]
    if admin["is_superuser"] or prefix is None:
        return True
    return bool(row["area_path"].startswith(prefix) or row["origin_path"].startswith(prefix))


@dataclass(frozen=True)
class CardResult:
    yellow: int
    red: int


def petitions_issue_cards(*, now: datetime) -> CardResult:
    """The beat step: issue every yellow and red card whose moment has come, and arm each
    claimed row's next look. A constant number of queries whatever the backlog."""
    with transaction.atomic():
        rows = {row["id"]: row for row in (
            Petition.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(card_check_at__lte=now).order_by("card_check_at", "id")
            .values(*ROW_FIELDS)[:CLAIM_LIMIT])}
        if not rows:
            return CardResult(0, 0)
        rules = Rules.load()
        calendar = SlaPolicy.current().calendar
        workdays = WorkCalendar()
        issued = set(PetitionCard.objects.filter(petition_id__in=list(rows)).values_list(
            "petition_id", "step", "tier", "color", "deadline"))
        cards: list[Due] = []
        next_check: dict[int, datetime | None] = {}
        for row in rows.values():
            due, next_at = evaluate(row, rules=rules, issued=issued, now=now,
                                    calendar=calendar, workdays=workdays)
            cards.extend(due)
            next_check[row["id"]] = next_at
        _arm_next(next_check)
        if not cards:
            return CardResult(0, 0)
        _issue(cards, rows, now=now)
    yellow = sum(card.color == Color.YELLOW for card in cards)
    return CardResult(yellow=yellow, red=len(cards) - yellow)


def _arm_next(next_check: Mapping[int, datetime | None]) -> None:
    """Each claimed row's next look, in one statement (core.queries.update_datetimes_by_id:
    an UPDATE from two arrays on PostgreSQL, where bulk_update's CASE is quadratic)."""
    update_datetimes_by_id(Petition, "card_check_at", dict(next_check))


def _issue(cards: list[Due], rows: Mapping[int, Mapping[str, Any]], *, now: datetime) -> None:
    PetitionCard.objects.bulk_create([
        PetitionCard(petition_id=card.petition_id, step=card.clock.step, tier=card.clock.tier,
                     color=card.color, deadline=card.clock.deadline,
                     # A clock of a tier the petition has since left: not its new holder's.
                     holder_id=(rows[card.petition_id]["holder_id"]
                                if card.clock.tier == rows[card.petition_id]["tier"] else None),
                     area_path=rows[card.petition_id]["area_path"],
                     is_estimated=card.moment.is_estimated, issued_at=now)
        for card in cards], ignore_conflicts=True)
    yellow_ids = {card.petition_id for card in cards if card.color == Color.YELLOW}
    red_ids = {card.petition_id for card in cards if card.color == Color.RED}
    Petition.objects.filter(pk__in=yellow_ids, yellow_card_at__isnull=True).update(
        yellow_card_at=now)
    Petition.objects.filter(pk__in=red_ids, red_card_at__isnull=True).update(red_card_at=now)
    # 督办, as the sweep's supervision sets it: the flag and its once-only event.
    newly_supervised = [pk for pk in red_ids if not rows[pk]["supervised"]]
    Petition.objects.filter(pk__in=newly_supervised, supervised=False).update(
        supervised=True, supervised_at=now, updated_at=now)
    events = []
    fields = {id(card): notification_fields(title=title, body=body)
              for card in cards for title, body in (_messages(card),)}
    for card in cards:
        note = fields[id(card)]["body"]
        if card.moment.is_estimated:
            note += _("（节假日表未录入该年份，按周一至周五估算）")
        events.append(PetitionEvent(petition_id=card.petition_id, created_at=now, note=note,
                                    kind=Kind.YELLOW_CARD if card.color == Color.YELLOW
                                    else Kind.RED_CARD, is_internal=True))
    events += [PetitionEvent(petition_id=pk, kind=Kind.SUPERVISED, created_at=now,
                             note=_("亮红牌，列入督办。")) for pk in newly_supervised]
    PetitionEvent.objects.bulk_create(events, ignore_conflicts=True)
    _notify(cards, rows, fields, now=now)


def _notify(cards: list[Due], rows: Mapping[int, Mapping[str, Any]],
            fields_by_card: Mapping[int, Mapping[str, Any]], *, now: datetime) -> None:
    above = _supervisors(cards, rows, now=now)
    recipients: dict[int, set[int]] = {}
    for card in cards:
        people = set(above.get(card.petition_id, ()))
        if rows[card.petition_id]["holder_id"]:
            people.add(rows[card.petition_id]["holder_id"])
        recipients[id(card)] = people
    phones: dict[int, str | None] = dict(User.objects.filter(
        pk__in={pk for people in recipients.values() for pk in people}, is_active=True,
    ).exclude(phone="").exclude(phone__isnull=True).values_list("id", "phone"))
    inbox: list[Notification] = []
    texts: list[Sms] = []
    for card in cards:
        fields = fields_by_card[id(card)]
        key = (f"card:{card.petition_id}:{card.clock.step}:{card.clock.tier}:{card.color}:"
               f"{int(card.clock.deadline.timestamp())}")
        for user_id in sorted(recipients[id(card)]):
            inbox.append(Notification(user_id=user_id, **fields,
                                      link=petition_link(card.petition_id, for_staff=True),
                                      dedupe_key=f"{key}:{user_id}"))
            phone = phones.get(user_id)
            if phone:
                texts.append(Sms(phone=phone, body=_sms(card),
                                 dedupe_key=f"{key}:sms:{user_id}"))
    Notification.objects.bulk_create(inbox, ignore_conflicts=True)
    sms_enqueue_many(messages=texts)


def cards_rearm_for_rule(rule: CardRule, *, now: datetime) -> int:
    """A rule was added, changed or removed: the open petitions it may apply to are looked at
    again by the next sweeps (their next look may now come earlier). One UPDATE."""
    petitions = Petition.objects.filter(state__in=OPEN_STATES)
    if rule.category_id is not None:
        petitions = petitions.filter(Q(category_id=rule.category_id)
                                     | Q(category__parent_id=rule.category_id))
    return petitions.update(card_check_at=now)


# --- reads -------------------------------------------------------------------------------------


def card_label(yellow_card_at: datetime | None, red_card_at: datetime | None) -> str:
    """The card a row shows: red over yellow; '' for none (computed in Python: the workbench
    reads the two columns with its rows)."""
    if red_card_at is not None:
        return Color.RED
    if yellow_card_at is not None:
        return Color.YELLOW
    return ""
