"""Dataset and credentials for bench/load/run.py (runs with Django; run.py itself does not).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_load \
        .venv/bin/python bench/load/prepare.py seed --petitions 100000 \
            --out var/bench_load/state.json
    ... prepare.py refs --prefix load-20261128T0300-   # hotline rows: total, distinct, duplicated

`seed` migrates, loads the demo (one street, 2 grids, 5 micro-grids, 15 buildings, 1,190
households, the demo accounts) once, then tops the petitions up to --petitions with ONE
server-side INSERT … SELECT generate_series (≈ 2 s per 100,000 rows on an idle machine), ids
in the order of submission as the site makes them (the newest has the highest id: the list
API's cursor walks the id index, and a plan that reads it depends on that): the
newest --open-share of them open (80 % at the micro-grid tier, 15 % grid, 5 % street, held by
that tier's worker), the rest closed and rated; a quarter each from the resident, the 12345
system (with an external_ref), walk-ins and phone calls. Columns the generator does not set get
their model default, so a new nullable or defaulted column needs no change here. Then ANALYZE,
a fresh API key for the 12345 system, session cookies for grid1 and the demo resident, a CSRF
secret, and a ~2 MB JPEG for the submission scenario; all written to --out as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.load.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402

from accounts.models import ApiKey, User  # noqa: E402
from bench.sample_photo import phone_photo  # noqa: E402
from governance.demo import HOTLINE_USERNAME, RESIDENT_PHONE  # noqa: E402
from petitions import selectors  # noqa: E402
from petitions.models import Category, Petition, PetitionPhoto  # noqa: E402
from residents.models import Household  # noqa: E402
from residents.selectors import household_list  # noqa: E402
from territory.models import Area, Building  # noqa: E402

GRID_WORKER = "grid1"
SPAN_DAYS = 730
PHOTO_BYTES = 2_000_000

# What the generator sets, per row; %(name)s are parameters, the lateral `s`/`b` give the
# row's moment and building (see INSERT_SQL). Every other column gets its model default.
COLUMNS: dict[str, str] = {
    "created_at": "s.at", "updated_at": "s.at",
    "channel": "(ARRAY['mobile_web','hotline_12345','walk_in','phone'])[1 + i %% 4]",
    "category_id": "(%(categories)s::bigint[])[1 + i %% %(category_count)s]",
    "description": "'压测诉求 ' || i || '：楼道堆放杂物，影响通行'",
    "building_id": "b.building", "location_text": "''",
    "size": "'small'",
    "tier": "s.tier",
    "state": "CASE WHEN s.is_open THEN (ARRAY['submitted','dispatched','on_site'])[1 + i %% 3] "
             "ELSE 'closed' END",
    "holder_id": "CASE s.tier WHEN 'grid' THEN b.grid_worker WHEN 'street' THEN %(street_admin)s "
                 "ELSE b.micro_worker END",
    "area_id": "CASE s.tier WHEN 'grid' THEN b.grid WHEN 'street' THEN %(street)s "
               "ELSE b.micro END",
    "area_path": "CASE s.tier WHEN 'grid' THEN b.grid_path WHEN 'street' THEN %(street_path)s "
                 "ELSE b.micro_path END",
    "origin_path": "b.micro_path",
    "submitter_id": "CASE WHEN i %% 4 = 0 THEN %(resident)s END",
    "recorded_by_id": "CASE WHEN i %% 4 >= 2 THEN %(community)s END",
    "external_system_id": "CASE WHEN i %% 4 = 1 THEN %(hotline)s END",
    "external_ref": "CASE WHEN i %% 4 = 1 THEN 'seed-' || i END",
    "contact_name": "'张先生'",
    "contact_phone": "'139' || lpad((i %% 100000000)::text, 8, '0')",
    "submitted_at": "s.at", "clock_started_at": "s.at", "dispatched_at": "s.at",
    "arrival_due_at": "s.at + interval '2 hours'",
    "arrived_at": "CASE WHEN NOT s.is_open THEN s.at + interval '1 hour' END",
    "microgrid_due_at": "s.at + interval '1 day'",
    "grid_due_at": "s.at + interval '3 days'",
    "street_due_at": "s.at + interval '5 days'",
    "due_at": "s.at + CASE s.tier WHEN 'grid' THEN interval '3 days' "
              "WHEN 'street' THEN interval '5 days' ELSE interval '1 day' END",
    "resolved_at": "CASE WHEN NOT s.is_open THEN s.at + interval '20 hours' END",
    "resolved_on_time": "CASE WHEN NOT s.is_open THEN TRUE END",
    "resolved_tier": "CASE WHEN s.is_open THEN '' ELSE 'microgrid' END",
    "verified_at": "CASE WHEN NOT s.is_open THEN s.at + interval '1 day' END",
    "closed_at": "CASE WHEN NOT s.is_open THEN s.at + interval '2 days' END",
    "rating": "CASE WHEN s.is_open THEN '' ELSE 'satisfied' END",
    "rated_at": "CASE WHEN NOT s.is_open THEN s.at + interval '2 days' END",
}

INSERT_SQL = """
INSERT INTO petitions_petition ({columns})
SELECT {values}
FROM generate_series(%(first)s, %(last)s) AS i
CROSS JOIN LATERAL (
    SELECT %(now)s::timestamptz - (%(last)s - i) * %(step)s * interval '1 second' AS at,
           %(last)s - i < %(open_count)s AS is_open,
           CASE WHEN %(last)s - i >= %(open_count)s OR i %% 20 < 16 THEN 'microgrid'
                WHEN i %% 20 < 19 THEN 'grid' ELSE 'street' END AS tier) AS s
