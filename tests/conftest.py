"""The shared cast, used everywhere (after Healthchecks' alice/bob/charlie).

territory: 长江路街道 → 富春江路社区 → 网格一 → 微网格一 (buildings 1, 2) and 微网格二 (building 3);
           and a second community 黄河路社区 → 网格 → 微网格 (building 9) for outsiders.
cast:      resident (lives in building 1), microgrid_worker (微网格一), grid_worker (网格一),
           community_staff (富春江路社区), street_admin (street),
           outsider (a grid worker of 黄河路社区),
           external (an API system user with no scope).
"""

from __future__ import annotations

import gc
import importlib
import socket
from dataclasses import dataclass
from typing import Any

import pytest

from accounts.models import User
from residents.models import Household, Resident
from territory.models import Area, Building, Compound, Unit
from tests.accounts.factories import UserFactory
from tests.governance.factories import area_root
from tests.residents.factories import HouseholdFactory, ResidentFactory

# Every API answer of the suite is checked against the OpenAPI schema; and (PIPL) every
# test-client response and log line of the run is scanned for whole phone and ID numbers
# (tests/leakscan.py: findings fail the run and go to var/leakscan.json).
pytest_plugins = ["tests.schema_validation", "tests.leakscan", "tests.skip_guard"]

# The ORM and the test client make many short-lived objects in reference cycles: at Python's
# default thresholds (700, 10, 10) the cyclic collector ran 4,600 times in the 620 tests of
# tests/petitions and tests/residents and took 3.7 s of their 35 s of CPU. Collecting after
# 50,000 new objects instead of 700 took 1.3 s; the same garbage is collected, only later (a
# worker's peak memory: about 0.4 GB either way).
gc.set_threshold(50_000, 20, 20)


