"""The 长江瑞城 demo (figures from the seed report) and the `--scale` generator."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterator

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

import governance.demo_scale as demo_scale
from accounts.models import ApiKey, User
from core.fields import natural_sort_key
from governance.demo import RESIDENT_PHONE, DemoState, demo_load
from governance.models import Body, BodyMember, CentralHousehold, OrgNode, StaffPost
from residents.models import Household, PartyMember, Resident
from territory.geo import boundary_parse, haversine_metres
from territory.models import Area, Building, Compound, Unit


@pytest.fixture(scope="class")
def demo(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[DemoState]:
    """Load the demo once for the class below, inside a transaction rolled back at the end; each
    test's own `db` transaction nests inside it as a savepoint."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield demo_load(stdout=io.StringIO())
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.mark.usefixtures("db")
class TestTheDemo:
    """Figures from the seed report; one demo load for the whole class."""

    def test_the_territory_is_the_one_of_the_article(self, demo: DemoState) -> None:
        street = Area.objects.get(depth=1, name="长江路街道")
        tree = {area.name: (area.kind, area.depth) for area in Area.objects.within(street)}
        assert tree == {
            "长江路街道": ("street", 1), "富春江路社区": ("community", 2),
            "网格一": ("grid", 3), "网格二": ("grid", 3),
            "微网格1": ("microgrid", 4), "微网格2": ("microgrid", 4), "微网格3": ("microgrid", 4),
            "微网格4": ("microgrid", 4), "微网格5": ("microgrid", 4),
        }
        grid_one = Area.objects.get(name="网格一")
        assert [area.name for area in Area.objects.get_children(grid_one)] == [
            "微网格1", "微网格2", "微网格3"]
        assert Area.objects.find_problems() == ([], [], [], [], [])
        compound = Compound.objects.get(name="长江瑞城")
        assert (compound.built_year, compound.area_sqm) == (2020, 264_000)


    def test_the_compound_has_15_buildings_1190_households_and_over_3000_residents(
        self, demo: DemoState,
    ) -> None:
        per_micro_grid = Counter(Building.objects.values_list("micro_grid__name", flat=True))
        assert per_micro_grid == {f"微网格{number}": 3 for number in range(1, 6)}
        assert Household.objects.count() == 1190
        assert Household.objects.filter(residents__isnull=True).count() == 0
        residents = Resident.objects.all()
        assert residents.count() >= 3000
        phones = [phone for phone in residents.values_list("phone", flat=True) if phone]
        assert len(phones) == len(set(phones))
        assert all(phone.startswith("139") and len(phone) == 11 for phone in phones)
        tags = Counter(tag for row in residents.values_list("tags", flat=True) for tag in row)
        assert tags["elder_alone"] > 0 and tags["empty_nest"] > 0 and tags["disabled"] > 0
        assert residents.exclude(id_number="").count() > 500
        assert set(residents.values_list("gender", flat=True)) == {"M", "F"}


    def test_buildings_and_micro_grids_carry_coordinates_that_place_petitions(
        self, demo: DemoState,
    ) -> None:
        from territory.locator import Locator

        locator = Locator.for_scope()
        for building in Building.objects.select_related("micro_grid"):
            found = locator.locate(latitude=building.latitude, longitude=building.longitude)
            assert (found.building_id, found.micro_grid_id) == (building.pk,
                                                                building.micro_grid_id)
        by_door_number = locator.locate(address="富春江路88号7#楼")
        assert by_door_number.building_id == Building.objects.get(number="7").pk

    def test_each_building_is_a_60_by_14_metre_slab_inside_the_compounds_outline(
        self, demo: DemoState,
    ) -> None:
        compound = Compound.objects.get(name="长江瑞城")
        compound.full_clean()  # the outline passes the admin's check
        around = boundary_parse(compound.outline)
        for building in Building.objects.all():
            building.full_clean()
            outline = boundary_parse(building.outline)
            assert outline.contains(float(building.latitude), float(building.longitude))
            ring = building.outline["coordinates"][0]
            assert ring[0] == ring[-1] and len(ring) == 5
            assert all(round(number, 6) == number for point in ring for number in point)
            west_east = haversine_metres(outline.min_lat, outline.min_lng, outline.min_lat,
                                         outline.max_lng)
            south_north = haversine_metres(outline.min_lat, outline.min_lng, outline.max_lat,
                                           outline.min_lng)
            assert (round(west_east), round(south_north)) == (60, 14)
            assert all(around.contains(lat, lng) for lng, lat in ring)

    def test_the_branch_has_20_self_managed_88_in_service_and_1_mobile_member(
        self, demo: DemoState,
    ) -> None:
        assert Counter(PartyMember.objects.values_list("kind", flat=True)) == {
            "self_managed": 20, "in_service": 88, "mobile": 1}
        in_service = PartyMember.objects.filter(kind="in_service")
        assert not in_service.filter(occupation="").exists()
        assert not PartyMember.objects.filter(skills="").exists()
        assert not PartyMember.objects.filter(duties="").exists()
        branch = OrgNode.objects.get(kind=OrgNode.Kind.COMPOUND_BRANCH)
        assert branch.name == "长江瑞城小区党支部"
        assert OrgNode.objects.get_parent(branch).name == "富春江路社区党委"
        assert OrgNode.objects.find_problems() == ([], [], [], [], [])


    def test_each_building_group_has_one_central_household_with_four_neighbours(
        self, demo: DemoState,
    ) -> None:
        groups = OrgNode.objects.filter(kind=OrgNode.Kind.BUILDING_GROUP).select_related(
            "building", "central_household__household", "secretary__household")
        assert groups.count() == 15
        assert {group.building.number for group in groups} == {str(n) for n in range(1, 16)}
        for group in groups:
            central = group.central_household
            neighbours = list(central.neighbours.all())
            assert len(neighbours) == 4
            assert {home.building_id for home in neighbours} == {group.building_id}
            assert central.household not in neighbours
            # The central household is the home of the group's leader, a party member.
            assert central.household == group.secretary.household
            assert PartyMember.objects.filter(resident=group.secretary).exists()
        assert CentralHousehold.objects.count() == 15


    def test_the_owners_committee_has_seven_members_and_the_secretary_is_vice_chair(
        self, demo: DemoState,
    ) -> None:
        committee = Body.objects.get(kind=Body.Kind.OWNERS_COMMITTEE)
        members = committee.members.all()
        assert members.count() == 7
        assert Counter(members.values_list("role", flat=True)) == {"chair": 1, "vice_chair": 1,
                                                                   "member": 5}
        secretary = OrgNode.objects.get(kind=OrgNode.Kind.COMPOUND_BRANCH).secretary
        assert members.get(role=BodyMember.Role.VICE_CHAIR).resident == secretary
        assert Body.objects.filter(kind=Body.Kind.PROPERTY_COMPANY).count() == 1
        assert Body.objects.filter(kind=Body.Kind.PARTNER_UNIT).count() >= 3


    def test_the_posts_are_2_grid_workers_and_7_public_welfare_posts_plus_n(
        self, demo: DemoState,
    ) -> None:
        posts = Counter(StaffPost.objects.values_list("kind", flat=True))
        assert posts["grid_worker"] == 2
        assert posts["public_welfare"] == 7
        assert posts["microgrid_worker"] == 5
        assert posts["building_head"] == 15
        assert posts["community_police"] == 1
        micro_grid_workers = set(StaffPost.objects.filter(kind="microgrid_worker")
                                 .values_list("user__username", flat=True))
        welfare_holders = set(StaffPost.objects.filter(kind="public_welfare")
                              .values_list("user__username", flat=True))
        assert micro_grid_workers == {f"micro{number}" for number in range(1, 6)}
        assert micro_grid_workers < welfare_holders | {None}
        grid_posts = StaffPost.objects.filter(kind="grid_worker").values_list("area__name",
                                                                             flat=True)
        assert sorted(grid_posts) == ["网格一", "网格二"]


    def test_there_is_one_account_per_role(self, demo: DemoState) -> None:
        # Not the residents' accounts the deliberation demo makes for its sign-ups and comments.
        users = {user.username: user for user in User.objects.select_related("scope_area")
                 if "-demo" not in user.username}
        assert Counter(user.role for user in users.values()) == {
            "street_admin": 1, "community_staff": 1, "grid_worker": 2, "microgrid_worker": 5,
            "resident": 1, "external_system": 1}
        assert users["street"].is_superuser and users["street"].scope_area.name == "长江路街道"
        assert users["community"].is_staff and not users["community"].is_superuser
        assert users["micro4"].scope_area.name == "微网格4"
        for username in ("street", "community", "grid1", "grid2", "micro1", "micro5"):
            assert users[username].check_password("demo1234")
        resident = users["resident"]
        assert (resident.phone, resident.display_name) == (RESIDENT_PHONE, "王秀英")
        assert not resident.has_usable_password()
        record = resident.residents.select_related("household__building").get()
        assert (record.name, record.household.building.number) == ("王秀英", "1")
        api_key = ApiKey.objects.get(user=users["hotline12345"])
        assert api_key.is_active
        assert api_key.key_hash == ApiKey.hash_key(demo.api_key_raw)


    def test_every_feature_app_demo_that_exists_loads_without_error(
        self, demo: DemoState,
    ) -> None:
        assert demo.feature_apps_failed == []

    def test_load_demo_if_empty_keeps_the_data_and_without_it_refuses(
        self, demo: DemoState,
    ) -> None:
        output = io.StringIO()
        call_command("load_demo", "--if-empty", stdout=output)
        assert "demo already loaded" in output.getvalue()
        assert Household.objects.count() == 1190
        assert User.objects.filter(username="street").count() == 1
        with pytest.raises(CommandError):
            call_command("load_demo", stdout=io.StringIO())


    def test_demo_accounts_lists_every_role_with_how_to_sign_in(self, demo: DemoState) -> None:
        output = io.StringIO()
        call_command("demo_accounts", stdout=output)
        text = output.getvalue()
        for username in ("street", "community", "grid1", "grid2", "micro1", "micro5", "resident",
                         "hotline12345"):
            assert f"\n{username} " in text
        assert "demo1234" in text and "13900000001" in text and "/admin/" in text


