"""The workbench's lists as CSV and XLSX (/petitions/staff/export/csv|xlsx/).

The export takes the page's own query string, so it holds exactly the rows the page lists. The
contact columns are masked unless the exporter asks for them whole (contact=full) and may
reveal them (rules.may_reveal_contact, row by row); a file with whole contacts writes one audit
row naming how many rows it revealed. Cells a spreadsheet would run as formulae come out inert.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from core.models import AuditEvent
from petitions import exports
from petitions.models import Petition
from tests.petitions.factories import submit
from tests.petitions.test_workbench import _copies, client_for

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_9AM = datetime(2026, 11, 16, 9, 0, tzinfo=SHANGHAI)
PAGE = reverse("petitions:staff-queue")
CSV = reverse("petitions:staff-export-csv")
XLSX = reverse("petitions:staff-export-xlsx")
HOSTILE = '=HYPERLINK("http://x","y")'


def csv_rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def xlsx_rows(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response
    sheet = load_workbook(io.BytesIO(response.content)).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(header, row, strict=True)) for row in rows]


@pytest.fixture
def petitions(territory, resident_user, microgrid_worker, time_machine) -> dict[str, Petition]:
    """Building 1's petition goes to the worker of 微网格一; 微网格二 (building 3) has none."""
    time_machine.move_to(MONDAY_9AM, tick=False)
    return {
        "one": submit(resident_user, building=territory.building1, contact_name="王阿姨",
                      contact_phone="13800001111"),
        "three": submit(resident_user, building=territory.building3, contact_name="赵先生",
                        contact_phone="13900002222", description=HOSTILE),
    }


def test_the_filters_narrow_the_export_exactly_as_they_narrow_the_page(petitions,
                                                                        community_staff):
    client = client_for(community_staff)
    for query in ({"tab": "due_soon"},
                  {"tab": "due_soon", "building": petitions["three"].building_id},
                  {"tab": "due_soon", "q": "楼道"}):
        page_ids = {row["id"] for row in client.get(PAGE, query).context["rows"]}
        assert {int(row["编号"]) for row in csv_rows(client.get(CSV, query))} == page_ids
        assert {row["编号"] for row in xlsx_rows(client.get(XLSX, query))} == page_ids
    narrowed = csv_rows(client.get(CSV, {"tab": "due_soon",
                                         "building": petitions["three"].building_id}))
    assert [int(row["编号"]) for row in narrowed] == [petitions["three"].pk]
    assert narrowed[0]["楼栋"] == "3" and narrowed[0]["小区"] == "长江瑞城"


def test_contacts_are_masked_by_default_and_nothing_is_audited(petitions, microgrid_worker):
    client = client_for(microgrid_worker)
    rows = csv_rows(client.get(CSV, {"tab": "due_soon"}))
    assert {(row["联系人"], row["联系电话"]) for row in rows} == {("王**", "138****1111")}
    xlsx = xlsx_rows(client.get(XLSX, {"tab": "due_soon"}))
    assert {(row["联系人"], row["联系电话"]) for row in xlsx} == {("王**", "138****1111")}
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_whole_contacts_asked_for_by_the_holder_are_revealed_and_counted(petitions,
                                                                          microgrid_worker):
    client = client_for(microgrid_worker)
    rows = csv_rows(client.get(CSV, {"tab": "due_soon", "contact": "full"}))
    assert [(row["联系人"], row["联系电话"]) for row in rows] == [("王阿姨", "13800001111")]
    assert AuditEvent.objects.get(action=AuditEvent.Action.EXPORT).object_repr.startswith("1 ")


def test_whole_contacts_for_one_who_may_reveal_write_one_audit_row(petitions,
                                                                   community_staff):
    client = client_for(community_staff)
    response = client.get(XLSX, {"tab": "due_soon", "contact": "full"})
    assert {(row["联系人"], row["联系电话"]) for row in xlsx_rows(response)} == {
        ("王阿姨", "13800001111"), ("赵先生", "13900002222")}
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.actor == community_staff
    assert event.object_type == "petitions.petition"
    assert event.object_repr.startswith("2 ")
    assert event.fields == ["contact_name", "contact_phone"]


