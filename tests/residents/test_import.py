"""Excel/CSV imports: all or nothing, with a per-row Chinese error report."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import Workbook

from core.exceptions import ApplicationError, PermissionDeniedError
from governance.services import party_members_import
from residents.models import Household, PartyMember, Resident
from residents.services import households_import, residents_import
from tests.governance.factories import org_root

RESIDENT_HEADERS = ["小区", "楼号", "单元", "门牌号", "姓名", "手机号", "身份证号", "性别",
                    "出生年份", "标签", "户主"]


def xlsx(headers: list[str], rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def csv_bytes(headers: list[str], rows: list[list[object]]) -> bytes:
    lines = [",".join(headers)] + [",".join(str(cell) for cell in row) for row in rows]
    return ("\ufeff" + "\n".join(lines) + "\n").encode()


def test_a_good_resident_file_writes_every_row(territory, community_staff):
    content = xlsx(RESIDENT_HEADERS, [
        ["长江瑞城", 1, 1, "0101", "赵大山", "13811112222", "", "男", 1950, "独居老人、退役军人",
         "是"],
        ["长江瑞城", "3", "1", "0301", "钱小梅", "13811113333", "370211198001011234", "女", "",
         "", "否"],
    ])

    report = residents_import(file=content, format="xlsx", actor=community_staff)

    assert report.is_ok, report.errors
    assert (report.created, report.written) == (2, 2)
    zhao = Resident.objects.get(name="赵大山")
    assert zhao.household == territory.household1
    assert zhao.tags == ["elder_alone", "veteran"]
    assert zhao.is_household_head is True
    assert zhao.gender == "M"
    assert Resident.objects.get(name="钱小梅").id_number == "370211198001011234"


def test_a_file_with_bad_rows_writes_nothing_and_names_each_bad_row(territory, community_staff):
    content = xlsx(RESIDENT_HEADERS, [
        ["长江瑞城", 1, 1, "0101", "赵大山", "13811112222", "", "男", 1950, "", "是"],
        ["长江瑞城", 1, 1, "9999", "孙无家", "13811114444", "", "女", 1960, "", "否"],
        ["长江瑞城", 1, 1, "0101", "李打码", "138****2222", "", "女", 1960, "", "否"],
        ["长江瑞城", 1, 1, "0101", "周怪标签", "13811115555", "", "女", "一九六零", "富豪", "否"],
        ["黄河小区", 9, 1, "0901", "吴越界", "13811116666", "", "男", 1970, "", "否"],
    ])

    report = residents_import(file=content, format="xlsx", actor=community_staff)

    assert not report.is_ok
    assert report.written == 0
    # The good first row was really rolled back, not just reported.
    assert not Resident.objects.filter(name="赵大山").exists()
    by_row = {(error.row, error.field) for error in report.errors}
    assert (3, "门牌号") in by_row
    assert (4, "手机号") in by_row
    assert (5, "出生年份") in by_row
    assert (5, "标签") in by_row
    assert (6, "楼号") in by_row
    assert 2 not in {error.row for error in report.errors}
    messages = "\n".join(str(error) for error in report.errors)
    assert "第 3 行「门牌号」" in messages
    assert "不在您的管辖范围内" in messages
    assert "未知标签：富豪" in messages


def test_a_good_csv_household_file_creates_households_and_missing_units(territory,
                                                                        community_staff):
    headers = ["小区", "楼号", "单元", "门牌号", "常住", "备注"]
    content = csv_bytes(headers, [["长江瑞城", "2", "1", "0201", "是", ""],
                                  ["长江瑞城", "2", "2", "0202", "否", "空置"],
                                  ["长江瑞城", "1", "1", "0101", "否", "已更新"]])

    report = households_import(file=content, format="csv", actor=community_staff)

    assert report.is_ok, report.errors
    assert (report.created, report.updated) == (2, 1)
    assert Household.objects.filter(building=territory.building2).count() == 2
    territory.household1.refresh_from_db()
    assert (territory.household1.is_occupied, territory.household1.note) == (False, "已更新")


def test_a_bad_household_row_rolls_back_the_units_created_for_good_rows(territory,
                                                                         community_staff):
    headers = ["小区", "楼号", "单元", "门牌号", "常住", "备注"]
    content = csv_bytes(headers, [["长江瑞城", "2", "1", "0201", "是", ""],
                                  ["长江瑞城", "88", "1", "0101", "是", ""]])

    report = households_import(file=content, format="csv", actor=community_staff)

    assert [(error.row, error.field) for error in report.errors] == [(3, "楼号")]
    assert not territory.building2.units.exists()
    assert not Household.objects.filter(building=territory.building2).exists()


def test_party_members_are_matched_by_phone_or_by_name_and_room(territory, community_staff,
                                                                resident_record):
    committee = org_root(area=territory.community)
    headers = ["姓名", "手机号", "小区", "楼号", "单元", "门牌号", "党员类型", "所在党组织",
               "分类管理", "亮身份", "亮身份同意日期", "定责任", "践承诺"]
    Resident.objects.create(household=territory.household2, name="陈党员")
    content = xlsx(headers, [
        ["", resident_record.phone, "", "", "", "", "自管党员", committee.name, "骨干型", "是",
         "2026-03-01", "楼道卫生", "每周巡楼"],
        ["陈党员", "", "长江瑞城", 3, 1, "0301", "在职党员", committee.name, "", "否", "", "", ""],
    ])

    report = party_members_import(file=content, format="xlsx", actor=community_staff)

    assert report.is_ok, report.errors
    wang = PartyMember.objects.get(resident=resident_record)
    assert (wang.kind, wang.category, wang.is_public, wang.duties) == (
        "self_managed", "core", True, "楼道卫生")
    assert wang.public_consent_on == date(2026, 3, 1)
    assert PartyMember.objects.get(resident__name="陈党员").category == "general"


def test_a_party_member_shown_on_the_board_without_a_consent_date_is_refused(
        territory, community_staff, resident_record):
    committee = org_root(area=territory.community)
    headers = ["手机号", "党员类型", "所在党组织", "亮身份", "亮身份同意日期"]
    content = xlsx(headers, [[resident_record.phone, "自管党员", committee.name, "是", ""]])

    report = party_members_import(file=content, format="xlsx", actor=community_staff)

    assert not report.is_ok
    assert any("同意日期" in str(error.message) for error in report.errors), report.errors
    assert not PartyMember.objects.exists()


def test_a_party_member_row_with_an_unknown_org_and_kind_is_refused(territory, community_staff,
                                                                    resident_record):
    headers = ["手机号", "党员类型", "所在党组织"]
    content = csv_bytes(headers, [[resident_record.phone, "退休党员", "不存在的支部"]])

    report = party_members_import(file=content, format="csv", actor=community_staff)

    assert {error.field for error in report.errors} == {"所在党组织"}
    assert not PartyMember.objects.exists()


def test_a_resident_cannot_import(territory, resident_user):
    with pytest.raises(PermissionDeniedError, match="您没有导入居民资料的权限"):
        residents_import(file=b"", format="csv", actor=resident_user)


def test_an_unreadable_file_gives_a_chinese_error(territory, community_staff):
    with pytest.raises(ApplicationError, match="无法读取"):
        residents_import(file=b"not a zip", format="xlsx", actor=community_staff)
    with pytest.raises(ApplicationError, match="xlsx 或 csv"):
        residents_import(file=b"", format="pdf", actor=community_staff)


def test_a_join_date_is_read_as_a_chinese_sheet_writes_it_and_refused_in_chinese(
        territory, community_staff, resident_record):
    committee = org_root(area=territory.community)
    headers = ["手机号", "党员类型", "所在党组织", "入党日期"]
    for written in ("2001/7/1", "2001年7月1日", "2001-07-01"):
        content = csv_bytes(headers, [[resident_record.phone, "自管党员", committee.name, written]])
        report = party_members_import(file=content, format="csv", actor=community_staff)
        assert report.is_ok, (written, report.errors)
        assert str(PartyMember.objects.get().joined_on) == "2001-07-01"
    content = csv_bytes(headers, [[resident_record.phone, "自管党员", committee.name, "去年"]])
    [error] = party_members_import(file=content, format="csv", actor=community_staff).errors
    assert (error.row, error.field) == (2, "入党日期")
    assert error.message == "应为日期，如 2001-07-01 或 2001/7/1。"