def test_demo_accounts_says_to_load_the_demo_first_on_an_empty_database(db: None) -> None:
    output = io.StringIO()
    call_command("demo_accounts", stdout=output)
    assert "load_demo" in output.getvalue()


# --- --scale ---------------------------------------------------------------------------------

def _scale(streets: int) -> str:
    output = io.StringIO()
    call_command("load_demo", "--scale", str(streets), "--shape", "tiny", "--no-progress",
                 stdout=output, stderr=io.StringIO())
    return output.getvalue()


def test_scale_builds_a_valid_tree_after_the_existing_roots(db: None) -> None:
    existing = Area.objects.add_root({"name": "长江路街道", "kind": Area.Kind.STREET})
    output = _scale(2)
    assert "households created: 24" in output
    assert Area.objects.find_problems() == ([], [], [], [], [])
    streets = list(Area.objects.filter(depth=1))
    assert [street.path for street in streets] == [existing.path, "0002", "0003"]
    shape = demo_scale.SHAPES["tiny"]
    for street in streets[1:]:
        assert street.numchild == shape.communities
        subtree = Counter(Area.objects.within(street).values_list("depth", flat=True))
        assert subtree == {1: 1, 2: shape.communities, 3: 2 * shape.communities,
                           4: shape.micro_grids * shape.communities}
        assert Household.objects.within_path(street.path).count() == shape.households
        assert Resident.objects.filter(
            household__building__micro_grid__path__startswith=street.path
        ).count() == shape.residents
    for area in Area.objects.all():
        assert area.numchild == Area.objects.get_children(area).count()
        assert area.depth == len(area.path) // Area.steplen
    # treebeard keeps working on the generated paths.
    community = Area.objects.get_children(streets[1])[0]
    Area.objects.add_child(community, {"name": "网格9", "kind": Area.Kind.GRID})
    assert Area.objects.find_problems() == ([], [], [], [], [])


