"""延期: more time on a resolution clock, asked for and granted (Tianque's 延期申请).

1. The holder asks for N working days (calendar days when SlaPolicy.calendar counts calendar
   days) of the current tier's deadline, with a reason: `petition_request_extension`.
2. The level above (petitions/rules.py `may_decide_extension`, by the tier asked at) grants
   M ≤ N or refuses with a note: `petition_decide_extension`.
3. Only granted days move the clock: the tier's deadline and every later tier's, each by M days
   on the working-day calendar (so escalation keeps its order), the 催办 reminder re-armed on the
   new deadline and the card sweep told to look again (petitions/cards.py). The arrival clock is
   not extended. A refusal moves nothing.
4. Every request and decision is a timeline event everyone sees (the resident too), counted in
   the reports per grid (`extension_counts_by_grid`) and listed on the 公示.

A recount of the deadlines from the holiday table (services.petition_deadlines_recount) applies
the granted days of the round again (`reapply_granted`), so a recount never undoes a grant.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Substr
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ApplicationError, PermissionDeniedError
from core.workdays import WorkCalendar
from core.workflow import transition
from petitions import policy, rules
from petitions.models import (
    EXTENSION_TRANSITIONS,
    OPEN_STATES,
    Petition,
    PetitionCard,
    PetitionEvent,
    PetitionExtension,
    SlaPolicy,
    Tier,
)
from petitions.notify import notify_event
from petitions.rules import Viewer
from territory.models import Area

Status = PetitionExtension.Status
Kind = PetitionEvent.Kind


# --- the clock -------------------------------------------------------------------------------


def shift_deadline(deadline: datetime, days: int, *, calendar: str,
                   workdays: WorkCalendar) -> tuple[datetime, bool]:
    """`deadline` moved on by `days` (working days on a working-day calendar), and whether the
    move ran past the holiday table's end (counted Monday to Friday: the petition says so)."""
    if calendar != policy.WORKING_DAYS:
        return deadline + timedelta(days=days), False
    moved = workdays.add_workdays(deadline, days)
    return moved, not workdays.covers(timezone.localdate(deadline), timezone.localdate(moved))


def _later_tiers(tier: str) -> tuple[str, ...]:
    return policy.TIER_ORDER[policy.TIER_RANK[tier]:]


def reapply_granted(petition: Petition, deadlines: policy.Deadlines, *,
                    workdays: WorkCalendar | None = None) -> policy.Deadlines:
    """`deadlines` recounted from acceptance, with the days granted this round added again."""
    granted = list(PetitionExtension.objects.filter(
        petition=petition, round=petition.reopened_count, status=Status.GRANTED,
    ).order_by("decided_at", "id").values_list("tier", "days_granted"))
    if not granted:
        return deadlines
    workdays = workdays or WorkCalendar()
    calendar = SlaPolicy.current().calendar
    values = {tier: deadlines.for_tier(tier) for tier in policy.TIER_ORDER}
    estimated = deadlines.is_estimated
    for tier, days in granted:
        for later in _later_tiers(tier):
            values[later], past_end = shift_deadline(values[later], days, calendar=calendar,
                                                     workdays=workdays)
            estimated = estimated or past_end
    return dataclasses.replace(deadlines, microgrid_due_at=values[Tier.MICROGRID],
                               grid_due_at=values[Tier.GRID],
                               street_due_at=values[Tier.STREET], is_estimated=estimated)


def _move_clock(petition: Petition, tier: str, days: int) -> None:
    """Move the deadline of `tier` and of every later tier by `days`; re-arm 催办 and cards."""
    sla_policy = SlaPolicy.current()
    workdays = WorkCalendar()
    for later in _later_tiers(tier):
        field = policy.tier_deadline_field(later)
        moved, past_end = shift_deadline(getattr(petition, field), days,
                                         calendar=sla_policy.calendar, workdays=workdays)
        setattr(petition, field, moved)
        petition.deadline_estimated = petition.deadline_estimated or past_end
    petition.due_at = policy.tier_deadline(petition, petition.tier)
    petition.due_remind_at = policy.reminder_at(petition.clock_started_at, petition.due_at,
                                                sla_policy.reminder_share)
    # The yellow card was for the old deadline; the card sweep looks at the new one.
    petition.yellow_card_at = None
    petition.card_check_at = timezone.now()
    petition.save(update_fields=["microgrid_due_at", "grid_due_at", "street_due_at", "due_at",
                                 "deadline_estimated", "due_remind_at", "yellow_card_at",
                                 "card_check_at", "updated_at"])


# --- the services ----------------------------------------------------------------------------


