"""The 长江瑞城 demo, built from the seed report (shared/seed/changjiang-ruicheng-article.md).

长江路街道 → 富春江路社区 → 网格一 (微网格1–3) and 网格二 (微网格4–5); the compound 长江瑞城
(built 2020, 264,000 m²) with 15 buildings (3 per micro-grid), 1,190 households and 3,000-odd
residents; a party branch with 20 self-managed, 88 in-service and 1 mobile member, one party
group and one central household (党员带四邻) per building; the 7-member owners' committee with the
branch secretary as vice-chair; the property company and partner units; the "2+7+N" posts; and one
sign-in account per role. Deterministic: one `random.Random(seed)`; bulk inserts throughout.
"""

from __future__ import annotations

import random
import traceback
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from io import TextIOBase
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction

from accounts.models import User
from accounts.services import api_key_create
from core.demo import demo_steps
from governance.demo_people import (
    DUTIES,
    INTERESTS,
    OCCUPATIONS,
    PLEDGES,
    RETIRED_FORMER,
    SKILLS,
    Person,
    PhoneBook,
    household_people,
)
from governance.models import Body, BodyMember, CentralHousehold, OrgNode, StaffPost
from governance.services import staff_groups_ensure
from residents.models import Household, PartyMember, Resident
from territory.geo import offset, rectangle
from territory.models import Area, Building, Compound, CompoundAlias, Unit

STREET_NAME = "长江路街道"
COMMUNITY_NAME = "富春江路社区"
COMPOUND_NAME = "长江瑞城"
DEMO_PASSWORD = "demo1234"  # noqa: S105 — the published demo password.
RESIDENT_PHONE = "13900000001"
RESIDENT_NAME = "王秀英"
HOTLINE_USERNAME = "hotline12345"
HOTLINE_NAME = "12345 政务服务便民热线"

# 网格一 holds 微网格1–3, 网格二 holds 微网格4–5; three buildings per micro-grid.
GRIDS = {"网格一": ("微网格1", "微网格2", "微网格3"), "网格二": ("微网格4", "微网格5")}
BUILDINGS_PER_MICROGRID = 3
UNITS_PER_BUILDING = 2
FLOORS = 20
FLATS_PER_FLOOR = 2
HOUSEHOLDS = 1190  # 15 × 80 flats, less ten top-floor duplexes (one flat where two would be).

PARTY_SELF_MANAGED = 20
PARTY_IN_SERVICE = 88
PARTY_MOBILE = 1
NEIGHBOURS_PER_CENTRAL_HOUSEHOLD = 4
TERM_START = date(2024, 5, 1)
TERM_END = date(2029, 4, 30)
POSTS_START = date(2024, 1, 1)
# Plausible coordinates (GCJ-02, as the city's map services and the 12345 hotline send them):
# the compound's centre off 富春江路, five rows of three buildings 100 m apart north-south and
# 130 m east-west (≈ 264,000 m²), each row a micro-grid with a rectangle around it.
COMPOUND_CENTRE = (35.967600, 120.186500)
ROW_SPACING_METRES = 100.0
COLUMN_SPACING_METRES = 130.0
COMPOUND_ALIASES = ("富春江路88号",)
# Each building a slab block about 60 m east-west by 14 m north-south around its point (the
# one map draws these outlines); the compound's outline lies this far outside the outer blocks.
BUILDING_LENGTH_METRES = 60.0
BUILDING_DEPTH_METRES = 14.0
COMPOUND_MARGIN_METRES = 20.0

# (username, role, display name, scope area name or None, is_staff, is_superuser)
STAFF_ACCOUNTS = [
    ("street", User.Role.STREET_ADMIN, "陈志远", STREET_NAME, True, True),
    ("community", User.Role.COMMUNITY_STAFF, "刘红梅", COMMUNITY_NAME, True, False),
    ("grid1", User.Role.GRID_WORKER, "张伟", "网格一", False, False),
    ("grid2", User.Role.GRID_WORKER, "孙丽", "网格二", False, False),
    ("micro1", User.Role.MICROGRID_WORKER, "李娜", "微网格1", False, False),
    ("micro2", User.Role.MICROGRID_WORKER, "赵磊", "微网格2", False, False),
    ("micro3", User.Role.MICROGRID_WORKER, "周敏", "微网格3", False, False),
    ("micro4", User.Role.MICROGRID_WORKER, "吴涛", "微网格4", False, False),
    ("micro5", User.Role.MICROGRID_WORKER, "郑燕", "微网格5", False, False),
]


