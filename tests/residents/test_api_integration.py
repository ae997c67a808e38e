"""What another system (an API key) reads of the register (issue 10, item 9).

A key sees the register only inside its own scope area and only what integration needs: which
resident of which household (to match a 12345 caller), the name and phone masked; no ID number,
no tags (低保, 残疾, 独居), no gender or birth year. An unscoped key reads no resident at all, and
the party-member register is for staff: a key reads the public 亮身份 board like anyone else.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.services import api_key_create
from governance.models import OrgNode
from tests.governance.factories import org_child, org_root
from tests.residents.factories import PartyMemberFactory, residents_populate

RESIDENTS_URL = reverse("api:residents-resident-list")
INTEGRATION_FIELDS = {"id", "name", "phone", "household", "is_household_head"}


@pytest.fixture
def people(territory):
    return residents_populate([territory.household1, territory.household2,
                               territory.other_household])


def key_client(scope_area=None) -> APIClient:
    _api_key, raw_key = api_key_create(name="12345 热线", scope_area=scope_area)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    return client


def test_a_scoped_key_lists_only_the_residents_of_its_scope_with_the_integration_fields(
        territory, people, django_assert_max_num_queries):
    client = key_client(scope_area=territory.micro1)
    with django_assert_max_num_queries(5):
        response = client.get(RESIDENTS_URL)
    assert response.status_code == 200
    rows = response.json()["results"]
    inside = {resident.pk: resident for resident in people
              if resident.household_id == territory.household1.pk}
    assert {row["id"] for row in rows} == set(inside)
    for row in rows:
        resident = inside[row["id"]]
        assert set(row) == INTEGRATION_FIELDS
        assert row["name"] == resident.name[0] + "*" * (len(resident.name) - 1)
        assert row["phone"] == f"{resident.phone[:3]}****{resident.phone[-4:]}"
        assert row["household"]["id"] == territory.household1.pk
    detail = client.get(reverse("api:residents-resident-detail", args=[people[0].pk]))
    assert set(detail.json()) == INTEGRATION_FIELDS
    outside = client.get(reverse("api:residents-resident-detail", args=[people[-1].pk]))
    assert outside.status_code == 404


def test_a_scoped_key_lists_the_households_of_its_scope_only(territory, people):
    rows = key_client(scope_area=territory.micro1).get(
        reverse("api:residents-household-list")).json()["results"]
    assert [row["id"] for row in rows] == [territory.household1.pk]


def test_an_unscoped_key_reads_no_resident(territory, people):
    client = key_client()
    response = client.get(RESIDENTS_URL)
    assert response.status_code == 403
    assert response.json()["message"] == "只有工作人员可以查看居民资料。"
    detail = client.get(reverse("api:residents-resident-detail", args=[people[0].pk]))
    assert detail.status_code == 404


def test_a_key_reads_the_public_board_but_not_the_party_member_register(territory, people):
    committee = org_root(area=territory.community)
    branch = org_child(committee, name="长江瑞城小区党支部", kind=OrgNode.Kind.COMPOUND_BRANCH,
                       compound=territory.compound)
    public = PartyMemberFactory(resident=people[0], org_node=branch, is_public=True)
    hidden = PartyMemberFactory(resident=people[1], org_node=branch, is_public=False)
    client = key_client(scope_area=territory.community)
    assert client.get(reverse("api:residents-party-member-list")).status_code == 403
    for member in (public, hidden):
        url = reverse("api:residents-party-member-detail", args=[member.pk])
        assert client.get(url).status_code == 404
    board = client.get(reverse("api:residents-party-member-public")).json()["results"]
    assert [row["id"] for row in board] == [public.pk]
    assert board[0]["name"].endswith("*")


def test_a_key_may_not_look_a_resident_up_by_id_number_even_in_its_scope(territory, people):
    response = key_client(scope_area=territory.micro1).get(
        RESIDENTS_URL, {"id_number": people[0].id_number})
    assert response.status_code == 403
    assert response.json()["message"] == "外部系统不能按身份证号查找居民。"
