"""Where is this? An address string and/or coordinates → a building or a micro-grid.

The rules, in order (the first that answers wins):
1. The address names a compound and a building (territory.addresses): that building.
2. The point lies inside a micro-grid's boundary: the nearest building of that micro-grid within
   the radius, else the micro-grid itself (the boundary drawn by the street is authoritative,
   so a building just across the line does not pull the point out of its micro-grid).
3. The point is within the radius of a building: the nearest one.
4. Otherwise nothing is placed; the answer says why, and names the compound (by address, or by
   a compound centre within the compound radius) when one was recognised, so the request waits
   in that compound's community queue rather than the street's.

`Locator.for_scope(path)` loads everything once (four queries) and matches in Python; the
benchmark (bench/placement.py) builds one Locator from rows and places 10,000 addresses and
10,000 points with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.utils.translation import gettext as _

from territory.addresses import AddressBook, AddressMatch
from territory.geo import Boundary, PointIndex, boundary_parse, haversine_metres
from territory.models import Area, Building, Compound, CompoundAlias

BY_ADDRESS = "address"
BY_COORDINATES = "coordinates"
BY_BOUNDARY = "boundary"


@dataclass(frozen=True)
class Location:
    building_id: int | None = None
    micro_grid_id: int | None = None  # the building's, or the boundary's
    community_id: int | None = None  # the recognised compound's, when nothing finer was found
    method: str = ""  # BY_ADDRESS / BY_COORDINATES / BY_BOUNDARY; "" when not placed
    unit: str = ""
    room: str = ""
    reason: str = ""  # why not placed (Chinese)

    @property
    def is_placed(self) -> bool:
        return self.micro_grid_id is not None


def _float(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


# (id, name, aliases, community id, latitude, longitude)
CompoundRow = tuple[int, str, Sequence[str], int, Any, Any]
# (id, compound id, number, micro-grid id, latitude, longitude)
BuildingRow = tuple[int, int, str, int, Any, Any]


class Locator:
    """The buildings, compounds and micro-grid boundaries one placement may choose from."""

    def __init__(self, *, compounds: Iterable[CompoundRow], buildings: Iterable[BuildingRow],
                 boundaries: Iterable[tuple[int, Any]], radius_metres: float | None = None,
                 compound_radius_metres: float | None = None) -> None:
        """boundaries: (micro-grid id, GeoJSON). Radii default to the settings."""
        self.radius = float(radius_metres if radius_metres is not None
                            else settings.PLACEMENT_RADIUS_METRES)
        self.compound_radius = float(compound_radius_metres if compound_radius_metres is not None
                                     else settings.PLACEMENT_COMPOUND_RADIUS_METRES)
        compounds, buildings = list(compounds), list(buildings)
        self.compound_community = {row[0]: row[3] for row in compounds}
        self.compound_centres = [(row[0], float(row[4]), float(row[5])) for row in compounds
                                 if row[4] is not None and row[5] is not None]
        self.book = AddressBook(compounds=[(pk, name, aliases)
                                           for pk, name, aliases, *_rest in compounds],
                                buildings=[(pk, compound, number)
                                           for pk, compound, number, *_rest in buildings])
        self.building_micro_grid = {row[0]: row[3] for row in buildings}
        by_micro_grid: dict[int, set[int]] = {}
        for pk, micro_grid in self.building_micro_grid.items():
            by_micro_grid.setdefault(micro_grid, set()).add(pk)
        self.micro_grid_buildings = {micro_grid: frozenset(ids)
                                     for micro_grid, ids in by_micro_grid.items()}
        points = [(pk, float(lat), float(lng)) for pk, _c, _n, _m, lat, lng in buildings
                  if lat is not None and lng is not None]
        self.buildings = PointIndex(points, cell_metres=max(self.radius, 1.0))
        self.boundaries: list[tuple[int, Boundary]] = []
        for area_id, geojson in boundaries:
            # A boundary saved around the admin's check (a data migration, the shell) is skipped,
            # never a 500 for the petition that happens to need it.
            try:
                self.boundaries.append((area_id, boundary_parse(geojson)))
            except ValidationError:
                continue

    @classmethod
    def for_scope(cls, path_prefix: str = "", **radii: float) -> Locator:
        """Everything under one territory path ("" for all), in four queries."""
        # A grid or micro-grid scope holds part of a compound: its buildings bring it in.
        in_scope = Q(community__path__startswith=path_prefix) | Q(pk__in=Building.objects.filter(
            micro_grid__path__startswith=path_prefix).values("compound_id"))
        compounds = (Compound.objects.filter(in_scope)
                     .only("id", "name", "community_id", "latitude", "longitude")
                     .prefetch_related(Prefetch("aliases", queryset=CompoundAlias.objects.only(
                         "compound_id", "alias"))))
        buildings = (Building.objects.filter(micro_grid__path__startswith=path_prefix)
                     .values_list("id", "compound_id", "number", "micro_grid_id", "latitude",
                                  "longitude"))
        boundaries = (Area.objects.filter(kind=Area.Kind.MICROGRID, boundary__isnull=False,
                                          path__startswith=path_prefix)
                      .order_by("path").values_list("id", "boundary"))
        return cls(compounds=[(compound.pk, compound.name,
                               [alias.alias for alias in compound.aliases.all()],
                               compound.community_id, compound.latitude, compound.longitude)
                              for compound in compounds],
                   buildings=list(buildings), boundaries=list(boundaries), **radii)

    # --- the rules ---------------------------------------------------------------------------

    def locate(self, *, address: str = "", latitude: Decimal | float | None = None,
               longitude: Decimal | float | None = None) -> Location:
        """Rules 1–4 of the module docstring."""
        by_address = self.book.match(address) if address.strip() else None
        if by_address is not None and by_address.building_id is not None:
            return self._at_building(by_address.building_id, BY_ADDRESS, by_address)
        lat, lng = _float(latitude), _float(longitude)
        has_point = lat is not None and lng is not None
        # Free text beside coordinates ("东门外", Open311's "坐标 …" label) is not an address
        # that failed: only an address that named something explains the wait.
        reasons = [by_address.reason] if by_address is not None and (
            by_address.is_recognised or not has_point) else []
        if lat is not None and lng is not None:
            by_point = self.locate_point(lat, lng, address_match=by_address)
            if by_point.is_placed:
                return by_point
            reasons.append(by_point.reason)
        compound_id = by_address.compound_id if by_address is not None else None
        if compound_id is None and lat is not None and lng is not None:
            compound_id = self._compound_near(lat, lng)
        return Location(community_id=self.compound_community.get(compound_id or 0),
                        unit=by_address.unit if by_address else "",
                        room=by_address.room if by_address else "",
                        reason=" ".join(reasons) or _("未提供可识别的地址或坐标。"))

    def locate_point(self, lat: float, lng: float, *,
                     address_match: AddressMatch | None = None) -> Location:
        inside = next((area_id for area_id, boundary in self.boundaries
                       if boundary.contains(lat, lng)), None)
        if inside is not None:
            near = self.buildings.nearest(lat, lng, within_metres=self.radius,
                                          keys=self.micro_grid_buildings.get(inside, frozenset()))
            if near is not None:
                return self._at_building(near[0], BY_COORDINATES, address_match)
            return Location(micro_grid_id=inside, method=BY_BOUNDARY)
        near = self.buildings.nearest(lat, lng, within_metres=self.radius)
        if near is not None:
            return self._at_building(near[0], BY_COORDINATES, address_match)
        return Location(reason=_("坐标 %(radius)s 米内没有楼栋，也不在任何微网格边界内。")
                        % {"radius": f"{self.radius:g}"})

    def _at_building(self, building_id: int, method: str,
                     address_match: AddressMatch | None) -> Location:
        return Location(building_id=building_id,
                        micro_grid_id=self.building_micro_grid[building_id], method=method,
                        unit=address_match.unit if address_match else "",
                        room=address_match.room if address_match else "")

    def _compound_near(self, lat: float, lng: float) -> int | None:
        best: tuple[float, int] | None = None
        for compound_id, centre_lat, centre_lng in self.compound_centres:
            distance = haversine_metres(lat, lng, centre_lat, centre_lng)
            if distance <= self.compound_radius and (best is None or distance < best[0]):
                best = (distance, compound_id)
        return best[1] if best is not None else None