@dataclass
class DemoState:
    """What the steps hand to each other; ids only across steps (no instances as keys)."""

    rng: random.Random
    areas: dict[str, Area] = field(default_factory=dict)
    compound: Compound | None = None
    buildings: list[Building] = field(default_factory=list)
    households: list[Household] = field(default_factory=list)
    household_building: dict[int, int] = field(default_factory=dict)  # household id → building id
    residents: list[Resident] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)
    org_nodes: dict[int, OrgNode] = field(default_factory=dict)  # building id → its party group
    branch: OrgNode = field(init=False)  # set by _party_create
    party_residents: list[Resident] = field(default_factory=list)
    branch_secretary: Resident = field(init=False)  # set by _party_members_create
    api_key_raw: str = ""
    feature_apps_loaded: list[str] = field(default_factory=list)
    feature_apps_failed: list[str] = field(default_factory=list)


def demo_is_loaded() -> bool:
    return Area.objects.filter(depth=1, name=STREET_NAME).exists()


def demo_load(*, stdout: TextIOBase, seed: int = 20240515) -> DemoState:
    """Build the whole demo, then let each feature app add its own part.

    1. territory and grid (two treebeard trees: areas here, the party organisation later);
    2. compound, buildings, units, households and residents;
    3. accounts of every role (the resident is linked to her Resident row);
    4. party organisation, members, central households;
    5. bodies (owners' committee, property company, partner units) and the 2+7+N posts;
    6. each feature app's demo step (core.demo, registered in its AppConfig.ready()).
    """
    state = DemoState(rng=random.Random(seed))  # noqa: S311 — made-up data, not secrets.
    with transaction.atomic():
        _territory_create(state)
        _housing_create(state)
        _accounts_create(state)
        _party_create(state)
        _bodies_create(state)
        _posts_create(state)
    _feature_apps_load(state, stdout=stdout)
    return state


# --- 1. territory ------------------------------------------------------------------------------

def _territory_create(state: DemoState) -> None:
    street = Area.objects.add_root({"name": STREET_NAME, "kind": Area.Kind.STREET,
                                    "code": "370211001"})
    community = Area.objects.add_child(street, {"name": COMMUNITY_NAME,
                                                "kind": Area.Kind.COMMUNITY,
                                                "code": "370211001001"})
    state.areas = {STREET_NAME: street, COMMUNITY_NAME: community}
    for grid_number, (grid_name, micro_names) in enumerate(GRIDS.items(), start=1):
        grid = Area.objects.add_child(community, {"name": grid_name, "kind": Area.Kind.GRID,
                                                  "code": f"{community.code}{grid_number:02d}"})
        state.areas[grid_name] = grid
        for micro_name in micro_names:
            state.areas[micro_name] = Area.objects.add_child(
                grid, {"name": micro_name, "kind": Area.Kind.MICROGRID,
                       "code": f"{grid.code}{micro_name[-1]:0>2}"},
            )


def micro_grid_names() -> list[str]:
    return [name for names in GRIDS.values() for name in names]


# --- 2. housing --------------------------------------------------------------------------------

