"""Plain-Python geometry for placement: distances and micro-grid boundaries (no GEOS needed).

Coordinates are degrees in whatever datum the channels send (the 12345 hotline and the map
widgets in China send GCJ-02); buildings and boundaries must be entered in that same datum, since
the ~500 m shift between WGS-84 and GCJ-02 is larger than a compound.
Boundaries are GeoJSON (RFC 7946): a Polygon or MultiPolygon, positions as [longitude, latitude],
rings closed, holes after the outer ring. At the scale of a street the earth is flat enough for
ray casting in degrees; distances use the haversine formula.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

EARTH_RADIUS_METRES = 6_371_008.8
METRES_PER_DEGREE_LATITUDE = 111_320.0

Ring = tuple[tuple[float, float], ...]  # (longitude, latitude) positions, closed


def haversine_metres(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """The great-circle distance between two points, in metres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lng2 - lng1) / 2
    chord = (math.sin(half_dphi) ** 2
             + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2)
    return 2 * EARTH_RADIUS_METRES * math.asin(min(1.0, math.sqrt(chord)))


def _ring_contains(ring: Ring, lng: float, lat: float) -> bool:
    """Ray casting (even-odd rule) towards +longitude."""
    inside = False
    previous_lng, previous_lat = ring[-1]
    for current_lng, current_lat in ring:
        if (current_lat > lat) != (previous_lat > lat):
            crossing = (previous_lng - current_lng) * (lat - current_lat) / (
                previous_lat - current_lat) + current_lng
            if lng < crossing:
                inside = not inside
        previous_lng, previous_lat = current_lng, current_lat
    return inside


@dataclass(frozen=True)
class Boundary:
    """A checked GeoJSON (Multi)Polygon, ready for point-in-polygon tests."""

    polygons: tuple[tuple[Ring, ...], ...]  # each: the outer ring, then its holes
    min_lng: float
    min_lat: float
    max_lng: float
    max_lat: float

    def contains(self, lat: float, lng: float) -> bool:
        if not (self.min_lat <= lat <= self.max_lat and self.min_lng <= lng <= self.max_lng):
            return False
        for outer, *holes in self.polygons:
            if _ring_contains(outer, lng, lat) and not any(
                    _ring_contains(hole, lng, lat) for hole in holes):
                return True
        return False


def _position(value: Any) -> tuple[float, float]:
    if (not isinstance(value, list | tuple) or len(value) < 2
            or not all(isinstance(number, int | float) and not isinstance(number, bool)
                       for number in value[:2])):
        raise ValidationError(_("边界坐标须为 [经度, 纬度] 数字对。"))
    lng, lat = float(value[0]), float(value[1])
    if not (-180 <= lng <= 180 and -90 <= lat <= 90):
        raise ValidationError(_("边界坐标超出经纬度范围（注意 GeoJSON 先经度后纬度）。"))
    return lng, lat


def _ring(value: Any) -> Ring:
    if not isinstance(value, list | tuple):
        raise ValidationError(_("边界的每个环须为坐标列表。"))
    ring = tuple(_position(position) for position in value)
    if len(ring) < 4 or ring[0] != ring[-1]:
        raise ValidationError(_("边界的每个环至少 4 个点，且首尾相同（闭合）。"))
    return ring


def _polygon(value: Any) -> tuple[Ring, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise ValidationError(_("多边形须包含至少一个环。"))
    return tuple(_ring(ring) for ring in value)


def boundary_parse(value: Any) -> Boundary:
    """A GeoJSON Polygon / MultiPolygon (or a Feature holding one) → Boundary.

    Raises ValidationError (Chinese) for anything else, so the admin shows what is wrong.
    """
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    if not isinstance(value, dict) or value.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValidationError(_("边界须为 GeoJSON 的 Polygon 或 MultiPolygon。"))
    coordinates = value.get("coordinates")
    if value["type"] == "Polygon":
        polygons: tuple[tuple[Ring, ...], ...] = (_polygon(coordinates),)
    else:
        if not isinstance(coordinates, list | tuple) or not coordinates:
            raise ValidationError(_("MultiPolygon 须包含至少一个多边形。"))
        polygons = tuple(_polygon(polygon) for polygon in coordinates)
    outer_points = [point for polygon in polygons for point in polygon[0]]
    return Boundary(polygons=polygons,
                    min_lng=min(lng for lng, _lat in outer_points),
                    min_lat=min(lat for _lng, lat in outer_points),
                    max_lng=max(lng for lng, _lat in outer_points),
                    max_lat=max(lat for _lng, lat in outer_points))


def rectangle(*, south: float, west: float, north: float, east: float) -> dict[str, Any]:
    """A GeoJSON Polygon for a lat/lng box (the demo's micro-grids, tests)."""
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def offset(lat: float, lng: float, *, north_metres: float,
           east_metres: float) -> tuple[float, float]:
    """The point that many metres north and east of (lat, lng)."""
    metres_per_degree_longitude = METRES_PER_DEGREE_LATITUDE * math.cos(math.radians(lat))
    return (lat + north_metres / METRES_PER_DEGREE_LATITUDE,
            lng + east_metres / metres_per_degree_longitude)


class PointIndex:
    """Points bucketed in cells about `cell_metres` wide: the nearest point within a radius
    looks at the 3×3 cells around the query instead of every building of the street."""

    def __init__(self, points: Sequence[tuple[int, float, float]], *, cell_metres: float) -> None:
        self.cell_lat = cell_metres / METRES_PER_DEGREE_LATITUDE
        # Longitude degrees shrink towards the poles; size the cells for the points' latitude.
        mean_lat = sum(lat for _key, lat, _lng in points) / len(points) if points else 0.0
        self.cell_lng = cell_metres / (METRES_PER_DEGREE_LATITUDE
                                       * max(0.1, math.cos(math.radians(mean_lat))))
        self.cell_metres = cell_metres
        self.cells: dict[tuple[int, int], list[tuple[int, float, float]]] = {}
        for key, lat, lng in points:
            self.cells.setdefault(self._cell(lat, lng), []).append((key, lat, lng))

    def _cell(self, lat: float, lng: float) -> tuple[int, int]:
        return math.floor(lat / self.cell_lat), math.floor(lng / self.cell_lng)

    def nearest(self, lat: float, lng: float, *, within_metres: float,
                keys: frozenset[int] | None = None) -> tuple[int, float] | None:
        """(key, metres) of the nearest point no farther than `within_metres` (≤ cell size)."""
        row, column = self._cell(lat, lng)
        best: tuple[int, float] | None = None
        for cell_row in (row - 1, row, row + 1):
            for cell_column in (column - 1, column, column + 1):
                for key, point_lat, point_lng in self.cells.get((cell_row, cell_column), ()):
                    if keys is not None and key not in keys:
                        continue
                    distance = haversine_metres(lat, lng, point_lat, point_lng)
                    if distance <= within_metres and (best is None or distance < best[1]):
                        best = (key, distance)
        return best
