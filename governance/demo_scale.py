"""`load_demo --scale N`: N streets shaped like the demo, for load and query benchmarks.

Shape per street (the default, documented in bench/README.md): 10 communities; each community has
2 grids (3 + 2 micro-grids) and one compound of 15 buildings (3 per micro-grid), 2 units a
building, 20 floors, 2 flats a floor → 1,200 households a compound, 12,000 a street, and
2.5 residents a household on average (2 and 3 in turn).

Speed: the tree paths are computed here (treebeard's materialised path: `steplen` characters of
`alphabet` per level), so the Area rows go in with one bulk insert instead of one `add_child` per
node; ids are reserved up front so children can point at parents without reading anything back;
households and residents go in with PostgreSQL `COPY … FROM STDIN` (psycopg 3), formatted from
a per-shape template, or `executemany` on other databases. Large runs on PostgreSQL drop and
rebuild the two big tables' indexes and constraints (see `_indexes_dropped`). The whole run is
one transaction, each street a savepoint: an interrupted run leaves nothing behind.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from io import TextIOBase
from pathlib import Path
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone
from tqdm import tqdm

from core.fields import natural_sort_key
from governance.demo_people import GIVEN_NAMES, SURNAME_WEIGHTS, SURNAMES
from residents.models import Household, Resident
from territory.models import Area, Building, Compound, Unit

SCALE_STREET_PREFIX = "规模测试街道"


@dataclass(frozen=True)
class Shape:
    communities: int = 10
    micro_grids_per_grid: tuple[int, ...] = (3, 2)
    buildings_per_micro_grid: int = 3
    units_per_building: int = 2
    floors: int = 20
    flats_per_floor: int = 2

    @property
    def micro_grids(self) -> int:
        return sum(self.micro_grids_per_grid)

    @property
    def buildings(self) -> int:
        return self.communities * self.micro_grids * self.buildings_per_micro_grid

    @property
    def households(self) -> int:
        return self.buildings * self.units_per_building * self.floors * self.flats_per_floor

    @property
    def residents(self) -> int:
        return sum(residents_in(index) for index in range(self.households))


SHAPES = {
    "demo": Shape(),
    # For tests: 2 communities, 3 micro-grids each, 6 buildings, 12 households a street.
    "tiny": Shape(communities=2, micro_grids_per_grid=(2, 1), buildings_per_micro_grid=1,
                  units_per_building=1, floors=2, flats_per_floor=1),
}


def residents_in(household_index: int) -> int:
    return 2 + household_index % 2


@dataclass
class ScaleResult:
    streets: int
    households: int
    residents: int
    seconds: float
    python_cpu_seconds: float = 0.0
    database_cpu_seconds: float | None = None  # the backend process, when it runs on this host

    @property
    def households_per_second(self) -> float:
        return self.households / self.seconds if self.seconds else 0.0


# Past this many households, PostgreSQL drops the two big tables' secondary indexes and
# constraints and rebuilds them at the end: a sorted index build is many times faster than
# maintaining eight indexes row by row (measured in bench/README.md).
REBUILD_INDEXES_FROM = 100_000


def scale_load(*, streets: int, shape: Shape, stdout: TextIOBase,
               show_progress: bool = True) -> ScaleResult:
    """Add `streets` streets. With index rebuilding, the whole run is one transaction (DDL is
    transactional on PostgreSQL), so an interrupted run leaves no table without its indexes."""
    started, python_started = time.perf_counter(), time.process_time()
    database_started = _database_cpu_seconds()
    households = streets * shape.households
    rebuild = connection.vendor == "postgresql" and households >= REBUILD_INDEXES_FROM
    with transaction.atomic(), _indexes_dropped(rebuild, stdout):
        residents = _streets_create(streets, shape, stdout, show_progress, bulk=rebuild)
    database_ended = _database_cpu_seconds()
    return ScaleResult(
        streets=streets, households=households, residents=residents,
        seconds=time.perf_counter() - started,
        python_cpu_seconds=time.process_time() - python_started,
        database_cpu_seconds=(database_ended - database_started
                              if database_started is not None and database_ended is not None
                              else None),
    )


def _database_cpu_seconds() -> float | None:
    """CPU used so far by our PostgreSQL backend, when the server runs on this host: wall time
    on a busy machine says little, the CPU seconds say what the load costs."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend_pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{backend_pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # utime and stime are fields 14 and 15 of /proc/<pid>/stat (12 and 13 after the name).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _streets_create(streets: int, shape: Shape, stdout: TextIOBase, show_progress: bool, *,
                    bulk: bool) -> int:
    first_position = _next_root_position()
    first_number = Area.objects.filter(depth=1, name__startswith=SCALE_STREET_PREFIX).count() + 1
    template = StreetTemplate.build(shape)
    residents = 0
    with tqdm(total=streets * shape.households, unit="户", disable=not show_progress,
              file=stdout, dynamic_ncols=True) as progress:
        for offset in range(streets):
            with transaction.atomic():
                residents += _street_create(
                    position=first_position + offset, number=first_number + offset,
                    shape=shape, template=template, bulk=bulk,
                )
            progress.update(shape.households)
    return residents


