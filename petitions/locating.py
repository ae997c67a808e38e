"""Placement at acceptance: whatever the channel gives becomes a building and so a micro-grid.

The channels, most precise first: a household or a building (the resident's picker, a QR plaque,
Open311 address_id), an area chosen by staff, the resident's own home; then an address string
and/or coordinates (12345, 诉速办, Open311 address_string / lat+long), matched by
territory.locator among the places the caller may reach (its scope). What cannot be placed is
still accepted: it waits in the 待分派 queue of the narrowest area known — the recognised
compound's community, else the caller's scope, else the street — with the reason, until a
dispatcher places it by hand (petitions.dispatch_queue.petition_place).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ApplicationError
from petitions import rules
from petitions.models import Petition, Placement
from petitions.policy import STEP
from residents.models import Household
from territory.locator import Location, Locator
from territory.models import Area, Building

METHOD_PLACEMENT = {"address": Placement.ADDRESS, "coordinates": Placement.COORDINATES,
                    "boundary": Placement.BOUNDARY}


@dataclass(frozen=True)
class Placed:
    origin: Area  # the micro-grid (or the area) where the matter is
    building: Building | None
    placement: str  # a Placement value
    reason: str = ""  # why it waits in 待分派 (PENDING only)
    unit_number: str = ""  # read from an address, for the visit
    room: str = ""


def _given(actor: User | None, *, household: Household | None, building: Building | None,
           area: Area | None) -> Placed | None:
    if household is not None:
        building = household.building
    if building is not None:
        return Placed(origin=building.micro_grid, building=building, placement=Placement.GIVEN)
    if area is not None:
        return Placed(origin=area, building=None, placement=Placement.GIVEN)
    if actor is not None and actor.role == User.Role.RESIDENT:
        home = Household.objects.filter(residents__user=actor).select_related(
            "building__micro_grid").first()
        if home is not None:
            return Placed(origin=home.building.micro_grid, building=home.building,
                          placement=Placement.GIVEN)
    return None


def _scope_prefix(actor: User | None) -> str:
    """Where the caller may place a petition: its scope, or the whole territory."""
    if actor is None or not (actor.is_staff_role or actor.is_superuser
                             or actor.role == User.Role.EXTERNAL_SYSTEM):
        return ""
    return rules.visibility_prefix(actor) or ""


def _fallback_area(actor: User | None, location: Location, prefix: str) -> Area:
    """The queue an unplaced petition waits in: the compound's community, the caller's scope,
    or the street (the first root of the territory tree)."""
    if location.community_id is not None:
        community: Area = Area.objects.get(pk=location.community_id)
        if community.path.startswith(prefix):
            return community
    if actor is not None and prefix and actor.scope_area is not None:
        return actor.scope_area
    street: Area | None = Area.objects.filter(depth=1).order_by("path").first()
    if street is None:
        raise ApplicationError(_("请选择所在楼栋或区域。"))
    return street


def submission_place(*, actor: User | None, household: Household | None,
                     building: Building | None, area: Area | None, location_text: str,
                     latitude: Decimal | None, longitude: Decimal | None) -> Placed:
    """Where a new petition goes (see the module docstring). Never refuses a petition that has
    an address or coordinates, whatever they say."""
    given = _given(actor, household=household, building=building, area=area)
    if given is not None:
        return given
    prefix = _scope_prefix(actor)
    location = Locator.for_scope(prefix).locate(address=location_text, latitude=latitude,
                                                  longitude=longitude)
    if location.building_id is not None:
        found = Building.objects.select_related("micro_grid", "compound").get(
            pk=location.building_id)
        return Placed(origin=found.micro_grid, building=found,
                      placement=METHOD_PLACEMENT[location.method],
                      unit_number=location.unit[:10], room=location.room[:10])
    if location.micro_grid_id is not None:
        return Placed(origin=Area.objects.get(pk=location.micro_grid_id), building=None,
                      placement=METHOD_PLACEMENT[location.method])
    origin = _fallback_area(actor, location, prefix)
    if origin.kind == Area.Kind.MICROGRID:
        # A key or a worker scoped to one micro-grid: the matter can only be there.
        return Placed(origin=origin, building=None, placement=Placement.GIVEN)
    return Placed(origin=origin, building=None, placement=Placement.PENDING,
                  reason=location.reason[:300])


def no_holder_reason(area: Area) -> str:
    return _("%(area)s暂无承办人，请派单。") % {"area": area.name}


def queue_dispatcher_ids(petition: Petition) -> tuple[int, ...]:
    """Who is told that a petition waits in 待分派: the community staff of its community, else
    the street admins (nothing waits without someone whose queue shows it)."""
    path = petition.area_path
    community_path = path[: STEP * 2]
    if len(path) >= len(community_path) == STEP * 2:
        ids = tuple(User.objects.filter(role=User.Role.COMMUNITY_STAFF, is_active=True,
                                        scope_area__path=community_path)
                    .order_by("id").values_list("id", flat=True)[:5])
        if ids:
            return ids
    street_admins = User.objects.filter(role=User.Role.STREET_ADMIN, is_active=True).filter(
        Q(scope_area__path=path[:STEP]) | Q(scope_area__isnull=True))
    return tuple(street_admins.order_by("id").values_list("id", flat=True)[:5])