def _housing_create(state: DemoState) -> None:
    state.compound = Compound.objects.create(
        name=COMPOUND_NAME, community=state.areas[COMMUNITY_NAME], built_year=2020,
        area_sqm=264_000, address="青岛西海岸新区长江路街道富春江路 88 号",
    )
    state.compound.latitude, state.compound.longitude = _decimal_point(COMPOUND_CENTRE)
    state.compound.save(update_fields=["latitude", "longitude"])
    CompoundAlias.objects.bulk_create([CompoundAlias(compound=state.compound, alias=alias)
                                       for alias in COMPOUND_ALIASES])
    buildings = []
    for index, micro_name in enumerate(
        name for name in micro_grid_names() for _ in range(BUILDINGS_PER_MICROGRID)
    ):
        latitude, longitude = _decimal_point(_building_point(index))
        buildings.append(Building(compound=state.compound, micro_grid=state.areas[micro_name],
                                  number=str(index + 1), floors=FLOORS, latitude=latitude,
                                  longitude=longitude,
                                  outline=_box(*_building_point(index),
                                               north_metres=BUILDING_DEPTH_METRES / 2,
                                               east_metres=BUILDING_LENGTH_METRES / 2)))
    state.buildings = Building.objects.bulk_create(buildings)
    state.compound.outline = _box(*COMPOUND_CENTRE, north_metres=(
        _row_north_metres(len(micro_grid_names()) - 1) + BUILDING_DEPTH_METRES / 2
        + COMPOUND_MARGIN_METRES), east_metres=(
        (BUILDINGS_PER_MICROGRID - 1) / 2 * COLUMN_SPACING_METRES
        + BUILDING_LENGTH_METRES / 2 + COMPOUND_MARGIN_METRES))
    state.compound.save(update_fields=["outline"])
    _micro_grid_boundaries(state)
    units = Unit.objects.bulk_create([
        Unit(building=building, number=str(number))
        for building in state.buildings for number in range(1, UNITS_PER_BUILDING + 1)
    ])
    state.households = Household.objects.bulk_create(_households(state, units))
    state.household_building = {home.id: home.building_id for home in state.households}
    _residents_create(state)


def _decimal_point(point: tuple[float, float]) -> tuple[Decimal, Decimal]:
    return Decimal(f"{point[0]:.6f}"), Decimal(f"{point[1]:.6f}")


def _row_north_metres(row: int) -> float:
    return (row - (len(micro_grid_names()) - 1) / 2) * ROW_SPACING_METRES


def _building_point(index: int) -> tuple[float, float]:
    row, column = divmod(index, BUILDINGS_PER_MICROGRID)
    east = (column - (BUILDINGS_PER_MICROGRID - 1) / 2) * COLUMN_SPACING_METRES
    return offset(*COMPOUND_CENTRE, north_metres=_row_north_metres(row), east_metres=east)


def _box(lat: float, lng: float, *, north_metres: float, east_metres: float) -> dict[str, Any]:
    """A GeoJSON rectangle that many metres either side of (lat, lng), to 6 decimals."""
    south, west = offset(lat, lng, north_metres=-north_metres, east_metres=-east_metres)
    north, east = offset(lat, lng, north_metres=north_metres, east_metres=east_metres)
    return rectangle(south=round(south, 6), west=round(west, 6), north=round(north, 6),
                     east=round(east, 6))


def _micro_grid_boundaries(state: DemoState) -> None:
    half_width = (BUILDINGS_PER_MICROGRID / 2) * COLUMN_SPACING_METRES
    for row, name in enumerate(micro_grid_names()):
        south, west = offset(*COMPOUND_CENTRE, north_metres=_row_north_metres(row)
                             - ROW_SPACING_METRES / 2, east_metres=-half_width)
        north, east = offset(*COMPOUND_CENTRE, north_metres=_row_north_metres(row)
                             + ROW_SPACING_METRES / 2, east_metres=half_width)
        micro_grid = state.areas[name]
        micro_grid.boundary = rectangle(south=round(south, 6), west=round(west, 6),
                                        north=round(north, 6), east=round(east, 6))
        micro_grid.save(update_fields=["boundary"])