@contextmanager
def _indexes_dropped(is_wanted: bool, stdout: TextIOBase) -> Iterator[None]:
    """Drop the secondary indexes, unique and foreign-key constraints of households and
    residents, and default their timestamps to now(); put everything back (re-checking every
    row) when the block ends without error."""
    if not is_wanted:
        yield
        return
    tables = [Household._meta.db_table, Resident._meta.db_table]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE conrelid::regclass::text = ANY(%s) AND contype IN ('f', 'u')",
            [tables],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            [tables],
        )
        indexes = cursor.fetchall()
        for table, name, _definition in constraints:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} ALTER COLUMN created_at SET DEFAULT now(), "
                           "ALTER COLUMN updated_at SET DEFAULT now()")
    yield
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} ALTER COLUMN created_at DROP DEFAULT, "
                           "ALTER COLUMN updated_at DROP DEFAULT")
        for _name, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in constraints:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
        cursor.execute(f"ANALYZE {', '.join(tables)}")
    stdout.write(f"rebuilt {len(indexes)} indexes and {len(constraints)} constraints "
                 f"in {time.perf_counter() - started:.1f} s\n")


def _next_root_position() -> int:
    last_root = Area.objects.get_last_root_node()
    return Area._str2int(last_root.path) + 1 if last_root else 1


# --- ids ---------------------------------------------------------------------------------------

