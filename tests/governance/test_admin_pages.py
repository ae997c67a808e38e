"""Every add and change page of the governance and residents admins renders."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from governance.models import Body, BodyMember, StaffPost
from governance.services import central_household_set
from residents.models import PartyMember
from tests.governance.factories import org_child, org_root
from tests.residents.factories import HouseholdFactory, ResidentFactory


@pytest.fixture
def objects(territory):
    committee = org_root(area=territory.community)
    branch = org_child(committee, name="支部", kind="branch", compound=territory.compound)
    group = org_child(branch, name="1号楼党小组", kind="group", building=territory.building1)
    neighbours = [HouseholdFactory(unit=territory.unit1) for _ in range(2)]
    central = central_household_set(group=group, household=territory.household1,
                                    neighbours=neighbours)
    resident = ResidentFactory(household=territory.household1)
    body = Body.objects.create(kind=Body.Kind.OWNERS_COMMITTEE, name="业委会",
                               compound=territory.compound)
    BodyMember.objects.create(body=body, name="周建国", resident=resident)
    post = StaffPost.objects.create(kind=StaffPost.Kind.GRID_WORKER, holder_name="张",
                                    area=territory.grid, starts_on=datetime.date(2024, 1, 1))
    member = PartyMember.objects.create(resident=resident, org_node=group,
                                        kind=PartyMember.Kind.SELF_MANAGED)
    return {
        "territory_area": territory.micro1, "governance_orgnode": group,
        "territory_compound": territory.compound, "territory_building": territory.building1,
        "governance_centralhousehold": central, "governance_body": body,
        "governance_staffpost": post, "residents_household": territory.household1,
        "residents_resident": resident, "residents_partymember": member,
    }


def test_every_add_and_change_page_renders_for_the_street_admin(territory, client,
                                                                street_admin, objects):
    client.force_login(street_admin)
    for name, obj in objects.items():
        assert client.get(reverse(f"admin:{name}_add")).status_code == 200, name
        response = client.get(reverse(f"admin:{name}_change", args=[obj.pk]))
        assert response.status_code == 200, name


def test_autocomplete_of_households_is_scoped(territory, client, community_staff):
    from governance.services import staff_groups_ensure

    staff_groups_ensure()
    client.force_login(community_staff)
    response = client.get(reverse("admin:autocomplete"), {
        "app_label": "governance", "model_name": "centralhousehold",
        "field_name": "household", "term": "0"})
    assert response.status_code == 200
    ids = {int(row["id"]) for row in response.json()["results"]}
    assert territory.household1.pk in ids
    assert territory.other_household.pk not in ids
