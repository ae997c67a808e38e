"""HTTP benchmark helpers for the petitions list API, the Open311 list and the submission POST.

How to run the whole thing (figures and the exact commands are in bench/http.md):

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_h5_load
    export REDIS_URL=redis://127.0.0.1:6379/5
    .venv/bin/python bench/http_load.py seed --petitions 5000  # territory, users, key, rows
    .venv/bin/python bench/http_load.py inprocess  # Python cost per request, no server
    DJANGO_SETTINGS_MODULE=bench.http_settings .venv/bin/gunicorn config.wsgi \
        -b 127.0.0.1:8055 -w 2 --access-logfile /dev/null &
    . var/bench_http.env && wrk -t2 -c16 -d10s -H "Authorization: Api-Key $API_KEY" \
        http://127.0.0.1:8055/api/v1/petitions/

`seed` writes var/bench_http.env (API_KEY, SESSION, CATEGORY, BUILDING) for wrk and the Lua
script bench/http_post.lua. Petitions are created through petitions.services.petition_submit,
so every clock, event and outbox row is real.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.http_settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from rest_framework import serializers  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.services import api_key_create  # noqa: E402
from petitions import selectors, services  # noqa: E402
from petitions.api.serializers import PetitionListOutput  # noqa: E402
from petitions.models import Category, Petition  # noqa: E402
from territory.models import Area, Building, Compound  # noqa: E402

STREET = "长江路街道（压测）"
PASSWORD = "bench-1234"  # noqa: S105 - throwaway bench accounts on loopback
ENV_FILE = ROOT / "var" / "bench_http.env"


def _territory() -> tuple[Area, list[Building]]:
    street = Area.objects.filter(name=STREET, depth=1).first()
    if street is not None:
        return street, list(Building.objects.filter(micro_grid__path__startswith=street.path))
    street = Area.objects.add_root({"name": STREET, "kind": Area.Kind.STREET})
    community = Area.objects.add_child(street, {"name": "富春江路社区", "kind": "community"})
    compound = Compound.objects.create(name="长江瑞城", community=community)
    buildings = []
    for grid_number in (1, 2):
        grid = Area.objects.add_child(community, {"name": f"网格{grid_number}", "kind": "grid"})
        User.objects.create_user(f"bench-grid{grid_number}", password=PASSWORD,
                                 role=User.Role.GRID_WORKER, scope_area=grid)
        for micro_number in range(1, 4):
            micro = Area.objects.add_child(grid, {"name": f"微网格{grid_number}-{micro_number}",
                                                  "kind": "microgrid"})
            User.objects.create_user(f"bench-micro{grid_number}{micro_number}",
                                     password=PASSWORD, role=User.Role.MICROGRID_WORKER,
                                     scope_area=micro)
            for _index in range(3):
                buildings.append(Building.objects.create(
                    compound=compound, micro_grid=micro, number=str(len(buildings) + 1)))
    User.objects.create_user("bench-community", password=PASSWORD, is_staff=True,
                             role=User.Role.COMMUNITY_STAFF, scope_area=community)
    return street, buildings


def seed(count: int) -> None:
    call_command("migrate", verbosity=0)
    _street, buildings = _territory()
    community_staff = User.objects.get(username="bench-community")
    api_key, raw_key = api_key_create(name="压测系统")  # a fresh key: the raw key is shown once
    categories = list(Category.objects.filter(is_active=True))
    started = time.perf_counter()
    existing = Petition.objects.count()
    for number in range(count):
        actor = api_key.user if number % 2 else community_staff
        services.petition_submit(
            actor=actor, category=categories[number % len(categories)],
            description=f"压测诉求 {existing + number}：楼道堆放杂物，影响通行",
            channel="api" if number % 2 else "walk_in",
            building=buildings[number % len(buildings)], is_public=number % 3 == 0,
            external_ref=f"bench-{existing + number}" if number % 2 else None,
        )
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh statistics, or the planner guesses 148 rows
    client = Client()
    client.force_login(User.objects.get(username="bench-grid1"))
    ENV_FILE.write_text(
        f"API_KEY={raw_key}\nSESSION={client.cookies['sessionid'].value}\n"
        f"CATEGORY={categories[0].pk}\nBUILDING={buildings[0].pk}\n", encoding="utf-8")
    print(f"created {count} petitions in {seconds:.1f} s ({1000 * seconds / max(count, 1):.1f} "
          f"ms each); total now {Petition.objects.count()}; wrote {ENV_FILE}")


class _PlainListOutput(serializers.ModelSerializer):
    """What a plain DRF list would use (the trap the lean serializer avoids)."""

    category = serializers.SerializerMethodField()
    area = serializers.SerializerMethodField()
    holder = serializers.SerializerMethodField()

    class Meta:
        model = Petition
        fields = ["id", "state", "tier", "size", "channel", "category", "description",
                  "submitted_at", "arrival_due_at", "arrived_at", "due_at", "resolved_at",
                  "supervised", "holder", "area", "building", "external_ref"]

    def get_category(self, petition: Petition) -> dict[str, Any]:
        return {"id": petition.category_id, "name": petition.category.name}

    def get_area(self, petition: Petition) -> dict[str, Any]:
        return {"id": petition.area_id, "name": petition.area.name}

    def get_holder(self, petition: Petition) -> dict[str, Any] | None:
        holder = petition.holder
        return None if holder is None else {"id": holder.pk, "name": str(holder)}


def _median_ms(action: Any, repeat: int) -> float:
    samples = []
    for _index in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def inprocess(repeat: int) -> None:
    """Median milliseconds per call, inside one process (no network, no gunicorn)."""
    grid_worker = User.objects.get(username="bench-grid1")
    rows = list(selectors.petition_list(user=grid_worker).order_by("-id")[:20])
    lean = _median_ms(lambda: PetitionListOutput(rows, many=True).data, repeat)
    plain = _median_ms(lambda: _PlainListOutput(rows, many=True).data, repeat)
    print(f"serialize 20 rows: lean {lean:.2f} ms, plain ModelSerializer {plain:.2f} ms")
    client = Client()
    client.force_login(grid_worker)
    env = dict(line.split("=", 1) for line in ENV_FILE.read_text().split())
    keyed = Client(HTTP_AUTHORIZATION=f"Api-Key {env['API_KEY']}")
    for label, caller, path in [
        ("GET /api/v1/petitions/ (session, grid worker)", client, "/api/v1/petitions/"),
        ("GET /api/v1/petitions/ (api key)", keyed, "/api/v1/petitions/"),
        ("GET /open311/v2/requests.json (keyless)", Client(), "/open311/v2/requests.json"),
        ("GET /open311/v2/requests.xml (keyless)", Client(), "/open311/v2/requests.xml"),
    ]:
        status_code = caller.get(path).status_code
        if status_code != 200:
            raise SystemExit(f"{label}: HTTP {status_code}")
        milliseconds = _median_ms(lambda c=caller, p=path: c.get(p), repeat)
        print(f"{label}: {milliseconds:.2f} ms")
    print(f"load average while measuring: {os.getloadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    seed_parser = commands.add_parser("seed")
    seed_parser.add_argument("--petitions", type=int, default=5000)
    inprocess_parser = commands.add_parser("inprocess")
    inprocess_parser.add_argument("--repeat", type=int, default=200)
    arguments = parser.parse_args()
    if arguments.command == "seed":
        seed(arguments.petitions)
    else:
        inprocess(arguments.repeat)


if __name__ == "__main__":
    main()