def reserve_ids(model: type[models.Model], count: int) -> int:
    """Reserve `count` consecutive primary keys; return the first one."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # nextval and setval in one statement: the block is ours, later inserts start after.
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                "nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
                [table, table, count],
            )
            last: int = cursor.fetchone()[0]
            return last - count + 1
        # The table name comes from the model, never from input.
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        highest: int = cursor.fetchone()[0]
        return highest + 1


# --- the tree ----------------------------------------------------------------------------------

def _child_path(parent_path: str, position: int) -> str:
    """treebeard's path of the `position`-th child (1-based) under `parent_path`."""
    return Area._get_path(parent_path or None, len(parent_path) // Area.steplen + 1, position)


def _areas(street_path: str, number: int, shape: Shape, first_id: int) -> list[Area]:
    """The street's Area rows, parents before children, with path/depth/numchild set."""
    ids = itertools.count(first_id)
    code = f"9{number:05d}"
    areas = [Area(id=next(ids), path=street_path, depth=1, numchild=shape.communities,
                  name=f"{SCALE_STREET_PREFIX}{number:04d}", kind=Area.Kind.STREET, code=code)]
    for community_index in range(1, shape.communities + 1):
        community_path = _child_path(street_path, community_index)
        community_code = f"{code}{community_index:03d}"
        areas.append(Area(id=next(ids), path=community_path, depth=2,
                          numchild=len(shape.micro_grids_per_grid), kind=Area.Kind.COMMUNITY,
                          name=f"第{community_index:02d}社区", code=community_code))
        micro_number = 0
        for grid_index, micro_count in enumerate(shape.micro_grids_per_grid, start=1):
            grid_path = _child_path(community_path, grid_index)
            areas.append(Area(id=next(ids), path=grid_path, depth=3, numchild=micro_count,
                              kind=Area.Kind.GRID, name=f"网格{grid_index}",
                              code=f"{community_code}{grid_index:02d}"))
            for micro_index in range(1, micro_count + 1):
                micro_number += 1
                areas.append(Area(id=next(ids), path=_child_path(grid_path, micro_index),
                                  depth=4, numchild=0, kind=Area.Kind.MICROGRID,
                                  name=f"微网格{micro_number}",
                                  code=f"{community_code}{grid_index:02d}{micro_index:02d}"))
    return areas


# --- one street --------------------------------------------------------------------------------

def _street_create(*, position: int, number: int, shape: Shape, template: StreetTemplate,
                   bulk: bool) -> int:
    areas_count = 1 + shape.communities * (1 + len(shape.micro_grids_per_grid) + shape.micro_grids)
    areas = Area.objects.bulk_create(
        _areas(Area._get_path(None, 1, position), number, shape, reserve_ids(Area, areas_count)),
        batch_size=2000,
    )
    communities = [area for area in areas if area.kind == Area.Kind.COMMUNITY]
    micro_grids = [area for area in areas if area.kind == Area.Kind.MICROGRID]
    compounds = Compound.objects.bulk_create([
        Compound(id=compound_id, name=f"{community.name}·瑞城{number:04d}", community=community,
                 built_year=2020, area_sqm=264_000)
        for compound_id, community in zip(
            itertools.count(reserve_ids(Compound, len(communities))), communities
        )
    ])
    buildings = _buildings(shape, compounds, micro_grids)
    units = _units(shape, buildings)
    return _households_and_residents(shape, units, template, number, bulk=bulk)


def _buildings(shape: Shape, compounds: list[Compound], micro_grids: list[Area]) -> list[Building]:
    ids = itertools.count(reserve_ids(Building, shape.buildings))
    rows = []
    for compound_index, compound in enumerate(compounds):
        own_micro_grids = micro_grids[compound_index * shape.micro_grids:
                                      (compound_index + 1) * shape.micro_grids]
        numbers = itertools.count(1)
        rows += [Building(id=next(ids), compound_id=compound.id, micro_grid_id=micro.id,
                          number=str(next(numbers)), floors=shape.floors)
                 for micro in own_micro_grids for _ in range(shape.buildings_per_micro_grid)]
    return Building.objects.bulk_create(rows, batch_size=5000)


def _units(shape: Shape, buildings: list[Building]) -> list[Unit]:
    ids = itertools.count(reserve_ids(Unit, len(buildings) * shape.units_per_building))
    return Unit.objects.bulk_create(
        [Unit(id=next(ids), building_id=building.id, number=str(number))
         for building in buildings for number in range(1, shape.units_per_building + 1)],
        batch_size=5000,
    )


HOUSEHOLD_COLUMNS = ["id", "created_at", "updated_at", "building_id", "unit_id", "room",
                     "room_sort", "is_occupied", "note"]
RESIDENT_COLUMNS = ["created_at", "updated_at", "household_id", "name", "phone", "id_number",
                    "gender", "birth_year", "tags", "is_household_head"]

# Weighted surnames as a flat list (王 many times, 汤 once) so one index picks by weight.
SURNAME_TABLE = [surname for surname, weight in zip(SURNAMES, SURNAME_WEIGHTS, strict=True)
                 for _ in range(round(weight / 3))]
GENERATIONS = ("old", "middle", "young")


@dataclass(frozen=True)
class StreetTemplate:
    """The residents of one street, computed once per shape: formatting 30,000 rows a street
    is otherwise the slowest part. A slot is one resident's place (household, member); each
    street rotates the names by its number, so streets differ, and numbers the phones
    139 + street + slot (unique for 999 streets, never 1390000xxxx)."""

    household_of_slot: list[int]  # slot → household index within the street
    pool_of_slot: list[tuple[int, int]]  # slot → (0 adults / 1 children, index in that pool)
    phone_digits: list[str]  # slot → last five phone digits, "" without a phone (under 16)
    tails: list[str]  # slot → "birth year, tags, is head" columns
    pools: tuple[list[tuple[str, str]], list[tuple[str, str]]]  # (name + tab, tabs + gender)

    @classmethod
    def build(cls, shape: Shape) -> StreetTemplate:
        slots = [(index, member) for index in range(shape.households)
                 for member in range(residents_in(index))]
        birth_years = [_slot_birth_year(slot, member) for slot, (_, member) in enumerate(slots)]
        pools: tuple[list[tuple[str, str]], list[tuple[str, str]]] = ([], [])
        pool_of_slot = []
        for slot, birth_year in enumerate(birth_years):
            pool = pools[birth_year >= 1995]
            pool_of_slot.append((int(birth_year >= 1995), len(pool)))
            name, gender = scale_person(slot, birth_year)
            pool.append((f"{name}\t", f"\t\t{gender}\t"))
        return cls(
            household_of_slot=[index for index, _ in slots],
            pool_of_slot=pool_of_slot,
            phone_digits=[f"{slot:05d}" if year <= 2009 else ""
                          for slot, year in enumerate(birth_years)],
            tails=[f"{year}\t[]\t{'t' if member == 0 else 'f'}\n"
                   for year, (_, member) in zip(birth_years, slots, strict=True)],
            pools=pools,
        )

    def residents_text(self, *, first_household: int, street_number: int, stamps: str) -> str:
        rotated = []
        for pool in self.pools:
            offset = street_number * 7919 % max(1, len(pool))
            rotated.append(pool[offset:] + pool[:offset])
        phone_prefix = f"139{street_number % 1000:03d}"
        return "".join([
            f"{stamps}{first_household + household}\t{name}"
            f"{phone_prefix + digits if digits else ''}{gender}{tail}"
            for household, (pool, index), digits, tail in zip(
                self.household_of_slot, self.pool_of_slot, self.phone_digits, self.tails,
                strict=True)
            for name, gender in (rotated[pool][index],)
        ])


def _slot_birth_year(slot: int, member: int) -> int:
    """Heads and spouses 1945–1994, third members (children) 1995–2023."""
    if member < 2:
        return 1945 + (slot * 37) % 50
    return 1995 + (slot * 29) % 29


def scale_person(x: int, birth_year: int) -> tuple[str, str]:
    """A name and gender for person `x`, with a given name fitting the birth year."""
    generation = GENERATIONS[0 if birth_year < 1966 else 1 if birth_year < 1995 else 2]
    gender = "M" if x % 2 == 0 else "F"
    given_names = GIVEN_NAMES[(gender, generation)]
    name = SURNAME_TABLE[(x * 13) % len(SURNAME_TABLE)] + given_names[(x // 7) % len(given_names)]
    return name, gender


def _households_and_residents(shape: Shape, units: list[Unit], template: StreetTemplate,
                              street_number: int, *, bulk: bool) -> int:
    """Household ids are reserved (residents point at them); resident ids come from the
    table's own sequence. In bulk mode the timestamps come from a column default: parsing two
    timestamps a row is half the cost of COPY."""
    household_count = len(units) * shape.floors * shape.flats_per_floor
    first_household = reserve_ids(Household, household_count)
    stamp = timezone.now().isoformat()
    # A room and its natural sort key (rows written by SQL do not pass the field's pre_save).
    rooms = [f"{room}\t{natural_sort_key(room)}" for room in (
        f"{floor:02d}{flat:02d}" for floor in range(1, shape.floors + 1)
        for flat in range(1, shape.flats_per_floor + 1))]
    stamps = "" if bulk else f"{stamp}\t{stamp}\t"
    household_text = "".join([
        f"{first_household + index}\t{stamps}{unit.building_id}\t{unit.id}\t{room}\tt\t\n"
        for index, (unit, room) in enumerate(itertools.product(units, rooms))
    ])
    resident_text = template.residents_text(first_household=first_household,
                                            street_number=street_number, stamps=stamps)
    if connection.vendor == "postgresql":
        stamped = [] if bulk else ["created_at", "updated_at"]
        with connection.cursor() as cursor:
            _copy(cursor.cursor, Household, HOUSEHOLD_COLUMNS[:1] + stamped + HOUSEHOLD_COLUMNS[3:],
                  household_text)
            _copy(cursor.cursor, Resident, stamped + RESIDENT_COLUMNS[2:], resident_text)
    else:
        bulk_insert(Household, HOUSEHOLD_COLUMNS, _rows(household_text, booleans=(7,)))
        bulk_insert(Resident, RESIDENT_COLUMNS, _rows(resident_text, booleans=(9,)))
    return len(template.household_of_slot)


def _copy(cursor: Any, model: type[models.Model], columns: Sequence[str], text: str) -> None:
    """COPY inserts a page of rows at a time; INSERT … SELECT would insert them one by one."""
    table = connection.ops.quote_name(model._meta.db_table)
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        copy.write(text)


def _rows(copy_text: str, *, booleans: tuple[int, ...]) -> list[tuple[Any, ...]]:
    """The COPY text as parameter rows, for databases without COPY."""
    rows = []
    for line in copy_text.splitlines():
        values: list[Any] = line.split("\t")
        for column in booleans:
            values[column] = values[column] == "t"
        rows.append(tuple(values))
    return rows


# --- inserts -----------------------------------------------------------------------------------

def bulk_insert(model: type[models.Model], columns: Sequence[str], rows: list[tuple[Any, ...]],
                *, batch_size: int = 20_000) -> None:
    """executemany in large batches, for databases without COPY (SQLite in tests)."""
    table = connection.ops.quote_name(model._meta.db_table)
    column_list = ", ".join(connection.ops.quote_name(column) for column in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})"  # noqa: S608
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            cursor.executemany(sql, rows[start:start + batch_size])