def _households(state: DemoState, units: list[Unit]) -> list[Household]:
    buildings_with_duplex = {building.id for building in state.buildings[5:]}
    households = []
    for unit in units:
        for floor in range(1, FLOORS + 1):
            for flat in range(1, FLATS_PER_FLOOR + 1):
                is_duplex_upper = (unit.building_id in buildings_with_duplex and floor == FLOORS
                                   and unit.number == "2" and flat == FLATS_PER_FLOOR)
                if not is_duplex_upper:
                    households.append(Household(building_id=unit.building_id, unit=unit,
                                                room=f"{floor:02d}{flat:02d}"))
    return households


def _residents_create(state: DemoState) -> None:
    phones = PhoneBook(state.rng)
    rows: list[Resident] = []
    # 王秀英 (the demo resident) and her husband live at 1号楼 1单元 0301.
    her_home = next(household for household in state.households
                    if household.building_id == state.buildings[0].id and household.room == "0301"
                    and household.unit.number == "1")
    for household in state.households:
        if household.id == her_home.id:
            people = household_people(state.rng, phones, make_up="empty_nest")
            people[1].name, people[1].phone, people[1].birth_year = (
                RESIDENT_NAME, RESIDENT_PHONE, 1956)
            people[0].name = "李建国"
        else:
            people = household_people(state.rng, phones)
        rows.extend(_resident(household, person) for person in people)
    state.residents = Resident.objects.bulk_create(rows, batch_size=1000)


def _resident(household: Household, person: Person) -> Resident:
    return Resident(household=household, name=person.name, phone=person.phone,
                    id_number=person.id_number, gender=person.gender,
                    birth_year=person.birth_year, tags=person.tags,
                    is_household_head=person.is_household_head)


# --- 3. accounts -------------------------------------------------------------------------------

def _accounts_create(state: DemoState) -> None:
    # One hash for all staff accounts: hashing the same password ten times costs seconds.
    password_hash = make_password(DEMO_PASSWORD)
    users = [
        User(username=username, role=role, display_name=name, scope_area=state.areas[scope],
             is_staff=is_staff, is_superuser=is_superuser, password=password_hash)
        for username, role, name, scope, is_staff, is_superuser in STAFF_ACCOUNTS
    ]
    users.append(User(username="resident", role=User.Role.RESIDENT, display_name=RESIDENT_NAME,
                      phone=RESIDENT_PHONE, password=make_password(None)))
    state.users = {user.username: user for user in User.objects.bulk_create(users)}
    resident = next(resident for resident in state.residents if resident.phone == RESIDENT_PHONE)
    resident.user = state.users["resident"]
    resident.save(update_fields=["user"])
    _staff_groups(state)
    _hotline_create(state)


def _staff_groups(state: DemoState) -> None:
    groups = staff_groups_ensure()
    community_group = groups.get(User.Role.COMMUNITY_STAFF)
    if community_group is not None:
        state.users["community"].groups.add(community_group)


def _hotline_create(state: DemoState) -> None:
    """The 12345 hotline's system account and API key; the raw key exists only now."""
    api_key, state.api_key_raw = api_key_create(name=HOTLINE_NAME,
                                                scope_area=state.areas[STREET_NAME])
    user = api_key.user
    user.username = HOTLINE_USERNAME
    user.save(update_fields=["username"])
    state.users[HOTLINE_USERNAME] = user


# --- 4. party organisation ---------------------------------------------------------------------

def _party_create(state: DemoState) -> None:
    committee = OrgNode.objects.add_root({"name": "富春江路社区党委",
                                          "kind": OrgNode.Kind.COMMUNITY_COMMITTEE,
                                          "area": state.areas[COMMUNITY_NAME]})
    state.branch = OrgNode.objects.add_child(committee, {
        "name": "长江瑞城小区党支部", "kind": OrgNode.Kind.COMPOUND_BRANCH,
        "area": state.areas[COMMUNITY_NAME], "compound": state.compound,
    })
    for building in state.buildings:
        state.org_nodes[building.id] = OrgNode.objects.add_child(state.branch, {
            "name": f"{int(building.number):02d}号楼党小组", "kind": OrgNode.Kind.BUILDING_GROUP,
            "area_id": building.micro_grid_id, "compound": state.compound, "building": building,
        })
    _party_members_create(state)
    _central_households_create(state)


