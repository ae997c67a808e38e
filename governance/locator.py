"""Where is this? An address string and/or coordinates → a building or a micro-grid.

The rules, in order (the first that answers wins):
1. The address names a compound and a building (governance.addresses): that building.
2. The point lies inside a micro-grid's boundary: the nearest building of that micro-grid within
   the radius, else the micro-grid itself (the boundary drawn by the street is authoritative,
   so a building just across the line does not pull the point out of its micro-grid).
3. The point is within the radius of a building: the nearest one.
4. Otherwise nothing is placed; the answer says why, and names the compound (by address, or by
   a compound centre within the compound radius) when one was recognised, so the request waits
   in that compound's community queue rather than the street's.

Everything is loaded once per Locator (four queries) and matched in Python; the benchmark
(bench/placement.py) builds one Locator and places 10,000 addresses and points with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Prefetch, Q
from django.utils.translation import gettext as _

from governance.addresses import AddressBook, AddressMatch
from governance.geo import Boundary, PointIndex, boundary_parse, haversine_metres
from governance.models import Area, Building, Compound, CompoundAlias

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


class Locator:
    """The buildings, compounds and micro-grid boundaries under one territory path."""

    def __init__(self, *, path_prefix: str = "", radius_metres: float | None = None,
                 compound_radius_metres: float | None = None) -> None:
        self.radius = float(radius_metres if radius_metres is not None
                            else settings.PLACEMENT_RADIUS_METRES)
        self.compound_radius = float(compound_radius_metres if compound_radius_metres is not None
                                     else settings.PLACEMENT_COMPOUND_RADIUS_METRES)
        self._load_compounds(path_prefix)
        self._load_buildings(path_prefix)
        self._load_boundaries(path_prefix)

    def _load_compounds(self, path_prefix: str) -> None:
        # A grid or micro-grid scope holds part of a compound: its buildings bring the compound in.
        in_scope = Q(community__path__startswith=path_prefix) | Q(pk__in=Building.objects.filter(
            micro_grid__path__startswith=path_prefix).values("compound_id"))
        compounds = list(
            Compound.objects.filter(in_scope)
            .only("id", "name", "community_id", "latitude", "longitude")
            .prefetch_related(Prefetch("aliases", queryset=CompoundAlias.objects.only(
                "compound_id", "alias"))))
        self.compound_community = {compound.pk: compound.community_id for compound in compounds}
        self.compound_names = {compound.pk: compound.name for compound in compounds}
        self.compound_centres = [
            (compound.pk, float(compound.latitude), float(compound.longitude))
            for compound in compounds
            if compound.latitude is not None and compound.longitude is not None]
        self._compound_rows = [(compound.pk, compound.name,
                                [alias.alias for alias in compound.aliases.all()])
                               for compound in compounds]

    def _load_buildings(self, path_prefix: str) -> None:
        rows = list(Building.objects.filter(micro_grid__path__startswith=path_prefix)
                    .values_list("id", "compound_id", "number", "micro_grid_id", "latitude",
                                 "longitude"))
        self.book = AddressBook(compounds=self._compound_rows,
                                buildings=[(pk, compound, number)
                                           for pk, compound, number, *_rest in rows])
        self.building_micro_grid = {pk: micro_grid for pk, _c, _n, micro_grid, _a, _o in rows}
        by_micro_grid: dict[int, set[int]] = {}
        for pk, micro_grid in self.building_micro_grid.items():
            by_micro_grid.setdefault(micro_grid, set()).add(pk)
        self.micro_grid_buildings = {micro_grid: frozenset(ids)
                                     for micro_grid, ids in by_micro_grid.items()}
        points = [(pk, float(lat), float(lng)) for pk, _c, _n, _m, lat, lng in rows
                  if lat is not None and lng is not None]
        self.buildings = PointIndex(points, cell_metres=max(self.radius, 1.0))

    def _load_boundaries(self, path_prefix: str) -> None:
        self.boundaries: list[tuple[int, Boundary]] = []
        rows = (Area.objects.filter(kind=Area.Kind.MICROGRID, path__startswith=path_prefix,
                                    boundary__isnull=False)
                .order_by("path").values_list("id", "boundary"))
        for area_id, geojson in rows:
            # A boundary saved around the admin's check (a data migration, the shell) is skipped,
            # never a 500 for the petition that happens to need it.
            try:
                self.boundaries.append((area_id, boundary_parse(geojson)))
            except Exception:  # noqa: S112
                continue

    # --- the rules ---------------------------------------------------------------------------

    def locate(self, *, address: str = "", latitude: Decimal | float | None = None,
               longitude: Decimal | float | None = None) -> Location:
        """Rules 1–4 of the module docstring."""
        by_address = self.book.match(address) if address.strip() else None
        if by_address is not None and by_address.building_id is not None:
            return self._at_building(by_address.building_id, BY_ADDRESS, by_address)
        lat, lng = _float(latitude), _float(longitude)
        reasons = [by_address.reason] if by_address is not None else []
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