def test_a_formula_in_the_description_comes_out_inert(petitions, community_staff):
    client = client_for(community_staff)
    query = {"tab": "due_soon", "building": petitions["three"].building_id}
    assert csv_rows(client.get(CSV, query))[0]["诉求内容"] == "'" + HOSTILE
    response = client.get(XLSX, query)
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value == "'" + HOSTILE]
    assert len(cells) == 1 and cells[0].data_type == "s"


def test_the_files_are_named_in_ascii_with_the_date(petitions, community_staff):
    client = client_for(community_staff)
    response = client.get(XLSX, {"tab": "overdue"})
    assert response["Content-Disposition"] == (
        'attachment; filename="petitions-overdue-2026-11-16.xlsx"')
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response = client.get(CSV, {"tab": "mine"})
    assert response["Content-Disposition"] == (
        'attachment; filename="petitions-mine-2026-11-16.csv"')
    assert response["Content-Type"] == "text/csv; charset=utf-8"


@pytest.mark.parametrize("url", [CSV, XLSX])
def test_the_query_count_does_not_grow_with_the_rows(petitions, community_staff, url,
                                                     django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(community_staff)
    query = {"tab": "due_soon", "contact": "full"}
    with CaptureQueriesContext(connection) as few:
        client.get(url, query)
    # Session, the user with their scope area; the tabs' counts in one query, the rows, the
    # audit row.
    assert len(few.captured_queries) == 5
    _copies(petitions["one"], 40)
    with django_assert_num_queries(5):
        response = client.get(url, query)
    assert len(csv_rows(response) if url == CSV else xlsx_rows(response)) == 42


@pytest.mark.parametrize("url", [CSV, XLSX])
def test_a_resident_gets_404(petitions, resident_user, url):
    assert client_for(resident_user).get(url, {"tab": "due_soon"}).status_code == 404


def test_staff_of_another_area_export_none_of_these_rows(petitions, outsider):
    assert csv_rows(client_for(outsider).get(CSV, {"tab": "due_soon"})) == []


def test_not_signed_in_goes_to_the_sign_in_page(petitions):
    assert Client().get(CSV).status_code == 302


def test_past_the_row_limit_the_page_says_so_instead_of_a_file(petitions, community_staff,
                                                                monkeypatch):
    monkeypatch.setattr(exports, "EXPORT_ROW_LIMIT", 1)
    client = client_for(community_staff)
    response = client.get(CSV, {"tab": "due_soon", "tier": "microgrid"}, follow=True)
    assert response.redirect_chain[-1][0] == f"{PAGE}?tab=due_soon&tier=microgrid"
    assert "一次最多导出 1 条，当前 2 条，请缩小筛选范围后再导出。" in response.content.decode()


def test_the_workbench_offers_both_exports_with_its_filters(petitions, community_staff):
    html = client_for(community_staff).get(
        PAGE, {"tab": "due_soon", "tier": "microgrid"}).content.decode()
    assert f'formaction="{CSV}"' in html and f'formaction="{XLSX}"' in html
    assert '<input type="hidden" name="tier" value="microgrid">' in html
    assert "导出 CSV" in html and "导出 Excel" in html


def test_a_filter_the_page_refuses_sends_the_export_back_to_the_page_and_its_error(
        petitions, community_staff):
    response = client_for(community_staff).get(
        XLSX, {"tab": "due_soon", "tier": "nowhere", "contact": "full"}, follow=True)
    assert response.redirect_chain[0][0] == f"{PAGE}?tab=due_soon&tier=nowhere"
    assert response.status_code == 400
    assert "筛选条件有误" in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()
