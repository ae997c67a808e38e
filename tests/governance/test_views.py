"""The public governance page of a compound: party tree, owners' committee, 亮身份 board."""

from __future__ import annotations

from django.urls import reverse

from governance.models import Body, BodyMember, OrgNode
from governance.services import central_household_set
from territory.models import Area, Compound
from tests.governance.factories import area_child, area_root, org_child, org_root
from tests.residents.factories import HouseholdFactory, PartyMemberFactory, ResidentFactory


def party_build(territory, *, groups: int, members_per_group: int):
    committee = org_root(area=territory.community)
    branch = org_child(committee, name="长江瑞城小区党支部", kind=OrgNode.Kind.COMPOUND_BRANCH,
                       compound=territory.compound)
    for index in range(groups):
        group = org_child(OrgNode.objects.get(pk=branch.pk), name=f"{index + 1:02d}号楼党小组",
                          kind=OrgNode.Kind.BUILDING_GROUP, compound=territory.compound)
        households = [HouseholdFactory(unit=territory.unit1) for _ in range(5)]
        central_household_set(group=group, household=households[0], neighbours=households[1:])
        for member_index in range(members_per_group):
            resident = ResidentFactory(household=households[member_index],
                                       name=f"张{index}{member_index}")
            PartyMemberFactory(resident=resident, org_node=group, duties="楼道巡查",
                               pledges="随叫随到", is_public=member_index != 0)
    committee_body = Body.objects.create(kind=Body.Kind.OWNERS_COMMITTEE,
                                         name="长江瑞城业主委员会", compound=territory.compound)
    BodyMember.objects.bulk_create([
        BodyMember(body=committee_body, name="周建国", role=BodyMember.Role.CHAIR),
        BodyMember(body=committee_body, name="孙丽", role=BodyMember.Role.MEMBER),
        BodyMember(body=committee_body, name="吴书记", role=BodyMember.Role.VICE_CHAIR,
                   note="支部书记兼任"),
    ])
    return branch


def page_url(territory):
    return reverse("governance:compound", args=[territory.compound.pk])


def test_the_page_shows_the_tree_committee_and_masked_board_to_the_public(territory, client):
    party_build(territory, groups=2, members_per_group=3)
    response = client.get(page_url(territory))
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("富春江路社区党委", "长江瑞城小区党支部", "01号楼党小组", "02号楼党小组",
                 "联系 4 户邻户", "周建国", "副主任", "支部书记兼任", "楼道巡查", "随叫随到"):
        assert text in html
    # chair before vice-chair before member
    assert html.index("周建国") < html.index("吴书记") < html.index("孙丽")
    assert "张**" in html and "张01" not in html and "张02" not in html
    assert "张00" not in html  # not public


def test_the_page_shows_full_names_to_staff_in_scope_and_masks_them_for_outsiders(
        territory, client, community_staff, outsider):
    party_build(territory, groups=1, members_per_group=2)
    client.force_login(community_staff)
    assert "张01" in client.get(page_url(territory)).content.decode()
    client.force_login(outsider)
    html = client.get(page_url(territory)).content.decode()
    assert "张01" not in html and "张**" in html


def test_the_page_costs_the_same_queries_for_more_groups_and_members(
        territory, client, django_assert_max_num_queries):
    party_build(territory, groups=1, members_per_group=2)
    with django_assert_max_num_queries(6) as small:
        client.get(page_url(territory))
    org_child(OrgNode.objects.get(kind=OrgNode.Kind.COMMUNITY_COMMITTEE), name="第二支部",
              kind=OrgNode.Kind.COMPOUND_BRANCH, compound=territory.compound)
    for index in range(3):
        group = org_child(OrgNode.objects.get(name="第二支部"), name=f"新{index}号楼党小组",
                          kind=OrgNode.Kind.BUILDING_GROUP, compound=territory.compound)
        for _ in range(4):
            resident = ResidentFactory(household=territory.household2)
            PartyMemberFactory(resident=resident, org_node=group, duties="值守", is_public=True)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(page_url(territory))
    assert response.content.decode().count("member-card") >= 13


def test_the_index_lists_every_compound(territory, client):
    html = client.get(reverse("governance:index")).content.decode()
    assert "黄河小区" in html and "长江瑞城" in html


def test_the_index_goes_straight_to_the_only_compound(db, client):
    street = area_root()
    community = area_child(street, name="富春江路社区", kind=Area.Kind.COMMUNITY)
    compound = Compound.objects.create(name="长江瑞城", community=community)
    response = client.get(reverse("governance:index"))
    assert response.status_code == 302
    assert response["Location"] == reverse("governance:compound", args=[compound.pk])


def test_an_unknown_compound_is_404(territory, client):
    assert client.get(reverse("governance:compound", args=[987654])).status_code == 404


def test_the_page_fits_a_phone_viewport_meta(territory, client):
    html = client.get(page_url(territory)).content.decode()
    assert 'name="viewport"' in html and "governance.css" in html
