"""Households, residents and party members in the admin: scope, masking, search, import/export."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import User
from governance.models import OrgNode
from governance.services import staff_groups_ensure
from residents.models import Household, PartyMember, Resident
from residents.resources import ResidentResource
from residents.selectors import resident_list
from tests.accounts.factories import UserFactory
from tests.governance.factories import org_root
from tests.residents.factories import HouseholdFactory, PartyMemberFactory, residents_populate
from tests.residents.test_import import RESIDENT_HEADERS, csv_bytes, xlsx


@pytest.fixture
def people(territory):
    return residents_populate([territory.household1, territory.household2,
                               territory.other_household])


@pytest.fixture
def staff_client(client, community_staff):
    staff_groups_ensure()
    client.force_login(community_staff)
    return client


@pytest.fixture
def narrow_superuser(territory):
    """A superuser (sees every row) whose own scope is only 微网格一."""
    return UserFactory(username="district", role=User.Role.STREET_ADMIN, is_staff=True,
                       is_superuser=True, scope_area=territory.micro1)


def rows_of(response):
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def more_people(territory, households):
    residents = residents_populate([HouseholdFactory(unit=territory.unit1)
                                    for _ in range(households)])
    committee = OrgNode.objects.first() or org_root(area=territory.community)
    for resident in residents:
        PartyMemberFactory(resident=resident, org_node=committee)


@pytest.mark.parametrize("model", ["household", "resident", "partymember"])
def test_each_changelist_costs_the_same_queries_with_more_rows(
        territory, staff_client, people, model, django_assert_max_num_queries):
    more_people(territory, 2)
    url = reverse(f"admin:residents_{model}_changelist")
    with django_assert_max_num_queries(30) as few:
        rows_of(staff_client.get(url))
    more_people(territory, 6)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(rows_of(staff_client.get(url))) > 6


def reveal_url(resident, field):
    return reverse("admin:residents_resident_reveal", args=[resident.pk, field])


def test_community_staff_see_only_their_residents_masked_with_a_reveal_button(
        territory, staff_client, people):
    response = staff_client.get(reverse("admin:residents_resident_changelist"))
    listed = {resident.pk for resident in rows_of(response)}
    inside = {resident.pk for resident in people
              if resident.household_id != territory.other_household.pk}
    assert listed == inside
    html = response.content.decode()
    for resident in people:
        assert resident.phone not in html and resident.id_number not in html
        assert (f"{resident.phone[:3]}****{resident.phone[-4:]}" in html) is (resident.pk in inside)
        assert (reveal_url(resident, "phone") in html) is (resident.pk in inside)
    assert "js/reveal.js" in html  # the 显示 button's script


def test_a_superuser_with_a_narrow_scope_may_reveal_only_inside_it(
        territory, client, narrow_superuser, people):
    client.force_login(narrow_superuser)
    html = client.get(reverse("admin:residents_resident_changelist")).content.decode()
    for resident in people:
        inside = resident.household_id == territory.household1.pk
        assert resident.phone not in html and resident.id_number not in html
        assert f"{resident.phone[:3]}****{resident.phone[-4:]}" in html
        assert (reveal_url(resident, "id_number") in html) is inside
        response = client.post(reveal_url(resident, "id_number"))
        assert response.status_code == (200 if inside else 404)
        if inside:
            assert response.json() == {"value": resident.id_number}


def test_searching_a_full_phone_finds_the_resident_only_inside_the_reveal_scope_masked(
        territory, client, narrow_superuser, people):
    client.force_login(narrow_superuser)
    url = reverse("admin:residents_resident_changelist")
    # 黄河小区 is listed to this superuser but outside their reveal scope: a search by its
    # whole number would be an oracle (tests/core/test_protected_lookups.py).
    assert rows_of(client.get(url, {"q": people[-1].phone})) == []
    target = people[0]  # 微网格一: inside the narrow scope
    response = client.get(url, {"q": target.phone})
    assert [resident.pk for resident in rows_of(response)] == [target.pk]
    html = response.content.decode()
    # (the full number still appears in the search box and in links that keep the search)
    cells = re.findall(r'class="field-phone_display"><span class="revealable">([^<]*)<', html)
    assert cells == [f"{target.phone[:3]}****{target.phone[-4:]}"]


def pks(response):
    return {row.pk for row in rows_of(response)}


def test_residents_filter_by_community_grid_building_and_tag(territory, client, street_admin,
                                                            people):
    """The street admin lists all nine residents of the three households; each filter keeps
    only its own."""
    client.force_login(street_admin)
    url = reverse("admin:residents_resident_changelist")

    def living_in(*households):
        return {resident.pk for resident in people
                if resident.household_id in {household.pk for household in households}}

    assert pks(client.get(url)) == {resident.pk for resident in people}
    assert pks(client.get(url, {"building": territory.building3.pk})) == living_in(
        territory.household2)
    assert pks(client.get(url, {"grid": territory.grid.pk})) == living_in(
        territory.household1, territory.household2)
    assert pks(client.get(url, {"community": territory.other_community.pk})) == living_in(
        territory.other_household)
    elders = {resident.pk for resident in people if "elder_alone" in resident.tags}
    assert 0 < len(elders) < len(people)
    assert pks(client.get(url, {"tag": "elder_alone"})) == elders


def test_households_filter_by_community_grid_and_building(territory, client, street_admin):
    client.force_login(street_admin)
    url = reverse("admin:residents_household_changelist")
    ours = {territory.household1.pk, territory.household2.pk}
    assert pks(client.get(url)) == ours | {territory.other_household.pk}
    assert pks(client.get(url, {"community": territory.community.pk})) == ours
    assert pks(client.get(url, {"grid": territory.other_grid.pk})) == {
        territory.other_household.pk}
    assert pks(client.get(url, {"building": territory.building3.pk})) == {
        territory.household2.pk}


def test_party_members_filter_by_community_and_grid(territory, client, street_admin, people):
    committee = org_root(area=territory.community)
    inside = PartyMemberFactory(resident=people[0], org_node=committee)
    outside = PartyMemberFactory(resident=people[-1], org_node=committee)
    client.force_login(street_admin)
    url = reverse("admin:residents_partymember_changelist")
    assert pks(client.get(url)) == {inside.pk, outside.pk}
    assert pks(client.get(url, {"community": territory.community.pk})) == {inside.pk}
    assert pks(client.get(url, {"grid": territory.other_grid.pk})) == {outside.pk}


def test_the_area_and_building_filters_offer_only_choices_in_the_viewers_scope(territory,
                                                                               staff_client):
    response = staff_client.get(reverse("admin:residents_household_changelist"))
    offered = {spec.parameter_name: {label for _value, label in spec.lookup_choices}
               for spec in response.context["cl"].filter_specs
               if getattr(spec, "parameter_name", None) in ("community", "grid", "building")}
    assert offered == {"community": {"富春江路社区"}, "grid": {"网格一"},
                       "building": {str(territory.building1), str(territory.building2),
                                    str(territory.building3)}}


def test_households_are_found_by_a_residents_name_or_full_phone(territory, staff_client,
                                                                people):
    url = reverse("admin:residents_household_changelist")
    rows = rows_of(staff_client.get(url, {"q": people[4].phone}))
    assert [household.pk for household in rows] == [territory.household2.pk]
    rows = rows_of(staff_client.get(url, {"q": people[0].name}))
    assert [household.pk for household in rows] == [territory.household1.pk]


def test_an_outsiders_resident_change_page_is_not_reachable(territory, staff_client, people):
    url = reverse("admin:residents_resident_change", args=[people[-1].pk])
    assert staff_client.get(url).status_code == 302


def admin_import(client, model, content, name, format_index):
    url = reverse(f"admin:residents_{model}_import")
    upload = SimpleUploadedFile(name, content)
    return client.post(url, {"import_file": upload, "format": format_index, "resource": 0})


def test_the_admin_import_lists_bad_rows_and_writes_nothing(territory, staff_client):
    content = xlsx(RESIDENT_HEADERS, [
        ["长江瑞城", 1, 1, "0101", "赵大山", "13811112222", "", "男", 1950, "", "是"],
        ["长江瑞城", 1, 1, "9999", "孙无家", "13811114444", "", "女", 1960, "", "否"],
    ])
    response = admin_import(staff_client, "resident", content, "residents.xlsx", 0)
    assert response.status_code == 200
    result = response.context["result"]
    assert result.has_validation_errors()
    assert [row.number for row in result.invalid_rows] == [2]
    assert "门牌号" in result.invalid_rows[0].error_dict
    assert "没有门牌号 9999" in response.content.decode()
    assert "confirm_form" not in response.context or response.context["confirm_form"] is None
    assert not Resident.objects.filter(name__in=["赵大山", "孙无家"]).exists()


def test_the_admin_import_of_a_good_csv_file_writes_it_after_confirmation(territory,
                                                                          staff_client):
    content = csv_bytes(RESIDENT_HEADERS, [
        ["长江瑞城", "1", "1", "0101", "赵大山", "13811112222", "", "男", "1950", "", "是"]])
    response = admin_import(staff_client, "resident", content, "residents.csv", 1)
    confirm = response.context["confirm_form"]
    assert not Resident.objects.filter(name="赵大山").exists()  # the dry run wrote nothing
    response = staff_client.post(reverse("admin:residents_resident_process_import"),
                                 {**confirm.initial})
    assert response.status_code == 302
    assert Resident.objects.get(name="赵大山").household == territory.household1


def test_a_confirmed_import_that_fails_after_the_dry_run_writes_nothing(territory,
                                                                       staff_client):
    content = csv_bytes(RESIDENT_HEADERS, [
        ["长江瑞城", "1", "1", "0101", "赵大山", "13811112222", "", "男", "1950", "", "是"],
        ["长江瑞城", "3", "1", "0301", "钱小梅", "13811113333", "", "女", "1980", "", "否"]])
    confirm = admin_import(staff_client, "resident", content, "residents.csv", 1).context[
        "confirm_form"]
    territory.household2.delete()  # someone removes a household between dry run and confirm
    response = staff_client.post(reverse("admin:residents_resident_process_import"),
                                 {**confirm.initial}, follow=True)
    assert not Resident.objects.filter(name__in=["赵大山", "钱小梅"]).exists()
    assert "导入未完成，没有写入任何数据：第 3 行「门牌号」" in response.content.decode()


def preview_rows(html):
    """The import page's table rows, each as its list of cell texts (tags stripped)."""
    table = html.split('class="import-preview"', 1)[1].split("</table>", 1)[0]
    body = table.split("</thead>", 1)[1]
    return [[re.sub(r"<[^>]+>|\s+", " ", cell).strip()
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def test_the_import_preview_shows_every_rows_values_numbered_as_the_spreadsheet_does(
        territory, staff_client):
    content = csv_bytes(RESIDENT_HEADERS, [
        ["长江瑞城", "1", "1", "0101", "赵大山", "13811112222", "", "男", "1950", "", "是"],
        ["长江瑞城", "3", "1", "0301", "钱小梅", "13811113333", "", "女", "1980", "", "否"]])
    response = admin_import(staff_client, "resident", content, "residents.csv", 1)
    assert response.context["confirm_form"] is not None
    rows = preview_rows(response.content.decode())
    # The header is line 1 of the sheet: the first data row is line 2.
    assert [row[0] for row in rows] == ["2", "3"]
    assert rows[0][2:8] == ["长江瑞城", "1", "1", "0101", "赵大山", "13811112222"]
    assert "钱小梅" in rows[1] and "女" in rows[1]


def test_an_import_with_bad_rows_shows_each_error_in_its_row_at_its_spreadsheet_line(
        territory, staff_client):
    content = csv_bytes(RESIDENT_HEADERS, [
        ["长江瑞城", "1", "1", "0101", "赵大山", "13811112222", "", "男", "1950", "", "是"],
        ["长江瑞城", "1", "1", "9999", "孙无家", "13811114444", "", "女", "1960", "", "否"]])
    html = admin_import(staff_client, "resident", content, "residents.csv", 1).content.decode()
    assert "某些行验数据证失败" not in html
    assert "部分行未通过校验" in html
    # Not behind a badge that opens on hover: the message is a cell of the row itself.
    assert "validation-error-container" not in html
    [row] = preview_rows(html)
    assert row[0] == "3"
    assert "门牌号：长江瑞城 1号楼 1单元 没有门牌号 9999。" in row[1]
    assert "孙无家" in row


def test_a_row_that_raised_is_listed_at_its_spreadsheet_line_with_its_cells():
    from import_export.results import Error, Result, RowResult

    from residents.admin import import_preview

    result = Result()
    result.diff_headers = ["姓名", "手机号"]
    good, bad = RowResult(), RowResult()
    good.import_type, bad.import_type = "new", "error"
    row = {"姓名": "赵大山", "手机号": ""}
    bad.errors.append(Error(RuntimeError("数据库忙"), row=row, number=2))
    result.rows = [good, bad]
    preview = import_preview(result, ResidentResource())
    [shown] = preview.rows
    assert (shown.line, [cell.value for cell in shown.cells]) == (3, ["赵大山", ""])
    assert [error.message for error in shown.errors] == ["保存失败：数据库忙"]


def test_the_export_page_labels_each_field_by_its_chinese_column_name(
        territory, staff_client, people):
    html = staff_client.get(reverse("admin:residents_resident_export")).content.decode()
    assert "Compound" not in html and "Is Household Head" not in html
    assert '<label for="id_residentresource_compound">小区</label>' in html
    assert '<label for="id_residentresource_is_household_head">户主</label>' in html


@pytest.mark.parametrize(("msgid", "chinese"), [
    ("Select all", "全选"),
    ("Some rows failed to validate", "部分行未通过校验"),
])
def test_import_exports_own_strings_read_as_correct_chinese(msgid, chinese):
    from django.utils import translation
    with translation.override("zh-hans"):
        assert translation.gettext(msgid) == chinese


def test_the_export_masks_nothing_for_the_street_admin_and_keeps_scope_for_staff(
        territory, street_admin, community_staff, narrow_superuser, people):
    full = ResidentResource(actor=street_admin).export(resident_list(user=street_admin))
    assert len(full) == 9 and "*" not in "".join(full["手机号"])
    scoped = ResidentResource(actor=community_staff).export(resident_list(user=community_staff))
    assert len(scoped) == 6
    masked = ResidentResource(actor=narrow_superuser).export(
        resident_list(user=narrow_superuser))
    assert sum("****" in phone for phone in masked["手机号"]) == 6


def test_the_admin_export_page_opens_for_staff(territory, staff_client, people):
    response = staff_client.get(reverse("admin:residents_resident_export"))
    assert response.status_code == 200


def test_party_members_list_masks_outside_scope_and_searches_by_phone(
        territory, client, narrow_superuser, people):
    committee = org_root(area=territory.community)
    for resident in people:
        PartyMemberFactory(resident=resident, org_node=committee)
    client.force_login(narrow_superuser)
    url = reverse("admin:residents_partymember_changelist")
    assert rows_of(client.get(url, {"q": people[-1].phone})) == []  # outside the reveal scope
    response = client.get(url, {"q": people[0].phone})
    assert [member.resident_id for member in rows_of(response)] == [people[0].pk]
    assert PartyMember.objects.count() == 9
    assert Household.objects.count() == 3


def test_the_publicity_actions_change_only_members_in_scope(territory, staff_client, people):
    from residents.services import party_members_publicity_set

    committee = org_root(area=territory.community)
    members = [PartyMemberFactory(resident=resident, org_node=committee, is_public=True)
               for resident in people]
    response = staff_client.post(reverse("admin:residents_partymember_changelist"), {
        "action": "unpublish", "_selected_action": [member.pk for member in members[:4]]})
    assert response.status_code == 302
    assert PartyMember.objects.filter(is_public=False).count() == 4
    # the service itself ignores members outside the actor's scope
    community_staff = User.objects.get(username="community")
    changed = party_members_publicity_set(member_ids=[members[-1].pk], is_public=False,
                                          actor=community_staff)
    assert changed == 0
    assert PartyMember.objects.get(pk=members[-1].pk).is_public is True


def test_the_publish_action_shows_only_members_who_consented(territory, staff_client, people):
    committee = org_root(area=territory.community)
    consented = PartyMemberFactory(resident=people[0], org_node=committee,
                                   public_consent_on=date(2026, 3, 1))
    silent = PartyMemberFactory(resident=people[1], org_node=committee)
    assert (consented.is_public, silent.is_public) == (False, False)  # opt-in: hidden by default

    response = staff_client.post(reverse("admin:residents_partymember_changelist"), {
        "action": "publish", "_selected_action": [consented.pk, silent.pk]}, follow=True)

    assert list(PartyMember.objects.filter(is_public=True)) == [consented]
    assert "1 名党员未登记本人同意日期" in response.content.decode()


def test_a_member_cannot_be_made_public_without_a_consent_date(db):
    member = PartyMember(is_public=True)
    with pytest.raises(ValidationError, match="同意日期"):
        member.validate_constraints()


def test_masked_columns_are_bound_to_each_request_not_to_the_shared_model_admin(
        territory, street_admin, narrow_superuser, people, rf):
    from django.contrib import admin as django_admin

    model_admin = django_admin.site._registry[Resident]
    outside = resident_list(user=street_admin).get(pk=people[-1].pk)  # annotated area_path

    def phone_column(user):
        request = rf.get("/")
        request.user = user
        return next(column for column in model_admin.get_list_display(request)
                    if getattr(column, "__name__", "") == "phone_display")

    narrow_column = phone_column(narrow_superuser)
    street_column = phone_column(street_admin)  # a second request in between
    masked = f"{outside.phone[:3]}****{outside.phone[-4:]}"
    assert narrow_column(outside) == masked
    assert masked in street_column(outside)
    assert reverse("admin:residents_resident_reveal", args=[outside.pk, "phone"]) in (
        street_column(outside))