def _deciders(petition: Petition) -> tuple[int, ...]:
    """Who is told of a request: the active staff of the level above (the roles of
    rules.EXTENSION_DECIDER_ROLES for the tier) whose scope covers the petition, a few."""
    roles = rules.EXTENSION_DECIDER_ROLES[petition.tier]
    paths = {petition.area_path[:length] for length in range(4, len(petition.area_path) + 1, 4)}
    paths |= {petition.origin_path[:length]
              for length in range(4, len(petition.origin_path) + 1, 4)}
    people = (User.objects.filter(is_active=True, role__in=roles)
              .filter(Q(scope_area__path__in=paths) | Q(scope_area__isnull=True)))
    if petition.holder_id is not None:
        people = people.exclude(pk=petition.holder_id)
    return tuple(people.order_by("id").values_list("id", flat=True)[:10])


def _event(petition: Petition, *, kind: str, actor: User, note: str, now: datetime,
           extra_user_ids: tuple[int, ...] = ()) -> PetitionEvent:
    event = PetitionEvent.objects.create(petition=petition, kind=kind, actor=actor, note=note,
                                         is_internal=False, created_at=now)
    notify_event(petition=petition, event=event, extra_user_ids=extra_user_ids)
    return event


def petition_request_extension(*, petition_id: int, actor: User, days: int,
                               reason: str) -> PetitionExtension:
    """The holder asks for `days` more (working) days on the current tier's deadline.

    1. The petition, locked, as the actor may see it (404 otherwise); the actor holds it and it
       is open.
    2. 1 ≤ days ≤ MAX_DAYS, and a reason.
    3. No other request of it is pending.
    4. The request row, a timeline event, and the level above told.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("请填写延期理由。"))
    if not 1 <= int(days) <= PetitionExtension.MAX_DAYS:
        raise ApplicationError(_("延期天数须在 1 到 %(max)s 天之间。")
                               % {"max": PetitionExtension.MAX_DAYS})
    with transaction.atomic():
        petition = Petition.objects.select_for_update().filter(pk=petition_id).first()
        if petition is None or not rules.can_view(actor, petition):
            raise Http404(_("诉求不存在。"))
        if not rules.may_request_extension(actor, petition):
            raise PermissionDeniedError(_("只有办理中诉求的承办人可以申请延期。"))
        if PetitionExtension.objects.filter(petition=petition, status=Status.PENDING).exists():
            raise ApplicationError(_("该诉求已有待审批的延期申请。"))
        now = timezone.now()
        extension = PetitionExtension.objects.create(
            petition=petition, tier=petition.tier, round=petition.reopened_count,
            days_requested=int(days), reason=reason[:500], requested_by=actor,
            requested_at=now, due_before=petition.due_at,
            grid_path=policy.tier_path(petition.origin_path, Tier.GRID))
        _event(petition, kind=Kind.EXTENSION_REQUESTED, actor=actor, now=now,
               extra_user_ids=_deciders(petition),
               note=_("申请延期 %(days)s 天：%(reason)s") % {"days": days, "reason": reason})
        return extension


def petition_decide_extension(*, extension_id: int, actor: User, grant: bool, days: int = 0,
                              note: str = "") -> PetitionExtension:
    """The level above grants `days` (1 ≤ days ≤ asked) or refuses (a note required).

    A grant needs the clock it was asked for: the petition still open, at the same tier, in the
    same round. Otherwise only a refusal is possible (the request has lapsed).
    """
    note = (note or "").strip()
    with transaction.atomic():
        extension = (PetitionExtension.objects.select_for_update().filter(pk=extension_id)
                     .first())
        if extension is None:
            raise Http404(_("延期申请不存在。"))
        petition = Petition.objects.select_for_update().get(pk=extension.petition_id)
        if not rules.can_view(actor, petition):
            raise Http404(_("延期申请不存在。"))
        if actor.pk == extension.requested_by_id:
            raise PermissionDeniedError(_("不能审批自己提出的延期申请。"))
        if not rules.may_decide_extension(actor, petition, extension.tier,
                                          extension.requested_by_id):
            raise PermissionDeniedError(_("只有上一级的工作人员可以审批延期申请。"))
        target = Status.GRANTED if grant else Status.REFUSED
        if grant:
            if not 1 <= int(days) <= extension.days_requested:
                raise ApplicationError(_("批准天数须在 1 到申请的 %(max)s 天之间。")
                                       % {"max": extension.days_requested})
            if (petition.state not in OPEN_STATES or petition.tier != extension.tier
                    or petition.reopened_count != extension.round):
                raise ApplicationError(_("诉求已办结、升级或重办，该延期申请已失效，只能驳回。"))
        elif not note:
            raise ApplicationError(_("驳回延期申请须填写理由。"))
        transition(extension, target, table=EXTENSION_TRANSITIONS)
        now = timezone.now()
        extension.decided_by, extension.decided_at, extension.decision_note = actor, now, note[:500]
        if grant:
            extension.days_granted = int(days)
            _move_clock(petition, extension.tier, int(days))
            extension.due_after = petition.due_at
        extension.save(update_fields=["status", "decided_by", "decided_at", "decision_note",
                                      "days_granted", "due_after"])
        if grant:
            text = _("批准延期 %(days)s 天（申请 %(asked)s 天），时限延至 %(due)s") % {
                "days": days, "asked": extension.days_requested,
                "due": f"{timezone.localtime(petition.due_at):%Y-%m-%d %H:%M}"}
        else:
            text = _("驳回延期申请（申请 %(asked)s 天）") % {"asked": extension.days_requested}
        _event(petition, kind=Kind.EXTENSION_GRANTED if grant else Kind.EXTENSION_REFUSED,
               actor=actor, now=now, note=f"{text}：{note}" if note else text,
               extra_user_ids=tuple(pk for pk in (extension.requested_by_id,)
                                    if pk and pk != petition.holder_id))
        return extension


# --- reads -----------------------------------------------------------------------------------


def extension_pending_list(*, user: Viewer) -> QuerySet[PetitionExtension]:
    """The queue: pending requests for petitions the user covers, oldest first (the page keeps
    those the user may decide)."""
    return (PetitionExtension.objects.filter(rules.covers_petition_q(user, "petition"),
                                             status=Status.PENDING)
            .select_related("petition__category", "petition__area", "requested_by")
            .order_by("requested_at", "id"))


def extension_pending_for_petition(*, petition_id: int) -> PetitionExtension | None:
    return PetitionExtension.objects.filter(petition_id=petition_id,
                                            status=Status.PENDING).first()


def extension_for_petition(*, petition_id: int) -> list[PetitionExtension]:
    """A petition's requests, newest first: its staff page shows them."""
    return list(PetitionExtension.objects.filter(petition_id=petition_id)
                .select_related("requested_by", "decided_by"))