def _pick_members(state: DemoState) -> tuple[list[Resident], list[Resident], list[Resident]]:
    """Self-managed (retired), in-service (working age) and mobile members; every building gets
    at least one retired member, who leads its party group."""
    household_building = state.household_building
    by_building: dict[int, list[Resident]] = {}
    for resident in state.residents:
        by_building.setdefault(household_building[resident.household_id], []).append(resident)
    retired_pool = [r for r in state.residents if 1945 <= _born(r) <= 1965
                    and r.phone != RESIDENT_PHONE]
    working_pool = [r for r in state.residents if 1970 <= _born(r) <= 1998]
    rng = state.rng
    retired_ids = {resident.id for resident in retired_pool}
    self_managed = [rng.choice([r for r in by_building[building.id] if r.id in retired_ids])
                    for building in state.buildings]
    chosen_ids = {resident.id for resident in self_managed}
    remaining_retired = [r for r in retired_pool if r.id not in chosen_ids]
    self_managed += rng.sample(remaining_retired, PARTY_SELF_MANAGED - len(self_managed))
    in_service = rng.sample(working_pool, PARTY_IN_SERVICE + PARTY_MOBILE)
    return self_managed, in_service[:PARTY_IN_SERVICE], in_service[PARTY_IN_SERVICE:]


def _born(resident: Resident) -> int:
    """A demo resident's birth year: every one has one (demo_people)."""
    if resident.birth_year is None:
        raise ValueError(f"demo resident {resident.name} has no birth year")
    return resident.birth_year


def _party_members_create(state: DemoState) -> None:
    self_managed, in_service, mobile = _pick_members(state)
    rng = state.rng
    household_building = state.household_building
    members = []
    for index, resident in enumerate(self_managed):
        category = ("core", "active", "active", "care")[index % 4]
        members.append(_member(state, resident, PartyMember.Kind.SELF_MANAGED, category,
                               occupation=rng.choice(RETIRED_FORMER), workplace=""))
    for index, resident in enumerate(in_service):
        occupation, workplace = rng.choice(OCCUPATIONS)
        category = ("core", "active", "general", "general", "active")[index % 5]
        members.append(_member(state, resident, PartyMember.Kind.IN_SERVICE, category,
                               occupation=occupation, workplace=workplace))
    members.append(_member(state, mobile[0], PartyMember.Kind.MOBILE, "general",
                           occupation="货车司机", workplace="在外地务工（江苏昆山）"))
    members[-1].org_node = state.branch
    PartyMember.objects.bulk_create(members)
    state.party_residents = self_managed + in_service + mobile
    # The first retired member of each building leads its group; the first of all, the branch.
    for resident in self_managed[: len(state.buildings)]:
        node = state.org_nodes[household_building[resident.household_id]]
        node.secretary = resident
    OrgNode.objects.bulk_update(state.org_nodes.values(), ["secretary"])
    state.branch_secretary = self_managed[0]
    state.branch.secretary = self_managed[0]
    state.branch.save(update_fields=["secretary"])


def _member(state: DemoState, resident: Resident, kind: str, category: str, *, occupation: str,
            workplace: str) -> PartyMember:
    rng = state.rng
    building_id = state.household_building[resident.household_id]
    joined_year = min(2023, _born(resident) + rng.randint(20, 35))
    return PartyMember(
        resident=resident, kind=kind, org_node=state.org_nodes[building_id],
        occupation=occupation, workplace=workplace, category=category,
        skills="、".join(rng.sample(SKILLS, 2)), interests="、".join(rng.sample(INTERESTS, 2)),
        joined_on=date(joined_year, rng.randint(1, 12), rng.randint(1, 28)),
        # 亮身份 is opt-in: the article's board shows the members who consented (the mobile
        # members, away most of the year, did not), each with the date of that consent.
        is_public=kind != PartyMember.Kind.MOBILE,
        public_consent_on=date(2026, 3, 1) if kind != PartyMember.Kind.MOBILE else None,
        duties=rng.choice(DUTIES), pledges="；".join(rng.sample(PLEDGES, 2)),
    )


