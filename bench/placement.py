"""Placement benchmark: 10,000 address strings and 10,000 coordinates against 150 buildings.

    .venv/bin/python bench/placement.py [--addresses 10000] [--points 10000] [--seed 7]
                                        [--radius 150]

A street of 10 compounds (15 buildings each, 5 rows × 3, 100 × 130 m apart; 50 micro-grids, one
per row, each with a rectangle boundary; every compound with an old name and a door number as
aliases) is built in memory — no database: territory.locator.Locator is built from rows, as
`Locator.for_scope` builds it from its four queries. Then:
1. addresses in 13 spellings (the 10 that name a compound: 7号楼1单元101, 7栋 1单元 101室,
   七号楼一单元101, 7-1-101, 富春江路88号X7#楼, full-width digits, the old name, a province/city/
   district/street prefix, 第7幢1-101, X（door number）7栋; and 3 that must not be placed:
   a bare 7幢1-101 every compound has, an unknown compound, a building number that does not
   exist), each with its expected building (or none);
2. points: 70 % within 30 m of a building (GPS noise), 15 % anywhere inside a micro-grid's
   boundary, 15 % kilometres away;
and prints, for each, the CPU time a call, calls a second, and how many were placed right, placed
wrong and left for 待分派.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

from territory.geo import offset, rectangle  # noqa: E402
from territory.locator import BuildingRow, CompoundRow, Locator  # noqa: E402

STREET_CENTRE = (35.9676, 120.1865)
COMPOUNDS = ("长江瑞城", "富春江花园", "海韵嘉园", "金沙滩小区", "珠江苑", "嘉陵江家园",
             "黄河新村", "淮河公寓", "昆仑山庄", "泰山御景")
ROADS = ("富春江路", "长江中路", "嘉陵江路", "珠江路", "井冈山路")
CN = "零一二三四五六七八九"
ROWS, COLUMNS = 5, 3
ROW_METRES, COLUMN_METRES = 100.0, 130.0


def chinese(number: int) -> str:
    if number < 10:
        return CN[number]
    tens, ones = divmod(number, 10)
    return ("" if tens == 1 else CN[tens]) + "十" + (CN[ones] if ones else "")


def full_width(text: str) -> str:
    return "".join(chr(ord(char) + 0xFEE0) if char.isdigit() else char for char in text)


class Street:
    """The bench territory as rows, with the truth kept for scoring."""

    def __init__(self) -> None:
        self.compounds: list[CompoundRow] = []
        self.buildings: list[BuildingRow] = []
        self.boundaries: list[tuple[int, dict[str, object]]] = []
        self.doors: dict[int, str] = {}
        self.old_names: dict[int, str] = {}
        self.building_id: dict[tuple[int, int], int] = {}  # (compound, number) → id
        self.micro_of_building: dict[int, int] = {}
        self.points: dict[int, tuple[float, float]] = {}
        self.boxes: dict[int, tuple[float, float, float, float]] = {}  # micro → s, w, n, e
        for index, name in enumerate(COMPOUNDS):
            self._compound(index, name)

    def _compound(self, index: int, name: str) -> None:
        compound_id = index + 1
        row, column = divmod(index, 5)
        centre = offset(*STREET_CENTRE, north_metres=(row - 0.5) * 800,
                        east_metres=(column - 2) * 800)
        self.doors[compound_id] = f"{ROADS[index % len(ROADS)]}{88 + index * 2}号"
        self.old_names[compound_id] = f"{name[:2]}旧居{index}"
        self.compounds.append((compound_id, name, [self.doors[compound_id],
                                                   self.old_names[compound_id]],
                               100 + compound_id, centre[0], centre[1]))
        for building_row in range(ROWS):
            micro_id = compound_id * 10 + building_row
            north = (building_row - (ROWS - 1) / 2) * ROW_METRES
            south_lat, west_lng = offset(*centre, north_metres=north - ROW_METRES / 2,
                                         east_metres=-1.5 * COLUMN_METRES)
            north_lat, east_lng = offset(*centre, north_metres=north + ROW_METRES / 2,
                                         east_metres=1.5 * COLUMN_METRES)
            self.boxes[micro_id] = (south_lat, west_lng, north_lat, east_lng)
            self.boundaries.append((micro_id, rectangle(south=south_lat, west=west_lng,
                                                        north=north_lat, east=east_lng)))
            for building_column in range(COLUMNS):
                number = building_row * COLUMNS + building_column + 1
                building_id = compound_id * 100 + number
                lat, lng = offset(*centre, north_metres=north,
                                  east_metres=(building_column - 1) * COLUMN_METRES)
                self.buildings.append((building_id, compound_id, str(number), micro_id, lat, lng))
                self.building_id[(compound_id, number)] = building_id
                self.micro_of_building[building_id] = micro_id
                self.points[building_id] = (lat, lng)


Spelling = Callable[[str, str, str, int, int, str], str]
SPELLINGS: dict[str, Spelling] = {
    "X7号楼1单元101": lambda c, d, o, b, u, r: f"{c}{b}号楼{u}单元{r}",
    "X 7栋 1单元 101室": lambda c, d, o, b, u, r: f"{c} {b}栋 {u}单元 {r}室",
    "X七号楼一单元101": lambda c, d, o, b, u, r: f"{c}{chinese(b)}号楼{chinese(u)}单元{r}",
    "X7-1-101": lambda c, d, o, b, u, r: f"{c}{b}-{u}-{r}",
    "door X7#楼": lambda c, d, o, b, u, r: f"{d}{c}{b}#楼",
    "full-width": lambda c, d, o, b, u, r: full_width(f"{c}{b}号楼{u}单元{r}"),
    "old name": lambda c, d, o, b, u, r: f"{o}{b}号楼{u}单元{r}",
    "province…street prefix": lambda c, d, o, b, u, r: (
        f"山东省青岛市黄岛区长江路街道{c}{b}幢{u}单元{r}"),
    "X第7幢1-101": lambda c, d, o, b, u, r: f"{c}第{b}幢{u}-{r}",
    "X（door）7栋": lambda c, d, o, b, u, r: f"{c}（{d}）{b}栋",
}


def addresses(street: Street, count: int,
              rng: random.Random) -> list[tuple[str, str, int | None]]:
    """(spelling, text, expected building id or None)."""
    rows = []
    for _index in range(count):
        compound_id = rng.randrange(len(COMPOUNDS)) + 1
        name = COMPOUNDS[compound_id - 1]
        number, unit = rng.randint(1, ROWS * COLUMNS), rng.randint(1, 2)
        room = f"{rng.randint(1, 20)}{rng.randint(1, 2):02d}"
        kind = rng.random()
        if kind < 0.9:
            label = rng.choice(list(SPELLINGS))
            text = SPELLINGS[label](name, street.doors[compound_id],
                                    street.old_names[compound_id], number, unit, room)
            rows.append((label, text, street.building_id[(compound_id, number)]))
        elif kind < 0.94:  # every compound has this number
            rows.append(("no compound: 7幢1-101", f"{number}幢{unit}-{room}", None))
        elif kind < 0.97:
            rows.append(("unknown compound", f"阳光花园{number}号楼{unit}单元{room}", None))
        else:
            rows.append(("no such building", f"{name}{number + 20}号楼", None))
    return rows


def points(street: Street, count: int,
           rng: random.Random) -> list[tuple[float, float, str, int | None]]:
    """(lat, lng, kind, expected building id — or micro-grid id for "boundary")."""
    building_ids = list(street.points)
    micro_ids = list(street.boxes)
    rows = []
    for _index in range(count):
        kind = rng.random()
        if kind < 0.7:
            building_id = rng.choice(building_ids)
            distance, bearing = rng.uniform(0, 30), rng.uniform(0, 2 * math.pi)
            lat, lng = offset(*street.points[building_id],
                              north_metres=distance * math.cos(bearing),
                              east_metres=distance * math.sin(bearing))
            rows.append((lat, lng, "near", building_id))
        elif kind < 0.85:
            micro_id = rng.choice(micro_ids)
            south, west, north, east = street.boxes[micro_id]
            rows.append((rng.uniform(south, north), rng.uniform(west, east), "boundary",
                         micro_id))
        else:
            lat, lng = offset(*STREET_CENTRE, north_metres=rng.choice((-1, 1)) * 5000,
                              east_metres=rng.uniform(-5000, 5000))
            rows.append((lat, lng, "far", None))
    return rows


def timed(label: str, count: int, work: Callable[[], Counter[str]]) -> Counter[str]:
    wall, cpu = time.perf_counter(), time.process_time()
    outcome = work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label}: {count:,} in {cpu:.3f} s CPU ({wall:.3f} s wall): "
          f"{cpu / count * 1e6:.1f} µs CPU a call, {count / cpu:,.0f} a second")
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addresses", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--radius", type=float, default=150.0,
                        help="PLACEMENT_RADIUS_METRES (below ~80 m, boundaries do the work)")
    options = parser.parse_args()
    rng = random.Random(options.seed)
    street = Street()
    build = time.process_time()
    locator = Locator(compounds=street.compounds, buildings=street.buildings,
                      boundaries=street.boundaries, radius_metres=options.radius,
                      compound_radius_metres=400)
    print(f"{len(street.compounds)} compounds, {len(street.buildings)} buildings, "
          f"{len(street.boundaries)} micro-grid boundaries, radius {options.radius:g} m; "
          f"Locator built in "
          f"{(time.process_time() - build) * 1000:.1f} ms CPU")
    address_rows = addresses(street, options.addresses, rng)
    point_rows = points(street, options.points, rng)

    def place_addresses() -> Counter[str]:
        outcome: Counter[str] = Counter()
        for label, text, expected in address_rows:
            found = locator.locate(address=text).building_id
            if found == expected:
                verdict = "right building" if expected else "right: left for 待分派"
            else:
                verdict = "WRONG: left for 待分派" if found is None else "WRONG building"
            outcome[f"{label}: {verdict}"] += 1
        return outcome

    def place_points() -> Counter[str]:
        outcome: Counter[str] = Counter()
        for lat, lng, kind, expected in point_rows:
            found = locator.locate(latitude=lat, longitude=lng)
            if kind == "near":
                right = found.building_id == expected
            elif kind == "boundary":
                right = found.micro_grid_id == expected
            else:
                right = not found.is_placed
            outcome[f"{kind}: {'right' if right else 'WRONG'} ({found.method or '待分派'})"] += 1
        return outcome

    for label, rows, work in (("addresses", address_rows, place_addresses),
                              ("coordinates", point_rows, place_points)):
        outcome = timed(label, len(rows), work)
        for key, value in sorted(outcome.items()):
            print(f"    {key}: {value:,}")


if __name__ == "__main__":
    main()
