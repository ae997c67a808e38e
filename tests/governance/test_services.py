"""The kind rules of both trees, central-household neighbour limits and the staff groups."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from accounts.models import User
from governance.models import CentralHousehold, OrgNode
from governance.services import (
    STAFF_GROUP_NAMES,
    central_household_set,
    org_node_create,
    org_node_move,
    staff_groups_ensure,
)
from residents.models import Household
from territory.models import Area
from territory.services import area_create, area_move
from tests.conftest import territory_areas
from tests.governance.factories import area_child, area_root, org_child, org_root
from tests.residents.factories import HouseholdFactory

AREA_KINDS = [*Area.Kind.values, None]
ORG_KINDS = [*OrgNode.Kind.values, None]
AREA_ALLOWED = {("street", None), ("community", "street"), ("grid", "community"),
                ("microgrid", "grid")}
ORG_ALLOWED = {("committee", None), ("general_branch", "committee"), ("branch", "committee"),
               ("branch", "general_branch"), ("group", "branch")}


def area_of_kind(kind: str) -> Area:
    """A fresh, valid chain from the street down to a node of `kind`."""
    node = Area.objects.add_root({"name": f"街道{Area.objects.count()}", "kind": "street"})
    for next_kind in ("community", "grid", "microgrid"):
        if node.kind == kind:
            break
        node = Area.objects.add_child(node, {"name": f"{next_kind}{node.pk}", "kind": next_kind})
    return node


def org_of_kind(kind: str) -> OrgNode:
    node = org_root(name=f"党委{OrgNode.objects.count()}")
    chain = {"committee": [], "general_branch": ["general_branch"], "branch": ["branch"],
             "group": ["branch", "group"]}[kind]
    for next_kind in chain:
        node = org_child(node, name=f"{next_kind}{node.pk}", kind=next_kind)
    return node


@pytest.mark.parametrize(("kind", "parent_kind"),
                         list(itertools.product(Area.Kind.values, AREA_KINDS)))
def test_the_territory_kind_rule_allows_and_refuses_each_pairing(db, kind, parent_kind):
    parent = area_of_kind(parent_kind) if parent_kind else None
    if (kind, parent_kind) in AREA_ALLOWED:
        area = area_create(parent=parent, name="新节点", kind=kind)
        area.full_clean()  # the model's own check agrees once the node sits in the tree
        assert area.depth == (parent.depth + 1 if parent else 1)
    else:
        before = Area.objects.count()
        with pytest.raises(ValidationError, match="不能直接设在"):
            area_create(parent=parent, name="新节点", kind=kind)
        assert Area.objects.count() == before


@pytest.mark.parametrize(("kind", "parent_kind"),
                         list(itertools.product(OrgNode.Kind.values, ORG_KINDS)))
def test_the_party_kind_rule_allows_and_refuses_each_pairing(db, kind, parent_kind):
    parent = org_of_kind(parent_kind) if parent_kind else None
    if (kind, parent_kind) in ORG_ALLOWED:
        node = org_node_create(parent=parent, name="新组织", kind=kind)
        node.full_clean()
    else:
        with pytest.raises(ValidationError, match="不能直接设在"):
            org_node_create(parent=parent, name="新组织", kind=kind)


def test_moving_a_grid_to_another_community_is_allowed_but_not_under_a_grid(territory):
    moved = area_move(area=territory.grid, parent=territory.other_community)
    assert moved.path.startswith(Area.objects.get(pk=territory.other_community.pk).path)
    # the grid's micro-grids travelled with it
    assert Area.objects.within(moved).count() == 3
    with pytest.raises(ValidationError, match="“网格”不能直接设在“网格”之下"):
        area_move(area=moved, parent=territory.other_grid)


def test_a_building_group_cannot_move_under_the_committee(db):
    committee = org_root()
    branch = org_child(committee, name="支部", kind=OrgNode.Kind.COMPOUND_BRANCH)
    group = org_child(branch, name="1号楼党小组", kind=OrgNode.Kind.BUILDING_GROUP)
    with pytest.raises(ValidationError, match="“楼栋党小组”不能直接设在“社区党委”之下"):
        org_node_move(node=group, parent=committee)
    other_branch = org_child(committee, name="另一支部", kind=OrgNode.Kind.COMPOUND_BRANCH)
    assert org_node_move(node=group, parent=other_branch).path.startswith(
        OrgNode.objects.get(pk=other_branch.pk).path)


@pytest.fixture
def building_group(territory):
    committee = org_root(area=territory.community)
    branch = org_child(committee, name="支部", kind=OrgNode.Kind.COMPOUND_BRANCH)
    return org_child(branch, name="1号楼党小组", kind=OrgNode.Kind.BUILDING_GROUP,
                     building=territory.building1)


@pytest.fixture
def neighbours(territory):
    return [HouseholdFactory(unit=territory.unit1, room=f"02{index:02d}") for index in range(10)]


@pytest.mark.parametrize("count", [1, 4, 9])
def test_a_central_household_may_look_after_one_to_nine_neighbours(territory, building_group,
                                                                   neighbours, count):
    central = central_household_set(group=building_group, household=territory.household1,
                                    neighbours=neighbours[:count])
    assert central.neighbours.count() == count


@pytest.mark.parametrize("count", [0, 10])
def test_a_central_household_refuses_zero_or_more_than_nine_neighbours(
        territory, building_group, neighbours, count):
    with pytest.raises(ValidationError, match="须联系 1 至 9 户邻户") as caught:
        central_household_set(group=building_group, household=territory.household1,
                              neighbours=neighbours[:count])
    assert f"现为 {count} 户" in str(caught.value)
    assert not CentralHousehold.objects.exists()


def test_a_central_household_cannot_be_its_own_neighbour(territory, building_group, neighbours):
    with pytest.raises(ValidationError, match="不能把自己"):
        central_household_set(group=building_group, household=territory.household1,
                              neighbours=[territory.household1, *neighbours[:3]])


def test_only_a_building_group_has_a_central_household(territory, building_group, neighbours):
    branch = OrgNode.objects.get(kind=OrgNode.Kind.COMPOUND_BRANCH)
    with pytest.raises(ValidationError, match="只有楼栋党小组"):
        central_household_set(group=branch, household=territory.household1,
                              neighbours=neighbours[:2])


def test_setting_the_central_household_again_replaces_household_and_neighbours(
        territory, building_group, neighbours):
    central_household_set(group=building_group, household=territory.household1,
                          neighbours=neighbours[:4])
    central = central_household_set(group=building_group, household=neighbours[9],
                                    neighbours=neighbours[:2])
    assert CentralHousehold.objects.count() == 1
    assert central.household_id == neighbours[9].pk
    assert set(central.neighbours.values_list("pk", flat=True)) == {
        neighbours[0].pk, neighbours[1].pk}
    assert Household.objects.count() == 13


def test_staff_groups_are_created_in_chinese_with_permissions_and_members(
        territory, community_staff):
    groups = staff_groups_ensure()
    groups_again = staff_groups_ensure()  # idempotent
    assert {group.pk for group in groups.values()} == {group.pk for group in groups_again.values()}
    assert set(Group.objects.values_list("name", flat=True)) >= set(STAFF_GROUP_NAMES.values())
    community_group = groups["community_staff"]
    assert community_group.name == "社区工作人员"
    assert community_staff.groups.filter(pk=community_group.pk).exists()
    user = User.objects.get(pk=community_staff.pk)
    assert user.has_perm("residents.change_resident")
    assert user.has_perm("residents.view_partymember")
    assert not user.has_perm("residents.delete_resident")
    assert not user.has_perm("territory.change_area")


def test_staff_groups_keep_permissions_other_apps_added(territory):
    from django.contrib.auth.models import Permission

    group = staff_groups_ensure()["grid_worker"]
    foreign = Permission.objects.exclude(
        content_type__app_label__in=("territory", "governance", "residents")).first()
    group.permissions.add(foreign)
    staff_groups_ensure()
    assert group.permissions.filter(pk=foreign.pk).exists()


@pytest.mark.django_db
def test_the_territory_fixture_writes_the_tree_add_child_writes():
    """tests/conftest.territory_areas writes the shared territory in one INSERT, for speed: its
    rows (and the objects the tests hold) must be the ones treebeard's add_child would make."""
    def rows():
        return list(Area.objects.order_by("pk").values_list("path", "depth", "numchild", "name",
                                                             "kind"))

    held = [(area.path, area.depth, area.numchild, area.name, area.kind)
            for area in territory_areas()]
    written = rows()
    assert held == written
    assert Area.objects.find_problems() == ([], [], [], [], [])
    Area.objects.all().delete()
    street = area_root()
    community = area_child(street, name="富春江路社区", kind=Area.Kind.COMMUNITY)
    grid = area_child(community, name="网格一", kind=Area.Kind.GRID)
    area_child(grid, name="微网格一", kind=Area.Kind.MICROGRID)
    area_child(grid, name="微网格二", kind=Area.Kind.MICROGRID)
    other_community = area_child(street, name="黄河路社区", kind=Area.Kind.COMMUNITY)
    other_grid = area_child(other_community, name="黄河网格", kind=Area.Kind.GRID)
    area_child(other_grid, name="黄河微网格", kind=Area.Kind.MICROGRID)
    assert rows() == written