def extension_granted_by_petition(
        *, petitions: list[tuple[int, int]]) -> dict[int, tuple[int, int]]:
    """{petition id: (granted requests, days)} for (id, round) pairs: the round's grants, in
    one query (the 公示 shows them)."""
    rounds = dict(petitions)
    if not rounds:
        return {}
    granted: dict[int, tuple[int, int]] = {}
    for petition_id, round_, days in PetitionExtension.objects.filter(
            petition_id__in=list(rounds), status=Status.GRANTED).values_list(
            "petition_id", "round", "days_granted"):
        if round_ == rounds[petition_id]:
            count, total = granted.get(petition_id, (0, 0))
            granted[petition_id] = (count + 1, total + days)
    return granted


def extension_counts_by_grid(extensions: QuerySet[PetitionExtension]) -> dict[str, dict[str, int]]:
    """{grid path: {requested, granted, refused, pending, days}} in one grouped query."""
    rows = (extensions.order_by().values("grid_path").annotate(
        requested=Count("id"), granted=Count("id", filter=Q(status=Status.GRANTED)),
        refused=Count("id", filter=Q(status=Status.REFUSED)),
        pending=Count("id", filter=Q(status=Status.PENDING)),
        days=Sum("days_granted")))
    return {row["grid_path"]: {"requested": row["requested"], "granted": row["granted"],
                               "refused": row["refused"], "pending": row["pending"],
                               "days": row["days"] or 0} for row in rows}


def grid_clock_rows(*, area_path: str, since: datetime,
                    until: datetime) -> list[dict[str, Any]]:
    """Per grid of the area (its petitions' origin cut to the grid): the 延期 requested in
    [since, until) and how they were decided, and the 黄牌/红牌 issued then. Three queries: the
    extensions, the cards, the grids' names. The street's report prints them."""
    grid_length = policy.STEP * policy.TIER_DEPTH[Tier.GRID]
    requested = PetitionExtension.objects.filter(
        grid_path__startswith=area_path, requested_at__gte=since, requested_at__lt=until)
    rows: dict[str, dict[str, Any]] = {}
    for path, counts in extension_counts_by_grid(requested).items():
        rows.setdefault(path, _empty_grid_row(path)).update(counts)
    for card_row in (PetitionCard.objects.filter(petition__origin_path__startswith=area_path,
                                            issued_at__gte=since, issued_at__lt=until)
                .annotate(grid=Substr("petition__origin_path", 1, grid_length))
                .values("grid").annotate(
                    yellow=Count("id", filter=Q(color=PetitionCard.Color.YELLOW)),
                    red=Count("id", filter=Q(color=PetitionCard.Color.RED))).order_by()):
        rows.setdefault(card_row["grid"], _empty_grid_row(card_row["grid"])).update(
            yellow=card_row["yellow"], red=card_row["red"])
    names = dict(Area.objects.filter(path__in=list(rows)).values_list("path", "name"))
    for path, row in rows.items():
        row["name"] = names.get(path, path)
    return sorted(rows.values(), key=lambda row: row["path"])


def _empty_grid_row(path: str) -> dict[str, Any]:
    return {"path": path, "name": path, "requested": 0, "granted": 0, "refused": 0,
            "pending": 0, "days": 0, "yellow": 0, "red": 0}

