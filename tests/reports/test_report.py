"""The monthly report: every cell of a small fixed month, computed by hand; the fixed number of
queries; the schedule's run twice; who may open it (page, media and admin)."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from petitions.models import Petition
from reports import services, tasks
from reports.models import MonthlyReport
from reports.selectors import report_figures
from tests.reports.factories import NOVEMBER, at


def sheet_rows(report: MonthlyReport, title: str) -> list[tuple]:
    with report.file.open("rb") as handle:
        book = load_workbook(io.BytesIO(handle.read()))
    return list(book[title].iter_rows(values_only=True))


def build(territory, **kwargs) -> MonthlyReport:
    return services.report_generate(street=territory.street, kind="month",
                                    period_start=NOVEMBER, **kwargs)


def test_the_summary_sheet_counts_intake_by_channel_category_and_community(territory,
                                                                           november):
    rows = sheet_rows(build(territory), "概况")
    assert rows[0][0] == "长江路街道2026年11月社区治理月报"
    assert rows[1:6] == [("统计区域", territory.street.name),
                         ("统计期间", "2026-11-01 至 2026-11-30"),
                         ("受理诉求", 5), ("议题办结", 1), ("志愿服务时长（小时）", 4)]
    assert rows[7:11] == [("按渠道", "件数"), ("手机网页", 3), ("12345 热线", 1), ("电话登记", 1)]
    assert rows[12:15] == [("按类别", "件数"), ("环境卫生", 3), ("设施维修", 2)]
    assert rows[16:] == [("按社区", "件数"), ("富春江路社区", 4), ("黄河路社区", 1)]


def test_the_rates_sheet_gives_each_rate_with_its_numerator_and_denominator(territory,
                                                                            november):
    rows = sheet_rows(build(territory), "三率")
    assert rows == [
        ("指标", "分子", "分母", "比率"),
        ("响应率", 3, 4, 0.75),  # 1, 3, 4 arrived in time of the 4 dispatched
        ("办结率", 3, 5, 0.6),  # 1, 2, 4 resolved of the 5 received
        ("满意率", 2, 3, 0.6667),  # 满意 and 基本满意 of the 3 rated
        ("按时办结率（微网格）", 2, 2, 1.0),
        ("按时办结率（网格）", 0, 1, 0.0),
        ("按时办结率（街道）", 0, 0, None),  # nothing to measure: blank, not 0 %
    ]


def test_the_overdue_and_supervised_lists_show_numbers_and_places_never_people(territory,
                                                                               november):
    report = build(territory)
    heading = ("编号", "类别", "小区", "楼栋", "承办区域", "层级", "状态", "受理时间", "时限",
               "督办时间")
    overdue = sheet_rows(report, "超期清单")
    assert overdue[0] == heading
    assert [row[0] for row in overdue[1:]] == [november[7].pk, november[3].pk]
    assert overdue[2] == (november[3].pk, "环境卫生", "长江瑞城", "1", "微网格一", "微网格",
                          "已派单", "2026-11-10 09:00", "2026-11-11 09:00",
                          "2026-11-20 09:00")
    supervised = sheet_rows(report, "督办清单")
    assert [row[0] for row in supervised[1:]] == [november[7].pk, november[3].pk]
    with report.file.open("rb") as handle:
        book = load_workbook(io.BytesIO(handle.read()))
    cells = {str(cell) for sheet in book.worksheets
             for row in sheet.iter_rows(values_only=True) for cell in row}
    assert not {"王阿姨", "13800001111"} & cells


def test_the_recurring_pairs_are_building_and_category_seen_twice_or_more(territory,
                                                                          november):
    rows = sheet_rows(build(territory), "高发楼栋与类别")
    assert rows == [("小区", "楼栋", "类别", "件数"), ("长江瑞城", "1", "环境卫生", 3)]


def test_a_quarter_is_the_same_figures_over_three_months(territory, november):
    figures = report_figures(area=territory.street, start=date(2026, 10, 1), kind="quarter")
    assert figures.end == date(2027, 1, 1)
    assert figures.rates["submitted"] == 7  # November's five, October's 7, December's 8
    assert figures.volunteer_hours == Decimal("8.0")
    assert figures.topics_closed == 2


def test_the_figures_take_the_same_queries_when_the_petitions_double(
        territory, november, django_assert_num_queries):
    # channel, category, community (+ its names), the rates, overdue, 督办, pairs, topics, hours
    with django_assert_num_queries(10):
        report_figures(area=territory.street, start=NOVEMBER, kind="month")
    for number in (1, 2, 3, 4, 5, 7):
        original = Petition.objects.get(pk=november[number].pk)
        original.pk = None
        original.save()
    with django_assert_num_queries(10):
        doubled = report_figures(area=territory.street, start=NOVEMBER, kind="month")
    assert doubled.rates["submitted"] == 10


def test_the_schedule_run_twice_keeps_one_report_per_period(territory, november):
    with time_machine.travel(at(12, 1, 0) + timedelta(minutes=5), tick=False):
        assert tasks.reports_generate_due_task() == 2  # November and the third quarter
        assert tasks.reports_generate_due_task() == 0
    assert sorted(MonthlyReport.objects.values_list("kind", "period_start")) == [
        ("month", NOVEMBER), ("quarter", date(2026, 7, 1))]


def test_regenerating_replaces_the_workbook_in_the_same_row(territory, november,
                                                           street_admin):
    first = build(territory)
    Petition.objects.filter(pk=november[5].pk).update(channel="phone")
    second = build(territory, actor=street_admin)
    assert second.pk == first.pk and second.generated_by == street_admin
    assert ("电话登记", 2) in sheet_rows(second, "概况")


# --- who may open it ---------------------------------------------------------------------------


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("who", ["street_admin", "community_staff"])
def test_street_admins_and_community_staff_list_and_download_the_report(territory, november,
                                                                        who, request):
    report = build(territory)
    client = client_for(request.getfixturevalue(who))
    page = client.get(reverse("reports:list"))
    assert page.status_code == 200
    assert report.file.url in page.content.decode()
    download = client.get(report.file.url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"PK")  # an .xlsx is a zip


@pytest.mark.parametrize("who", ["grid_worker", "microgrid_worker", "outsider",
                                 "resident_user"])
def test_workers_outsiders_and_residents_meet_a_404(territory, november, who, request):
    report = build(territory)
    client = client_for(request.getfixturevalue(who))
    assert client.get(reverse("reports:list")).status_code == 404
    assert client.get(report.file.url).status_code == 404
    response = client.post(reverse("reports:generate"),
                           {"street": territory.street.pk, "kind": "month",
                            "period": "2026-11"})
    assert response.status_code == 404
    assert MonthlyReport.objects.count() == 1


def test_a_signed_out_visitor_is_sent_to_sign_in_and_gets_no_file(territory, november):
    report = build(territory)
    assert Client().get(reverse("reports:list")).status_code == 302
    assert Client().get(report.file.url).status_code == 404


def test_only_a_street_admin_generates_on_demand(territory, november, street_admin,
                                                 community_staff):
    data = {"street": territory.street.pk, "kind": "month", "period": "2026-11"}
    assert client_for(community_staff).post(reverse("reports:generate"),
                                            data).status_code == 404
    response = client_for(street_admin).post(reverse("reports:generate"), data)
    assert response.status_code == 302
    report = MonthlyReport.objects.get()
    assert (report.period_start, report.generated_by) == (NOVEMBER, street_admin)


def test_a_period_that_is_not_a_month_is_refused(territory, street_admin):
    response = client_for(street_admin).post(
        reverse("reports:generate"),
        {"street": territory.street.pk, "kind": "month", "period": "2026-13"}, follow=True)
    assert "请按 2026-11 的格式填写月份。" in response.content.decode()
    assert not MonthlyReport.objects.exists()


def test_the_admin_lists_the_report_with_its_download_link(territory, november,
                                                           street_admin):
    report = build(territory)
    client = client_for(street_admin)
    page = client.get(reverse("admin:reports_monthlyreport_changelist"))
    assert page.status_code == 200
    assert report.file.url in page.content.decode()
    assert client.get(report.file.url).status_code == 200


def test_a_quarter_must_start_on_a_quarters_first_month(territory, street_admin):
    response = client_for(street_admin).post(
        reverse("reports:generate"),
        {"street": territory.street.pk, "kind": "quarter", "period": "2026-11"}, follow=True)
    assert "报表期间无效。" in response.content.decode()
    client_for(street_admin).post(
        reverse("reports:generate"),
        {"street": territory.street.pk, "kind": "quarter", "period": "2026-10"})
    report = MonthlyReport.objects.get()
    assert sheet_rows(report, "概况")[0][0] == "长江路街道2026年第4季度社区治理季报"


@pytest.mark.parametrize("field, value", [
    ("street", "abc"), ("street", "99999999999999999999"), ("kind", "weekly"),
    ("period", "0000-01"), ("period", "9999-12"), ("period", "2026-1"), ("period", ""),
])
def test_a_bad_value_in_the_generate_form_is_refused_in_chinese_not_a_500(
        territory, street_admin, field, value):
    data = {"street": territory.street.pk, "kind": "month", "period": "2026-11", field: value}
    response = client_for(street_admin).post(reverse("reports:generate"), data, follow=True)
    assert response.status_code == 200
    assert not MonthlyReport.objects.exists()
