"""The admin for the territory, party organisation, bodies and staff posts."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from governance.models import Body, BodyMember, CentralHousehold, OrgNode, StaffPost
from governance.services import central_household_set, staff_groups_ensure
from territory.models import Area, Building
from tests.governance.factories import org_child, org_root
from tests.residents.factories import HouseholdFactory


@pytest.fixture
def staff_client(client, community_staff):
    staff_groups_ensure()
    client.force_login(community_staff)
    return client


@pytest.fixture
def admin_client_street(client, street_admin):
    client.force_login(street_admin)
    return client


def buildings_add(territory, count):
    start = Building.objects.count()
    for index in range(count):
        Building.objects.create(compound=territory.compound, micro_grid=territory.micro2,
                                number=f"{100 + start + index}")


def posts_add(territory, count):
    StaffPost.objects.bulk_create([
        StaffPost(kind=StaffPost.Kind.MICROGRID_WORKER, holder_name=f"网格员{index}",
                  area=territory.micro1, compound=territory.compound,
                  building=territory.building1, phone=f"1370000{index:04d}",
                  starts_on=datetime.date(2024, 1, 1))
        for index in range(count)])


def bodies_add(territory, count):
    for index in range(count):
        body = Body.objects.create(kind=Body.Kind.PARTNER_UNIT,
                                   name=f"共建单位{Body.objects.count()}",
                                   compound=territory.compound, contact_phone="13712345678")
        BodyMember.objects.create(body=body, name=f"成员{index}")


def groups_add(territory, count):
    committee = OrgNode.objects.filter(kind="committee").first() or org_root(
        area=territory.community)
    branch = org_child(committee, name=f"支部{OrgNode.objects.count()}", kind="branch",
                       area=territory.community, compound=territory.compound)
    for index in range(count):
        group = org_child(OrgNode.objects.get(pk=branch.pk), name=f"党小组{index}", kind="group",
                          area=territory.community)
        households = [HouseholdFactory(unit=territory.unit1) for _ in range(3)]
        central_household_set(group=group, household=households[0], neighbours=households[1:])


CHANGELISTS = {
    "territory_building": buildings_add,
    "governance_staffpost": posts_add,
    "governance_body": bodies_add,
    "governance_centralhousehold": groups_add,
    "governance_orgnode": groups_add,
    "territory_compound": lambda territory, count: None,
    "territory_area": lambda territory, count: None,
}


@pytest.mark.parametrize("name", CHANGELISTS)
def test_each_changelist_costs_the_same_queries_with_more_rows(
        territory, staff_client, name, django_assert_max_num_queries):
    grow = CHANGELISTS[name]
    grow(territory, 2)
    url = reverse(f"admin:{name}_changelist")
    with django_assert_max_num_queries(30) as few:
        response = staff_client.get(url)
    assert response.status_code == 200
    grow(territory, 6)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = staff_client.get(url)
    assert response.status_code == 200


def test_community_staff_see_only_their_communitys_staff_posts_and_buildings(
        territory, staff_client):
    posts_add(territory, 2)
    StaffPost.objects.create(kind=StaffPost.Kind.GRID_WORKER, holder_name="黄河网格员",
                             area=territory.other_grid, starts_on=datetime.date(2024, 1, 1))
    html = staff_client.get(reverse("admin:governance_staffpost_changelist")).content.decode()
    assert "网格员0" in html and "黄河网格员" not in html
    html = staff_client.get(reverse("admin:territory_building_changelist")).content.decode()
    assert "长江瑞城 1号楼" in html and "黄河小区" not in html


def listed(response, attribute):
    assert response.status_code == 200
    return [getattr(row, attribute) for row in response.context["cl"].result_list]


def test_staff_posts_are_found_by_holder_and_full_phone(territory, admin_client_street):
    posts_add(territory, 3)
    url = reverse("admin:governance_staffpost_changelist")
    assert sorted(listed(admin_client_street.get(url), "holder_name")) == [
        "网格员0", "网格员1", "网格员2"]
    assert listed(admin_client_street.get(url, {"q": "13700000002"}), "holder_name") == [
        "网格员2"]
    assert listed(admin_client_street.get(url, {"q": "网格员1"}), "holder_name") == ["网格员1"]


def test_staff_posts_filter_by_community_and_grid(territory, admin_client_street):
    posts_add(territory, 1)
    StaffPost.objects.create(kind=StaffPost.Kind.GRID_WORKER, holder_name="黄河网格员",
                             area=territory.other_grid, starts_on=datetime.date(2024, 1, 1))
    url = reverse("admin:governance_staffpost_changelist")
    assert sorted(listed(admin_client_street.get(url), "holder_name")) == ["网格员0", "黄河网格员"]
    assert listed(admin_client_street.get(url, {"community": territory.community.pk}),
                  "holder_name") == ["网格员0"]
    assert listed(admin_client_street.get(url, {"grid": territory.other_grid.pk}),
                  "holder_name") == ["黄河网格员"]


def test_buildings_filter_by_community_grid_and_micro_grid(territory, admin_client_street):
    url = reverse("admin:territory_building_changelist")
    assert listed(admin_client_street.get(url), "number") == ["1", "2", "3", "9"]
    assert listed(admin_client_street.get(url, {"community": territory.other_community.pk}),
                  "number") == ["9"]
    assert listed(admin_client_street.get(url, {"grid": territory.grid.pk}), "number") == [
        "1", "2", "3"]
    assert listed(admin_client_street.get(url, {"micro_grid": territory.micro2.pk}),
                  "number") == ["3"]
    assert listed(admin_client_street.get(url, {"q": "9"}), "number") == ["9"]


def test_an_outsiders_change_page_for_a_building_is_not_found(territory, staff_client):
    url = reverse("admin:territory_building_change", args=[territory.other_building.pk])
    response = staff_client.get(url)
    assert response.status_code == 302  # the admin redirects "does not exist" to the index
    assert not Building.objects.filter(pk=territory.other_building.pk, number="x").exists()


def tree_add(client, model, data):
    url = reverse(f"admin:{model}_add")
    return client.post(url, {"treebeard_position": "sorted-child", "_save": "1", **data})


def test_the_area_add_form_refuses_a_grid_under_the_street(territory, admin_client_street):
    response = tree_add(admin_client_street, "territory_area", {
        "name": "错网格", "kind": "grid", "code": "", "treebeard_ref_node": territory.street.pk})
    assert response.status_code == 200
    assert "“网格”不能直接设在“街道”之下" in response.content.decode()
    assert not Area.objects.filter(name="错网格").exists()


def test_the_area_add_form_places_a_micro_grid_under_a_grid(territory, admin_client_street):
    response = tree_add(admin_client_street, "territory_area", {
        "name": "微网格三", "kind": "microgrid", "code": "",
        "treebeard_ref_node": territory.grid.pk})
    assert response.status_code == 302
    created = Area.objects.get(name="微网格三")
    assert created.path.startswith(Area.objects.get(pk=territory.grid.pk).path)


def test_the_area_add_form_refuses_a_second_kind_of_root(territory, admin_client_street):
    response = tree_add(admin_client_street, "territory_area", {
        "name": "孤立社区", "kind": "community", "code": "", "treebeard_ref_node": ""})
    assert "“社区”不能直接设在“顶层”之下" in response.content.decode()


def test_the_org_add_form_refuses_a_building_group_under_the_committee(territory,
                                                                      admin_client_street):
    committee = org_root(area=territory.community)
    response = tree_add(admin_client_street, "governance_orgnode", {
        "name": "1号楼党小组", "kind": "group", "treebeard_ref_node": committee.pk})
    assert "“楼栋党小组”不能直接设在“社区党委”之下" in response.content.decode()
    assert not OrgNode.objects.filter(name="1号楼党小组").exists()


def test_a_drag_and_drop_move_that_breaks_the_kind_rule_is_refused(territory,
                                                                  admin_client_street):
    url = reverse("admin:territory_area_changelist") + "move/"
    response = admin_client_street.post(url, {"node": territory.micro1.pk,
                                              "target": territory.community.pk,
                                              "relation": "child"})
    assert response.status_code == 400
    assert Area.objects.get(pk=territory.micro1.pk).path.startswith(
        Area.objects.get(pk=territory.grid.pk).path)
    response = admin_client_street.post(url, {"node": territory.micro1.pk,
                                              "target": territory.other_grid.pk,
                                              "relation": "child"})
    assert response.status_code == 200


def test_community_staff_cannot_change_an_area_outside_their_scope(territory, staff_client):
    staff_groups_ensure()
    response = staff_client.get(reverse("admin:territory_area_change",
                                        args=[territory.other_grid.pk]))
    assert response.status_code in (200, 403)
    if response.status_code == 200:  # view-only page: no save button
        assert 'name="_save"' not in response.content.decode()


def test_the_central_household_form_explains_the_neighbour_limit_in_chinese(
        territory, admin_client_street):
    committee = org_root(area=territory.community)
    branch = org_child(committee, name="支部", kind="branch")
    group = org_child(branch, name="1号楼党小组", kind="group")
    neighbours = [HouseholdFactory(unit=territory.unit1) for _ in range(10)]
    response = admin_client_street.post(reverse("admin:governance_centralhousehold_add"), {
        "group": group.pk, "household": territory.household1.pk,
        "neighbours": [household.pk for household in neighbours], "_save": "1"})
    assert "每个党员中心户须联系 1 至 9 户邻户，现为 10 户。" in response.content.decode()
    assert not CentralHousehold.objects.exists()
    response = admin_client_street.post(reverse("admin:governance_centralhousehold_add"), {
        "group": group.pk, "household": territory.household1.pk,
        "neighbours": [household.pk for household in neighbours[:4]], "_save": "1"})
    assert response.status_code == 302
    assert CentralHousehold.objects.get().neighbours.count() == 4