def _leader(node: OrgNode) -> Resident:
    """A building group's leader: _party_members_create gives every group one."""
    if node.secretary is None:
        raise ValueError(f"demo party group {node.name} has no leader")
    return node.secretary


def _nearest(homes: list[Household], position: int) -> list[Household]:
    """The building's other households, nearest to homes[position] first."""
    return sorted((home for home in homes if home.id != homes[position].id),
                  key=lambda home: abs(homes.index(home) - position))


def _central_households_create(state: DemoState) -> None:
    """One central household per building group: the group leader's home, and the four
    households nearest to it in the same building (党员带四邻)."""
    households_by_building: dict[int, list[Household]] = {}
    for household in state.households:
        households_by_building.setdefault(household.building_id, []).append(household)
    centrals = []
    neighbours: list[list[int]] = []
    for building_id, node in state.org_nodes.items():
        homes = households_by_building[building_id]
        position = next(index for index, home in enumerate(homes)
                        if home.id == _leader(node).household_id)
        nearest = _nearest(homes, position)
        centrals.append(CentralHousehold(group=node, household=homes[position]))
        neighbours.append([home.id for home in nearest[:NEIGHBOURS_PER_CENTRAL_HOUSEHOLD]])
    centrals = CentralHousehold.objects.bulk_create(centrals)
    through = CentralHousehold.neighbours.through
    through.objects.bulk_create([
        through(centralhousehold_id=central.id, household_id=household_id)
        for central, household_ids in zip(centrals, neighbours, strict=True)
        for household_id in household_ids
    ])


# --- 5. bodies and posts -----------------------------------------------------------------------

PARTNER_UNITS = [
    (Body.Kind.PARTNER_UNIT, "长江路小学", "王老师", "场地开放（操场、礼堂）；家庭教育指导课"),
    (Body.Kind.PARTNER_UNIT, "西海岸新区中心医院", "刘主任", "每月义诊；健康管理课堂；急救培训"),
    (Body.Kind.PARTNER_UNIT, "瑞丰电子科技有限公司", "高经理",
     "在职党员志愿服务；充电桩扩容资金支持"),
    (Body.Kind.PARTNER_UNIT, "长江路派出所", "马警官", "警情联处；反诈宣传；消防安全检查"),
    (Body.Kind.SOCIAL_ORGANISATION, "和邻一起社会工作服务中心", "宋社工",
     "家政保洁、居家养老、垃圾废品回收一站式服务"),
]


def _bodies_create(state: DemoState) -> None:
    community = state.areas[COMMUNITY_NAME]
    committee, property_company, *_ = Body.objects.bulk_create([
        Body(kind=Body.Kind.OWNERS_COMMITTEE, name="长江瑞城业主委员会", compound=state.compound,
             community=community, term_start=TERM_START, term_end=TERM_END,
             contact_name=state.branch_secretary.name,
             contact_phone=state.branch_secretary.phone),
        Body(kind=Body.Kind.PROPERTY_COMPANY, name="瑞城物业服务有限公司", compound=state.compound,
             community=community, contact_name="韩经理", contact_phone="0532-86981234",
             offers="物业服务；门禁亮化改造；小区保洁绿化；应急维修（24 小时）"),
        *[Body(kind=kind, name=name, community=community, contact_name=contact,
               contact_phone=f"0532-8690{index:04d}", offers=offers)
          for index, (kind, name, contact, offers) in enumerate(PARTNER_UNITS, start=1)],
    ])
    BodyMember.objects.bulk_create([
        *_committee_members(state, committee),
        BodyMember(body=property_company, name="韩立强", role=BodyMember.Role.MANAGER,
                   note="项目经理"),
        BodyMember(body=property_company, name="潘海燕", role=BodyMember.Role.STAFF,
                   note="客服主管"),
    ])


