"""Read API for households, residents and party members: scope, masking, 404 for outsiders."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from governance.models import OrgNode
from residents.models import PartyMember
from tests.accounts.factories import UserFactory
from tests.governance.factories import org_child, org_root
from tests.residents.factories import PartyMemberFactory, residents_populate


@pytest.fixture
def people(territory):
    return residents_populate([territory.household1, territory.household2,
                               territory.other_household])


@pytest.fixture
def members(territory, people):
    committee = org_root(area=territory.community)
    branch = org_child(committee, name="长江瑞城小区党支部", kind=OrgNode.Kind.COMPOUND_BRANCH,
                       compound=territory.compound)
    other = org_root(name="黄河路社区党委", area=territory.other_community)
    created = []
    for index, resident in enumerate(people):
        org_node = other if resident.household_id == territory.other_household.pk else branch
        created.append(PartyMemberFactory(resident=resident, org_node=org_node,
                                          is_public=index % 3 != 2, duties="楼道巡查",
                                          pledges="每周一次"))
    return created


def client_for(user):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_a_grid_worker_lists_only_residents_in_scope_masked(territory, grid_worker, people,
                                                            django_assert_max_num_queries):
    client = client_for(grid_worker)
    with django_assert_max_num_queries(3):
        rows = results(client.get(reverse("api:residents-resident-list")))
    assert len(rows) == 6
    own = {resident.pk: resident for resident in people}
    for row in rows:
        phone, id_number = own[row["id"]].phone, own[row["id"]].id_number
        assert row["phone"] == f"{phone[:3]}****{phone[-4:]}"
        assert row["id_number"] == f"{id_number[:4]}**********{id_number[-4:]}"


def test_a_grid_worker_reveals_one_whole_value_in_scope_and_it_is_audited(
        territory, grid_worker, people):
    from core.models import AuditEvent

    client = client_for(grid_worker)
    inside, outside = people[0], people[-1]
    url = reverse("api:residents-resident-reveal", args=[inside.pk])
    response = client.post(url, {"field": "id_number"}, format="json")
    assert response.json() == {"field": "id_number", "value": inside.id_number}
    event = AuditEvent.objects.get()
    assert (event.action, event.object_type, event.object_id, event.fields, event.actor) == (
        "reveal", "residents.resident", str(inside.pk), ["id_number"], grid_worker)
    assert client.post(url, {"field": "name"}, format="json").status_code == 400
    assert client.get(url).status_code == 405
    outside_url = reverse("api:residents-resident-reveal", args=[outside.pk])
    assert client.post(outside_url, {"field": "phone"}, format="json").status_code == 404
    assert AuditEvent.objects.count() == 1


def test_an_external_system_with_a_narrow_scope_lists_and_reveals_only_there(
        territory, people, django_assert_max_num_queries):
    # Until issue 10 (item 9) a key listed the whole street's register; now only its scope area
    # (tests/residents/test_api_integration.py has the field set).
    system = UserFactory(username="hotline", role=User.Role.EXTERNAL_SYSTEM,
                         scope_area=territory.micro1)
    with django_assert_max_num_queries(3):
        rows = results(client_for(system).get(reverse("api:residents-resident-list")))
    inside = {resident.pk for resident in people
              if resident.household_id == territory.household1.pk}  # 微网格一
    assert {row["id"] for row in rows} == inside
    assert all("****" in row["phone"] and "id_number" not in row for row in rows)
    for resident in people:
        url = reverse("api:residents-resident-reveal", args=[resident.pk])
        reveal = client_for(system).post(url, {"field": "phone"}, format="json")
        assert reveal.status_code == (200 if resident.pk in inside else 404)
        # The ID number is not in an external system's field set, even in its scope.
        reveal = client_for(system).post(url, {"field": "id_number"}, format="json")
        assert reveal.status_code == 404


def test_a_resident_may_not_list_residents(territory, resident_user):
    response = client_for(resident_user).get(reverse("api:residents-resident-list"))
    assert response.status_code == 403
    assert response.json()["message"] == "只有工作人员可以查看居民资料。"


def test_an_outsider_gets_404_for_a_resident_outside_scope(territory, outsider, people):
    inside = people[0]
    response = client_for(outsider).get(reverse("api:residents-resident-detail", args=[inside.pk]))
    assert response.status_code == 404
    mine = people[-1]
    response = client_for(outsider).get(reverse("api:residents-resident-detail", args=[mine.pk]))
    assert response.status_code == 200
    assert response.json()["phone"] == f"{mine.phone[:3]}****{mine.phone[-4:]}"


def test_residents_filter_by_tag_and_building(territory, community_staff, people):
    client = client_for(community_staff)
    rows = results(client.get(reverse("api:residents-resident-list"), {"tag": "elder_alone"}))
    assert len(rows) == 2
    rows = results(client.get(reverse("api:residents-resident-list"),
                              {"building": territory.building3.pk}))
    assert {row["household"]["id"] for row in rows} == {territory.household2.pk}


def test_a_bad_filter_value_is_a_chinese_400(territory, community_staff):
    response = client_for(community_staff).get(reverse("api:residents-resident-list"),
                                               {"tag": "rich"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_households_are_scoped_for_staff_and_own_for_residents(
        territory, microgrid_worker, resident_user, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        rows = results(client_for(microgrid_worker).get(reverse("api:residents-household-list")))
    assert [row["id"] for row in rows] == [territory.household1.pk]
    rows = results(client_for(resident_user).get(reverse("api:residents-household-list")))
    assert [row["id"] for row in rows] == [territory.household1.pk]
    assert rows[0]["compound"] == "长江瑞城"


def test_a_resident_gets_404_for_another_household(territory, resident_user):
    client = client_for(resident_user)
    url = reverse("api:residents-household-detail", args=[territory.household2.pk])
    assert client.get(url).status_code == 404
    url = reverse("api:residents-household-detail", args=[territory.household1.pk])
    assert client.get(url).status_code == 200


def test_an_outsider_gets_404_for_a_household_outside_scope(territory, outsider):
    url = reverse("api:residents-household-detail", args=[territory.household1.pk])
    assert client_for(outsider).get(url).status_code == 404


def test_anonymous_users_cannot_read_households(territory):
    assert client_for(None).get(reverse("api:residents-household-list")).status_code in (401, 403)


def test_party_members_are_scoped_and_masked(territory, community_staff, outsider, members,
                                             django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        rows = results(client_for(community_staff).get(
            reverse("api:residents-party-member-list")))
    assert len(rows) == 6
    assert all("****" in row["phone"] for row in rows)
    inside = members[0]
    url = reverse("api:residents-party-member-detail", args=[inside.pk])
    assert client_for(outsider).get(url).status_code == 404


def test_the_public_board_masks_names_for_the_public_and_shows_only_public_members(
        territory, members, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        rows = results(client_for(None).get(reverse("api:residents-party-member-public")))
    public = [member for member in members if member.is_public]
    assert len(rows) == len(public) == 6
    names = {row["name"] for row in rows}
    assert all(name.endswith("*") and "*" in name for name in names)
    assert {"phone", "id_number"}.isdisjoint(rows[0])
    assert rows[0]["duties"] == "楼道巡查"


def test_the_public_board_shows_full_names_to_staff_in_scope_only(territory, community_staff,
                                                                  outsider, members):
    rows = results(client_for(community_staff).get(
        reverse("api:residents-party-member-public"), {"compound": territory.compound.pk}))
    full_names = {member.resident.name for member in members
                  if member.is_public and member.org_node.kind != "committee"}
    assert {row["name"] for row in rows} == full_names
    rows = results(client_for(outsider).get(
        reverse("api:residents-party-member-public"), {"compound": territory.compound.pk}))
    assert all(row["name"].endswith("*") for row in rows)


def test_a_public_board_filter_by_an_unknown_compound_is_empty(territory, members):
    rows = results(client_for(None).get(reverse("api:residents-party-member-public"),
                                        {"compound": 999999}))
    assert rows == []
    assert PartyMember.objects.count() == 9
