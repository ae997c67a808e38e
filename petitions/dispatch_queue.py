"""待分派: accepted petitions nobody holds, placing them by hand, and how well placement works.

A petition waits here when placement at acceptance found no building or micro-grid
(placement = pending, with the reason) or when its area has no worker. A dispatcher (community
staff, street admin) in scope places it on a building or a micro-grid in one action, and it goes
at once to that tier's worker. The 7135 clocks: the resolution deadlines still run from
acceptance (waiting in the queue buys no time); the 7-minute arrival clock starts at dispatch.

Kept apart from petitions/services.py and petitions/selectors.py so the workflow module stays
readable; both are part of the petitions contract (CONTRACT.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ApplicationError, PermissionDeniedError
from core.workflow import transition
from petitions import policy, rules
from petitions.locating import no_holder_reason
from petitions.models import (
    AUTO_PLACEMENTS,
    PETITION_TRANSITIONS,
    Petition,
    PetitionState,
    Placement,
)
from petitions.rules import Viewer
from petitions.selectors import LIST_RELATED, petition_visible_queryset
from petitions.services import Kind, _dispatch_to, _event, _lock, _place, _require
from territory.models import Area, Building

State = PetitionState


def _target(*, petition: Petition, actor: User, building_id: int | None,
            area_id: int | None) -> tuple[Area, Building | None]:
    """The micro-grid (or area) chosen, checked: it exists, it is precise enough for the
    petition's tier, and it lies in the dispatcher's scope."""
    if (building_id is None) == (area_id is None):
        raise ApplicationError(_("请选择一个楼栋或一个网格。"))
    building = None
    if building_id is not None:
        building = (Building.objects.select_related("micro_grid", "compound")
                    .filter(pk=building_id).first())
        if building is None:
            raise ApplicationError(_("楼栋不存在。"))
        origin = building.micro_grid
    else:
        found = Area.objects.filter(pk=area_id).first() if area_id is not None else None
        if found is None:
            raise ApplicationError(_("区域不存在。"))
        origin = found
    if origin.depth < policy.TIER_DEPTH[petition.tier]:
        raise ApplicationError(
            _("请定位到楼栋或微网格（%(tier)s层级的诉求须定位到%(tier)s或更细）。")
            % {"tier": petition.get_tier_display()})
    prefix = rules.visibility_prefix(actor)
    if prefix is None or not origin.path.startswith(prefix):
        raise PermissionDeniedError(_("只能定位到您管辖的区域。"))
    return origin, building


def _place_label(origin: Area, building: Building | None) -> str:
    return str(building) if building is not None else origin.name


def petition_place(*, petition_id: int, actor: User, building_id: int | None = None,
                   area_id: int | None = None, note: str = "") -> Petition:
    """Place a petition from 待分派 on a building or a micro-grid, and dispatch it.

    1. Lock the row; a dispatcher in scope only (404 outside the scope, 403 for other roles).
    2. Only accepted petitions nobody holds (state submitted, no holder) are in the queue.
    3. Move it to the target's area for its current tier (the sweep may have escalated it
       while it waited); the deadlines do not change.
    4. Record how and when (placement = hand) and a 人工定位 event with the old reason.
    5. Dispatch to the tier's worker (the arrival clock starts now); with no worker there it
       stays in 待分派, now with that reason.
    """
    with transaction.atomic():
        petition = _lock(petition_id=petition_id, actor=actor)
        _require(rules.is_dispatcher(actor, petition), _("只有社区或街道的派单人员可以定位。"))
        if not rules.awaits_placement(petition):
            raise ApplicationError(_("只有待分派的诉求可以定位。"))
        origin, building = _target(petition=petition, actor=actor, building_id=building_id,
                                   area_id=area_id)
        now = timezone.now()
        old_reason = petition.placement_reason
        _place(petition, origin, petition.tier)
        petition.origin_path = origin.path
        petition.building = building if building is not None else petition.building
        petition.placement = Placement.HAND
        petition.placed_at = now
        holder_id = policy.tier_holder_id(petition.area, petition.tier)
        petition.placement_reason = "" if holder_id is not None else no_holder_reason(
            petition.area)
        petition.save(update_fields=["tier", "area", "area_path", "due_at", "origin_path",
                                     "building", "placement", "placed_at", "placement_reason",
                                     "updated_at"])
        label = _place_label(origin, building)
        event_note = _("定位到%(place)s。") % {"place": label}
        if old_reason:
            event_note += _("（原因：%(reason)s）") % {"reason": old_reason}
        if note.strip():
            event_note += f" {note.strip()}"
        _event(petition, kind=Kind.PLACED, actor=actor, note=event_note, now=now)
        if holder_id is None:
            return petition
        previous = transition(petition, State.DISPATCHED, table=PETITION_TRANSITIONS, field="state")
        return _dispatch_to(petition, holder_id=holder_id, actor=actor, previous=previous,
                            note=_("人工定位后派单"))


# --- reads -----------------------------------------------------------------------------------


def petition_dispatch_queue(*, user: Viewer) -> QuerySet[Petition]:
    """待分派 in the user's scope: accepted, nobody holds it; the longest waiting first."""
    return (petition_visible_queryset(user=user)
            .filter(state=State.SUBMITTED, holder__isnull=True)
            .select_related(*LIST_RELATED).order_by("submitted_at", "id"))


@dataclass(frozen=True)
class PlacementQuality:
    """How petitions accepted in a period found their place, and how long dispatch took."""

    total: int
    given: int  # the channel named the building, household or area
    automatic: int  # placed from an address, coordinates or a boundary
    by_hand: int  # placed by a dispatcher from 待分派
    pending: int  # still waiting in 待分派 for a place
    by_method: dict[str, int]
    minutes_to_dispatch: dict[str, float | None]  # "automatic", "by_hand", "all"

    @property
    def automatic_share(self) -> float | None:
        """Of the petitions that needed placing (no building given), the share placed alone."""
        needed = self.automatic + self.by_hand + self.pending
        return round(self.automatic / needed, 4) if needed else None


def _minutes(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 60, 1)


def petition_placement_quality(*, user: Viewer, start: datetime,
                               end: datetime) -> PlacementQuality:
    """Placement by method and the average minutes from acceptance to dispatch, for petitions
    accepted in [start, end) in the user's scope. One aggregate query."""
    wait = ExpressionWrapper(F("dispatched_at") - F("submitted_at"), output_field=DurationField())
    dispatched = Q(dispatched_at__isnull=False)
    automatic = Q(placement__in=sorted(AUTO_PLACEMENTS))
    aggregates: dict[str, Any] = {
        method: Count("id", filter=Q(placement=method)) for method in Placement.values}
    aggregates.update(
        total=Count("id"),
        wait_all=Avg(wait, filter=dispatched),
        wait_automatic=Avg(wait, filter=dispatched & automatic),
        wait_by_hand=Avg(wait, filter=dispatched & Q(placement=Placement.HAND)),
    )
    row = (petition_visible_queryset(user=user)
           .filter(submitted_at__gte=start, submitted_at__lt=end).aggregate(**aggregates))
    by_method = {method: row[method] for method in Placement.values}
    return PlacementQuality(
        total=row["total"], given=by_method[Placement.GIVEN],
        automatic=sum(by_method[method] for method in AUTO_PLACEMENTS),
        by_hand=by_method[Placement.HAND], pending=by_method[Placement.PENDING],
        by_method=by_method,
        minutes_to_dispatch={"automatic": _minutes(row["wait_automatic"]),
                             "by_hand": _minutes(row["wait_by_hand"]),
                             "all": _minutes(row["wait_all"])})