def test_scale_households_and_residents_are_consistent(db: None) -> None:
    _scale(1)
    households = Household.objects.select_related("unit")
    assert all(home.unit.building_id == home.building_id for home in households)
    # Rows written by SQL carry their rooms' natural sort keys (no model save ran).
    assert all(home.room_sort == natural_sort_key(home.room) for home in households)
    assert all(unit.number_sort for unit in Unit.objects.all())
    heads = Counter(Resident.objects.filter(is_household_head=True)
                    .values_list("household_id", flat=True))
    assert set(heads.values()) == {1} and len(heads) == households.count()
    phones = [phone for phone in Resident.objects.values_list("phone", flat=True) if phone]
    assert len(phones) == len(set(phones))
    assert not any(phone.startswith("1390000") for phone in phones)
    assert not Resident.objects.filter(phone="", birth_year__lte=2009).exists()


def test_scale_with_its_index_rebuild_leaves_every_index_in_place(
    db: None, monkeypatch: pytest.MonkeyPatch,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the index rebuild is PostgreSQL only")

    def schema() -> list[tuple[str, str]]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
                           "('residents_household', 'residents_resident') ORDER BY 1")
            indexes = cursor.fetchall()
            cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                           "WHERE conrelid IN ('residents_household'::regclass, "
                           "'residents_resident'::regclass) ORDER BY 1")
            return indexes + cursor.fetchall()

    before = schema()
    monkeypatch.setattr(demo_scale, "REBUILD_INDEXES_FROM", 1)
    _scale(1)
    assert schema() == before
    assert Resident.objects.filter(created_at__isnull=True).count() == 0
    assert Household.objects.count() == 12


def test_scale_refuses_a_count_below_one(db: None) -> None:
    with pytest.raises(CommandError, match="正整数"):
        call_command("load_demo", "--scale", "0", stdout=io.StringIO())
    assert not Area.objects.exists()
