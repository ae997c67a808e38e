"""The holder of a tier is one rule (petitions.policy.HOLDER_RULES): the Python function, the SQL
expression and both sweeps (the portable one that SQLite runs, the one-statement PostgreSQL one)
pick the same person for every case. The same file runs in `make test` (SQLite) and in the
services lane (PostgreSQL), where the PostgreSQL sweep is checked as well."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.db.models import OuterRef
from django.utils import timezone

from accounts.models import User
from governance.models import StaffPost
from petitions import policy, sweep
from petitions.models import Petition
from territory.models import Area
from tests.accounts.factories import UserFactory
from tests.governance.factories import area_child, area_root
from tests.petitions.factories import submit

pytestmark = pytest.mark.django_db

# 07:00 in Shanghai is 23:00 UTC the day before: a rule that took "today" from the UTC date
# would count a post that ended yesterday (local) as still running.
ACCEPTED = datetime(2026, 11, 16, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SWEEPS = ["portable", "postgresql"]


@dataclass
class World:
    areas: list[Area] = field(default_factory=list)
    unscoped_admins: list[User] = field(default_factory=list)


def _user(role: str, scope: Area | None, *, is_active: bool = True) -> User:
    return UserFactory(role=role, scope_area=scope, is_active=is_active)


def _post(kind: str, area: Area, user: User, *, starts_on: date,
          ends_on: date | None = None) -> StaffPost:
    return StaffPost.objects.create(kind=kind, holder_name=user.username, user=user, area=area,
                                    starts_on=starts_on, ends_on=ends_on)


def _build_world() -> World:
    """Every case of HOLDER_RULES, tier by tier (ids grow in creation order: the lowest wins)."""
    today = ACCEPTED.date() + timedelta(days=1)  # the day of the first sweep
    long_ago = date(2024, 1, 1)
    role, kind = User.Role, StaffPost.Kind
    street = area_root(name="长江路街道")
    community = area_child(street, name="社区一", kind=Area.Kind.COMMUNITY)
    grid_with_worker = area_child(community, name="网格一", kind=Area.Kind.GRID)
    micro_with_workers = area_child(grid_with_worker, name="微一", kind=Area.Kind.MICROGRID)
    micro_with_posts = area_child(grid_with_worker, name="微二", kind=Area.Kind.MICROGRID)
    grid_with_post = area_child(community, name="网格二", kind=Area.Kind.GRID)
    micro_empty = area_child(grid_with_post, name="微三", kind=Area.Kind.MICROGRID)
    second_street = area_root(name="黄河路街道")
    second_community = area_child(second_street, name="社区二", kind=Area.Kind.COMMUNITY)
    grid_empty = area_child(second_community, name="网格三", kind=Area.Kind.GRID)
    micro_far = area_child(grid_empty, name="微四", kind=Area.Kind.MICROGRID)

    # Micro-grid: accounts before posts; an inactive account is skipped; the lowest id wins.
    _user(role.MICROGRID_WORKER, micro_with_workers, is_active=False)
    _user(role.MICROGRID_WORKER, micro_with_workers)
    _user(role.MICROGRID_WORKER, micro_with_workers)
    _post(kind.MICROGRID_WORKER, micro_with_workers, _user(role.GRID_WORKER, None),
          starts_on=long_ago)
    # Micro-grid by post: ended yesterday, not started, an inactive account's, another kind's:
    # none counts; the post ending today still runs, and beats a later one.
    _post(kind.MICROGRID_WORKER, micro_with_posts, _user(role.MICROGRID_WORKER, None),
          starts_on=long_ago, ends_on=today - timedelta(days=1))
    _post(kind.MICROGRID_WORKER, micro_with_posts, _user(role.MICROGRID_WORKER, None),
          starts_on=today + timedelta(days=1))
    _post(kind.MICROGRID_WORKER, micro_with_posts,
          _user(role.MICROGRID_WORKER, None, is_active=False), starts_on=long_ago)
    _post(kind.PUBLIC_WELFARE, micro_with_posts, _user(role.MICROGRID_WORKER, None),
          starts_on=long_ago)
    _post(kind.MICROGRID_WORKER, micro_with_posts, _user(role.MICROGRID_WORKER, None),
          starts_on=long_ago, ends_on=today)
    _post(kind.MICROGRID_WORKER, micro_with_posts, _user(role.MICROGRID_WORKER, None),
          starts_on=today)
    # Grid: an account of another role scoped there does not count; an inactive one neither.
    _user(role.MICROGRID_WORKER, grid_with_worker)
    _user(role.GRID_WORKER, grid_with_worker, is_active=False)
    _user(role.GRID_WORKER, grid_with_worker)
    # Grid by post: the one that ended yesterday does not count, the one starting today does.
    _post(kind.GRID_WORKER, grid_with_post, _user(role.GRID_WORKER, None), starts_on=long_ago,
          ends_on=today - timedelta(days=1))
    _post(kind.GRID_WORKER, grid_with_post, _user(role.GRID_WORKER, None), starts_on=today)
    # Street: the street's own admin beats an admin with no scope; a street admin scoped to a
    # community is not the street's; the second street falls back on the unscoped admin.
    world = World()
    world.unscoped_admins.append(_user(role.STREET_ADMIN, None, is_active=False))
    world.unscoped_admins.append(_user(role.STREET_ADMIN, None))
    world.unscoped_admins.append(_user(role.STREET_ADMIN, None))
    _user(role.STREET_ADMIN, street)
    _user(role.STREET_ADMIN, second_community)
    world.areas = [Area.objects.get(pk=area.pk) for area in (
        street, community, grid_with_worker, micro_with_workers, micro_with_posts,
        grid_with_post, micro_empty, second_street, second_community, grid_empty, micro_far)]
    return world


def _sql_holder(area: Area, tier: str, today: date) -> int | None:
    expression = policy.holder_expression(tier, today=today, area_path=OuterRef("path"))
    return (Area.objects.filter(pk=area.pk).annotate(holder=expression)
            .values_list("holder", flat=True).get())


def _targets_holders(tier: str, today: date) -> dict[int, int | None]:
    # As the PostgreSQL sweep runs it: compiled into raw SQL with named parameters.
    sql, params = sweep.named_sql(policy.tier_targets(tier, today=today), prefix="t")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0]: row[2] for row in cursor.fetchall()}


def _sweep(kind: str, now: datetime) -> None:
    escalate = (sweep._escalate_tier_postgresql if kind == "postgresql"
                else sweep._escalate_tier_portable)
    with transaction.atomic():
        for tier in policy.ESCALATING_TIERS:
            escalate(tier, now=now)


def _submit_everywhere(world: World) -> list[Petition]:
    micro_grids = [area for area in world.areas if area.kind == Area.Kind.MICROGRID]
    return [submit(None, area=area, size=size, location_text=area.name) for area in micro_grids
            for size in ("small", "big")]


def _assert_sweep_picked_the_rule(before: dict[int, tuple[str, int | None]], *, tier: str,
                                  today: date) -> None:
    """Every petition the sweep moved up to `tier` went to the rule's holder there, or kept its
    holder when the rule finds nobody."""
    moved = Petition.objects.filter(tier=tier).exclude(
        pk__in=[pk for pk, (old_tier, _holder) in before.items() if old_tier == tier])
    assert moved.exists()
    for petition in moved.select_related("area"):
        expected = (policy.tier_holder_id(petition.area, tier, today=today)
                    or before[petition.pk][1])
        assert petition.holder_id == expected, (petition.area.name, tier)


@pytest.mark.parametrize("has_unscoped_admin", [True, False])
def test_the_python_rule_and_the_sql_expression_pick_the_same_holder_for_every_case(
        has_unscoped_admin):
    world = _build_world()
    if not has_unscoped_admin:
        User.objects.filter(pk__in=[user.pk for user in world.unscoped_admins]).update(
            is_active=False)
    today = ACCEPTED.date() + timedelta(days=1)
    for tier in policy.TIER_ORDER:
        targets = _targets_holders(tier, today)
        areas = [area for area in world.areas if area.depth == policy.TIER_DEPTH[tier]]
        assert set(targets) == {area.pk for area in areas}
        for area in areas:
            python = policy.tier_holder_id(area, tier, today=today)
            assert _sql_holder(area, tier, today) == python, (area.name, tier)
            assert targets[area.pk] == python, (area.name, tier)


def _holder(world: World, name: str, tier: str, today: date) -> User | None:
    area = next(area for area in world.areas if area.name == name)
    holder_id = policy.tier_holder_id(area, tier, today=today)
    return None if holder_id is None else User.objects.get(pk=holder_id)


def test_the_holder_rule_covers_the_cases_it_claims_to():
    world = _build_world()
    today = ACCEPTED.date() + timedelta(days=1)
    accounts = User.objects.filter(role="microgrid_worker", scope_area__name="微一")
    assert _holder(world, "微一", "microgrid", today) == accounts.filter(is_active=True).first()
    by_post = _holder(world, "微二", "microgrid", today)
    assert StaffPost.objects.get(user=by_post).ends_on == today  # ending today: still runs
    assert _holder(world, "微三", "microgrid", today) is None
    grid_holder = _holder(world, "网格一", "grid", today)
    assert (grid_holder.role, grid_holder.is_active) == ("grid_worker", True)
    assert StaffPost.objects.get(user=_holder(world, "网格二", "grid", today)).starts_on == today
    assert _holder(world, "网格三", "grid", today) is None
    assert _holder(world, "长江路街道", "street", today).scope_area.name == "长江路街道"
    # The second street has no admin of its own: the active unscoped admin with the lowest id.
    assert _holder(world, "黄河路街道", "street", today) == world.unscoped_admins[1]


@pytest.mark.parametrize("has_unscoped_admin", [True, False])
@pytest.mark.parametrize("kind", SWEEPS)
def test_both_sweeps_escalate_to_the_holder_the_python_rule_names(kind, has_unscoped_admin):
    if kind == "postgresql" and connection.vendor != "postgresql":
        pytest.skip("the one-statement sweep runs on PostgreSQL (the services lane)")
    with time_machine.travel(ACCEPTED, tick=False) as traveller:
        world = _build_world()
        if not has_unscoped_admin:
            User.objects.filter(pk__in=[user.pk for user in world.unscoped_admins]).update(
                is_active=False)
        petitions = _submit_everywhere(world)
        for moment, tier in ((timedelta(days=1, seconds=1), "grid"),
                             (timedelta(days=3, seconds=1), "street")):
            now = ACCEPTED + moment
            traveller.move_to(now)
            before = {pk: (old_tier, holder_id) for pk, old_tier, holder_id
                      in Petition.objects.values_list("id", "tier", "holder_id")}
            _sweep(kind, timezone.now())
            _assert_sweep_picked_the_rule(before, tier=tier, today=timezone.localdate(now))
        assert Petition.objects.filter(tier="street").count() == len(petitions)