@pytest.fixture(autouse=True)
def _block_network(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """No test reaches the network: only loopback and unix sockets are allowed."""
    if request.node.get_closest_marker("integration") or request.node.get_closest_marker("e2e"):
        return
    real_connect = socket.socket.connect

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "localhost", "::1") and not (
            self.family == socket.AF_UNIX
        ):
            raise RuntimeError(f"A test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)


@pytest.fixture(autouse=True)
def _default_language() -> Any:
    """Every test starts in the site's language. The test client runs requests in this thread,
    and LocaleMiddleware leaves the last request's language active: after an English page, a
    service called directly would write English titles (seen as order-dependent failures)."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_memo() -> None:
    """core.memo remembers per process: ids repeat from one test to the next."""
    from core import memo

    memo.forget_all()


@pytest.fixture(autouse=True)
def _fresh_throttle_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    """API throttles count per key / user / IP, and ids repeat from test to test: give every
    test empty buckets of its own (never cache.clear(), which on Redis would flush a database
    the broker may share)."""
    from django.core.cache.backends.locmem import LocMemCache
    from rest_framework.throttling import SimpleRateThrottle

    from core import guesses
    from petitions.views import duplicate_context

    buckets = LocMemCache("throttle-buckets", {})
    buckets.clear()
    monkeypatch.setattr(SimpleRateThrottle, "cache", buckets)
    monkeypatch.setattr(guesses, "cache", buckets)
    monkeypatch.setattr(duplicate_context, "cache", buckets)  # the resident's offers a day


@pytest.fixture(autouse=True)
def _no_flush_of_the_shared_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    """On Redis cache.clear() is FLUSHDB: in the services lane it wiped the other worker's keys
    mid-test (a WeChat token and its lock: two fetches where the test wants one). A test needs
    a cache of its own instead (LocMemCache, monkeypatched in; see _fresh_throttle_buckets)."""
    from django.core.cache.backends.redis import RedisCache

    def refuse(self: RedisCache) -> None:
        raise AssertionError("cache.clear() on Redis flushes the database the test workers "
                             "share: give the test a cache of its own")

    monkeypatch.setattr(RedisCache, "clear", refuse)


def seed_reference_data() -> None:
    """The rows data migrations seed (petition categories, the SLA policy, the holiday table).
    `make test` builds the schema without migrations (--no-migrations: 1 s instead of 12 s a
    worker), and a transactional test's flush removes them, so they are put back from the same
    functions."""
    from django.apps import apps

    importlib.import_module("petitions.migrations.0002_seed_categories").seed(apps, None)
    importlib.import_module("core.migrations.0002_calendar").seed(apps, None)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    with django_db_blocker.unblock():
        seed_reference_data()
        # The yellow/red card rules the migration seeds (petitions 0020) exist only where the
        # migrations ran (the services lane): every lane starts without them, as `make test`
        # does, and a test of the cards writes the rules it means.
        from petitions.models import CardRule

        CardRule.objects.all().delete()


@dataclass
class Territory:
    street: Area
    community: Area
    grid: Area
    micro1: Area
    micro2: Area
    other_community: Area
    other_grid: Area
    other_micro: Area
    compound: Compound
    other_compound: Compound
    building1: Building
    building2: Building
    building3: Building
    other_building: Building
    unit1: Unit
    household1: Household
    household2: Household
    other_household: Household


def territory_areas() -> list[Area]:
    """The eight areas of the territory: street, community, grid, micro1, micro2,
    other_community, other_grid, other_micro.

    Rows as treebeard's add_child makes them (paths, depths, child counts; siblings in name
    order, which is code-point order on SQLite and on PostgreSQL's C collation), written in one
    INSERT and one UPDATE after the root: add_child locks the parent and finds each sibling's
    sorted place, 60 queries for these seven, 10 ms in each of the ~900 tests that take it.
    tests/governance/test_services.py compares the rows with the ones add_child writes.
    """
    street = area_root()

    def node(parent: Area, step: int, name: str, kind: str, numchild: int = 0) -> Area:
        return Area(path=Area._get_path(parent.path, parent.depth + 1, step),
                    depth=parent.depth + 1, numchild=numchild, name=name, kind=kind)

    community = node(street, 1, "富春江路社区", Area.Kind.COMMUNITY, numchild=1)
    grid = node(community, 1, "网格一", Area.Kind.GRID, numchild=2)
    micro1 = node(grid, 1, "微网格一", Area.Kind.MICROGRID)
    micro2 = node(grid, 2, "微网格二", Area.Kind.MICROGRID)
    other_community = node(street, 2, "黄河路社区", Area.Kind.COMMUNITY, numchild=1)
    other_grid = node(other_community, 1, "黄河网格", Area.Kind.GRID, numchild=1)
    other_micro = node(other_grid, 1, "黄河微网格", Area.Kind.MICROGRID)
    children = [community, grid, micro1, micro2, other_community, other_grid, other_micro]
    Area.objects.bulk_create(children)
    Area.objects.filter(pk=street.pk).update(numchild=2)
    street.numchild = 2
    return [street, *children]


@pytest.fixture
def territory(db: None) -> Territory:
    (street, community, grid, micro1, micro2,
     other_community, other_grid, other_micro) = territory_areas()
    compound, other_compound = Compound.objects.bulk_create([
        Compound(name="长江瑞城", community=community),
        Compound(name="黄河小区", community=other_community)])
    building1, building2, building3, other_building = Building.objects.bulk_create([
        Building(compound=compound, micro_grid=micro1, number="1"),
        Building(compound=compound, micro_grid=micro1, number="2"),
        Building(compound=compound, micro_grid=micro2, number="3"),
        Building(compound=other_compound, micro_grid=other_micro, number="9")])
    unit1, unit3, other_unit = Unit.objects.bulk_create([
        Unit(building=building1, number="1"), Unit(building=building3, number="1"),
        Unit(building=other_building, number="1")])
    household1 = HouseholdFactory(unit=unit1, room="0101")
    household2 = HouseholdFactory(unit=unit3, room="0301")
    other_household = HouseholdFactory(unit=other_unit, room="0901")
    return Territory(
        street=street, community=community, grid=grid, micro1=micro1, micro2=micro2,
        other_community=other_community, other_grid=other_grid, other_micro=other_micro,
        compound=compound, other_compound=other_compound, building1=building1,
        building2=building2, building3=building3, other_building=other_building, unit1=unit1,
        household1=household1, household2=household2, other_household=other_household,
    )


@pytest.fixture
def resident_user(territory: Territory) -> User:
    user = UserFactory(username="resident", role=User.Role.RESIDENT, phone="13800001111",
                       display_name="王阿姨")
    ResidentFactory(household=territory.household1, name="王阿姨", phone="13800001111", user=user)
    return user


@pytest.fixture
def resident_record(resident_user: User) -> Resident:
    return resident_user.residents.get()


@pytest.fixture
def microgrid_worker(territory: Territory) -> User:
    return UserFactory(username="micro", role=User.Role.MICROGRID_WORKER,
                       scope_area=territory.micro1, display_name="李微网格员")


@pytest.fixture
def grid_worker(territory: Territory) -> User:
    return UserFactory(username="gridw", role=User.Role.GRID_WORKER, scope_area=territory.grid,
                       display_name="张网格员")


@pytest.fixture
def community_staff(territory: Territory) -> User:
    return UserFactory(username="community", role=User.Role.COMMUNITY_STAFF,
                       scope_area=territory.community, display_name="社区刘书记", is_staff=True)


@pytest.fixture
def street_admin(territory: Territory) -> User:
    return UserFactory(username="street", role=User.Role.STREET_ADMIN,
                       scope_area=territory.street, display_name="街道管理员", is_staff=True,
                       is_superuser=True)


@pytest.fixture
def outsider(territory: Territory) -> User:
    return UserFactory(username="outsider", role=User.Role.GRID_WORKER,
                       scope_area=territory.other_grid, display_name="黄河网格员")


@pytest.fixture
def wechat_fake(settings: Any) -> Any:
    """WeChat configured against a fake on 127.0.0.1 (tests/fakes/wechat.py), with the cached
    access_token and jsapi_ticket cleared before and after."""
    from django.core.cache import cache

    from core import wechat
    from tests.fakes.wechat import FakeWechat, serve

    fake = FakeWechat()
    server = serve(fake)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    settings.WECHAT_APP_ID = fake.app_id
    settings.WECHAT_APP_SECRET = fake.app_secret
    settings.WECHAT_TEMPLATES = {"petition_status": next(iter(fake.templates))}
    settings.WECHAT_API_URL = settings.WECHAT_OPEN_URL = base
    keys = [key for name in (wechat.ACCESS_TOKEN_KEY, wechat.JSAPI_TICKET_KEY)
            for key in (name, f"{name}:lock")]
    cache.delete_many(keys)
    yield fake
    cache.delete_many(keys)
    server.shutdown()
    server.server_close()