def _committee_members(state: DemoState, committee: Body) -> list[BodyMember]:
    """Seven owners; the branch secretary is vice-chair; four of the seven are party members."""
    secretary = state.branch_secretary
    party_ids = {resident.id for resident in state.party_residents}
    party_owners = [r for r in state.party_residents[1:20] if r.is_household_head][:3]
    other_owners = state.rng.sample(
        [r for r in state.residents if r.is_household_head and r.id not in party_ids
         and _born(r) <= 1990], 3)
    chair, *members = [other_owners[0], *party_owners, *other_owners[1:]]
    rows = [
        BodyMember(body=committee, resident=chair, name=chair.name, role=BodyMember.Role.CHAIR),
        BodyMember(body=committee, resident=secretary, name=secretary.name,
                   role=BodyMember.Role.VICE_CHAIR, note="小区党支部书记"),
    ]
    rows += [BodyMember(body=committee, resident=member, name=member.name,
                        role=BodyMember.Role.MEMBER,
                        note="党员" if member.id in party_ids else "")
             for member in members]
    for row in rows:
        row.term_start, row.term_end = TERM_START, TERM_END
    return rows


def _posts_create(state: DemoState) -> None:
    """2 grid workers + 7 public-welfare posts (5 of them the micro-grid workers) + N."""
    users, areas, compound = state.users, state.areas, state.compound
    posts = [StaffPost(kind=StaffPost.Kind.COMMUNITY_STAFF, user=users["community"],
                       holder_name=users["community"].display_name,
                       area=areas[COMMUNITY_NAME], phone="0532-86900001")]
    posts += [_post(StaffPost.Kind.GRID_WORKER, users[username], compound)
              for username in ("grid1", "grid2")]
    for number in range(1, 6):
        user = users[f"micro{number}"]
        posts.append(_post(StaffPost.Kind.PUBLIC_WELFARE, user, compound))
        posts.append(_post(StaffPost.Kind.MICROGRID_WORKER, user, compound))
    posts += [StaffPost(kind=StaffPost.Kind.PUBLIC_WELFARE, holder_name=name,
                        area=areas[COMMUNITY_NAME], compound=compound)
              for name in ("冯秀梅", "蒋国栋")]
    heads = _building_heads(state)
    posts += [StaffPost(kind=StaffPost.Kind.BUILDING_HEAD, holder_name=head.name,
                        phone=head.phone, area_id=building.micro_grid_id, compound=compound,
                        building=building)
              for building, head in zip(state.buildings, heads, strict=True)]
    posts.append(StaffPost(kind=StaffPost.Kind.COMMUNITY_POLICE, holder_name="马振华",
                           area=areas[COMMUNITY_NAME], compound=compound, phone="0532-86990110"))
    for post in posts:
        post.starts_on = POSTS_START
    StaffPost.objects.bulk_create(posts)


def _post(kind: str, user: User, compound: Compound | None) -> StaffPost:
    if user.scope_area_id is None:
        raise ValueError(f"demo account {user.username} has no scope area")
    return StaffPost(kind=kind, user=user, holder_name=user.display_name,
                     area_id=user.scope_area_id, compound=compound)


def _building_heads(state: DemoState) -> list[Resident]:
    household_building = state.household_building
    heads = {}
    for resident in state.residents:
        building_id = household_building[resident.household_id]
        if (building_id not in heads and resident.is_household_head
                and 1950 <= _born(resident) <= 1975):
            heads[building_id] = resident
    return [heads[building.id] for building in state.buildings]


# --- 6. feature apps ---------------------------------------------------------------------------

def _feature_apps_load(state: DemoState, *, stdout: TextIOBase) -> None:
    for step in demo_steps():
        try:
            with transaction.atomic():
                step.load(compound=state.compound, stdout=stdout)
        except Exception:  # One app's broken demo must not stop the others.
            state.feature_apps_failed.append(step.name)
            stdout.write(f"!! {step.name}.demo.load failed; its demo data is missing:\n"
                         f"{traceback.format_exc()}")
        else:
            state.feature_apps_loaded.append(step.name)
            stdout.write(f"   {step.name}: demo data loaded\n")