CROSS JOIN LATERAL (
    SELECT (%(buildings)s::bigint[])[k] AS building, (%(micros)s::bigint[])[k] AS micro,
           (%(micro_paths)s::text[])[k] AS micro_path,
           (%(micro_workers)s::bigint[])[k] AS micro_worker, (%(grids)s::bigint[])[k] AS grid,
           (%(grid_paths)s::text[])[k] AS grid_path,
           (%(grid_workers)s::bigint[])[k] AS grid_worker
    FROM (SELECT 1 + i %% %(building_count)s AS k) AS pick) AS b
"""


def _default_sql(field: Any) -> tuple[str, Any]:
    """A column the generator does not set: its model default as a parameter, else NULL."""
    if field.has_default():
        return "%s", field.get_db_prep_save(field.get_default(), connection)
    if field.null:
        return "NULL", None
    if field.get_internal_type() in ("CharField", "TextField") and field.blank:
        return "''", None
    raise SystemExit(f"prepare.py: set a value for the new column {field.column!r} in COLUMNS")


def _territory() -> dict[str, Any]:
    """Per building (in id order): its micro-grid and grid, their paths and workers."""
    workers = {user.scope_area_id: user.pk for user in User.objects.filter(
        role__in=[User.Role.MICROGRID_WORKER, User.Role.GRID_WORKER]).order_by("-id")}
    buildings = list(Building.objects.select_related("micro_grid").order_by("id"))
    areas = {area.path: area for area in Area.objects.filter(kind=Area.Kind.GRID)}
    grids = {building.micro_grid_id: areas[building.micro_grid.path[:12]]
             for building in buildings}
    street = User.objects.get(role=User.Role.STREET_ADMIN, username="street")
    return {
        "buildings": [building.pk for building in buildings],
        "micros": [building.micro_grid_id for building in buildings],
        "micro_paths": [building.micro_grid.path for building in buildings],
        "micro_workers": [workers.get(building.micro_grid_id) for building in buildings],
        "grids": [grids[building.micro_grid_id].pk for building in buildings],
        "grid_paths": [grids[building.micro_grid_id].path for building in buildings],
        "grid_workers": [workers.get(grids[building.micro_grid_id].pk) for building in buildings],
        "building_count": len(buildings),
        "street": street.scope_area_id, "street_path": street.scope_area.path,
        "street_admin": street.pk,
        "resident": User.objects.get(phone=RESIDENT_PHONE).pk,
        "community": User.objects.get(username="community").pk,
        "hotline": User.objects.get(username=HOTLINE_USERNAME).pk,
    }


def petitions_fill(*, count: int, open_share: float) -> float:
    """Add COUNT petitions in one statement; returns the seconds it took."""
    categories = list(Category.objects.filter(is_active=True).order_by("id")
                      .values_list("id", flat=True))
    parameters: dict[str, Any] = {
        **_territory(), "categories": categories, "category_count": len(categories),
        "now": timezone.now(), "step": SPAN_DAYS * 86400 / max(count, 1),
        "open_count": int(count * open_share),
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM petitions_petition")
        first = cursor.fetchone()[0] + 1
    parameters.update(first=first, last=first + count - 1)
    names, values = [], []
    for field in Petition._meta.concrete_fields:
        if field.primary_key:
            continue
        names.append(connection.ops.quote_name(field.column))
        if field.column in COLUMNS:
            values.append(COLUMNS[field.column])
        else:
            sql, value = _default_sql(field)
            if sql == "%s":
                key = f"default_{field.column}"
                parameters[key] = value
                sql = f"%({key})s"
            values.append(sql)
    statement = INSERT_SQL.format(columns=", ".join(names), values=", ".join(values))
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, parameters)
        cursor.execute("SELECT setval(pg_get_serial_sequence('petitions_petition', 'id'), "
                       "(SELECT max(id) FROM petitions_petition))")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def photo_write(path: Path) -> int:
    """A real ~2 MB JPEG (noise over a gradient: photo-sized, hard to compress)."""
    data = phone_photo((2400, 1800))
    path.write_bytes(data)
    return len(data)


def _session_for(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def _resident_form(resident: User) -> dict[str, Any]:
    household = household_list(user=resident).first()
    if household is None:
        raise SystemExit("prepare.py: the demo resident has no household")
    category = next(item for item in Category.objects.filter(is_active=True).order_by("id")
                    if not item.extra_questions)
    return {"category": category.pk, "compound": household.building.compound_id,
            "building": household.building_id, "unit": household.unit_id,
            "household": household.pk, "description": "楼道灯坏了，晚上看不清台阶（压测）",
            "is_public": "on",
            # Every submission is the same text: past the first, the form would offer the
            # resident the similar one already open (petitions/duplicates.py; 5 a day) and
            # answer 200 with the offer. The resident here chose to submit anyway.
            "duplicate_choice": "new"}


def dataset(grid_worker: User) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        database_bytes = cursor.fetchone()[0]
    return {
        "petitions": Petition.objects.count(),
        "petitions_open": Petition.objects.open().count(),
        "visible_to_grid_worker": selectors.petition_list(user=grid_worker).count(),
        "grid_worker_queue_rows": selectors.petition_queue(user=grid_worker).count(),
        "households": Household.objects.count(),
        "database_megabytes": round(database_bytes / 1e6, 1),
    }


def seed(arguments: argparse.Namespace) -> None:
    call_command("migrate", verbosity=0)
    call_command("load_demo", "--if-empty", "--no-progress", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)  # whitenoise serves STATIC_ROOT
    missing = arguments.petitions - Petition.objects.count()
    fill_seconds = petitions_fill(count=missing, open_share=arguments.open_share) \
        if missing > 0 else 0.0
    hotline = User.objects.get(username=HOTLINE_USERNAME)
    # The demo printed its key once; rotate it to one we know (one key per system account).
    prefix, raw_key = ApiKey.generate()
    ApiKey.objects.update_or_create(user=hotline, defaults={
        "name": "12345 热线（压测）", "prefix": prefix, "key_hash": ApiKey.hash_key(raw_key),
        "is_active": True})
    grid_worker = User.objects.get(username=GRID_WORKER)
    resident = User.objects.get(phone=RESIDENT_PHONE)
    out = Path(arguments.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    photo = out.parent / "photo-2mb.jpg"
    form = _resident_form(resident)
    state = {
        "api_key": raw_key, "grid_session": _session_for(grid_worker),
        "resident_session": _session_for(resident), "csrf": get_random_string(32),
        "resident_form": form, "photo": str(photo), "photo_bytes": photo_write(photo),
        "hotline": {"category": form["category"], "building": form["building"]},
        "resident_id": resident.pk, "hotline_id": hotline.pk,
        "added_petitions": max(missing, 0), "fill_seconds": round(fill_seconds, 1),
        "dataset": dataset(grid_worker),
    }
    out.write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps({key: state[key] for key in ("added_petitions", "fill_seconds", "dataset")},
                     ensure_ascii=False))


def refs(arguments: argparse.Namespace) -> None:
    """The hotline scenario's rows: how many, how many distinct refs, refs stored twice."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(DISTINCT external_ref), "
            "(SELECT count(*) FROM (SELECT 1 FROM petitions_petition WHERE external_ref LIKE %s "
            " GROUP BY external_system_id, external_ref HAVING count(*) > 1) AS twice) "
            "FROM petitions_petition WHERE external_ref LIKE %s",
            [arguments.prefix + "%", arguments.prefix + "%"])
        rows, distinct, duplicated = cursor.fetchone()
    print(json.dumps({"rows": rows, "distinct_refs": distinct, "duplicated_refs": duplicated}))


def submitted(arguments: argparse.Namespace) -> None:
    """Petitions of the resident since a moment, and photos stored with them."""
    petitions = Petition.objects.filter(submitter_id=arguments.resident,
                                        submitted_at__gte=arguments.since)
    photos = PetitionPhoto.objects.filter(petition__in=petitions).count()
    print(json.dumps({"petitions": petitions.count(), "photos": photos}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    seed_parser = commands.add_parser("seed")
    seed_parser.add_argument("--petitions", type=int, default=100_000)
    seed_parser.add_argument("--open-share", type=float, default=0.02)
    seed_parser.add_argument("--out", required=True)
    refs_parser = commands.add_parser("refs")
    refs_parser.add_argument("--prefix", required=True)
    submitted_parser = commands.add_parser("submitted")
    submitted_parser.add_argument("--resident", type=int, required=True)
    submitted_parser.add_argument("--since", required=True)
    arguments = parser.parse_args()
    {"seed": seed, "refs": refs, "submitted": submitted}[arguments.command](arguments)


if __name__ == "__main__":
    main()
