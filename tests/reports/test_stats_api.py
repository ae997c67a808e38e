"""The stats API: the report's figures for an area and period, computed by hand on November
2026 (tests/reports/conftest.py) plus one petition in a second grid of 富春江路社区; the same
rates and n as the monthly workbook; who may read which area; bad input in Chinese; a fixed
number of queries; the cache."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.test import APIClient

from accounts.api.throttles import ApiKeyRateThrottle, SessionUserRateThrottle
from accounts.models import User
from accounts.services import api_key_create
from petitions.models import Petition, PetitionState
from reports import services
from reports.api import views
from territory.models import Area, Building
from tests.accounts.factories import UserFactory
from tests.governance.factories import area_child
from tests.reports.factories import NOVEMBER, SHANGHAI, at, petition
from tests.reports.test_report import sheet_rows

URL = "/api/v1/stats/report/"
# December the 5th: November is a whole past month, December the current one.
TODAY = datetime(2026, 12, 5, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _own_cache(monkeypatch):
    """Each test its own figures cache (ids repeat from test to test; never cache.clear())."""
    figures_cache = LocMemCache("stats-figures", {})
    figures_cache.clear()
    monkeypatch.setattr(views, "cache", figures_cache)
    return figures_cache


@pytest.fixture
def now():
    with time_machine.travel(TODAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def grid2(territory, november):
    """A second grid of 富春江路社区, and in it November's ninth petition: by phone, 设施维修,
    received, not yet dispatched, due in December."""
    grid = area_child(territory.community, name="网格二", kind=Area.Kind.GRID)
    micro = area_child(grid, name="微网格三", kind=Area.Kind.MICROGRID)
    building = Building.objects.create(compound=territory.compound, micro_grid=micro,
                                       number="5")
    november[9] = petition(at(11, 25), channel="phone", category="设施维修", building=building,
                           state=PetitionState.SUBMITTED, due_at=at(12, 20))
    grid.refresh_from_db()
    return grid


def session(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def keyed(scope_area) -> APIClient:
    _key, raw_key = api_key_create(name="区级驾驶舱", scope_area=scope_area)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    return client


def stats(client: APIClient, **params):
    return client.get(URL, params)


def ok(response) -> dict:
    assert response.status_code == 200, response.content.decode()
    return response.json()


# --- the figures -------------------------------------------------------------------------------


def test_a_community_month_gives_intake_rates_lists_and_its_grids_by_hand(
        territory, november, grid2, community_staff, now):
    body = ok(stats(session(community_staff), area=territory.community.pk, period="2026-11"))
    assert body["area"] == {"id": territory.community.pk, "name": "富春江路社区",
                            "kind": "community", "kind_label": "社区"}
    assert body["period"] == {"code": "2026-11", "kind": "month", "start": "2026-11-01",
                              "end": "2026-11-30", "is_complete": True}
    environment, facilities = (Petition.objects.get(pk=november[n].pk).category_id
                               for n in (1, 4))
    # 1, 2, 3, 4 and 9 (5 is the other community's; 6 refused; 7 October's; 8 December's)
    assert body["intake"] == {
        "total": 5,
        "by_channel": [{"code": "mobile_web", "label": "手机网页", "n": 2},
                       {"code": "phone", "label": "电话登记", "n": 2},
                       {"code": "hotline_12345", "label": "12345 热线", "n": 1}],
        "by_category": [{"id": environment, "name": "环境卫生", "n": 3},
                        {"id": facilities, "name": "设施维修", "n": 2}],
        "by_subarea": [{"id": territory.grid.pk, "name": "网格一", "kind": "grid", "n": 4},
                       {"id": grid2.pk, "name": "网格二", "kind": "grid", "n": 1}],
    }
    assert body["rates"] == {
        "response": {"rate": 0.75, "numerator": 3, "n": 4},  # 1, 3, 4 of 1-4 dispatched
        "resolution": {"rate": 0.6, "numerator": 3, "n": 5},  # 1, 2, 4 of five
        "satisfaction": {"rate": 0.6667, "numerator": 2, "n": 3},  # 满意, 基本满意 of 3 rated
        "on_time": [
            {"tier": "microgrid", "tier_label": "微网格", "rate": 1.0, "numerator": 2, "n": 2},
            {"tier": "grid", "tier_label": "网格", "rate": 0.0, "numerator": 0, "n": 1},
            {"tier": "street", "tier_label": "街道", "rate": None, "numerator": 0, "n": 0},
        ],
    }
    # 7 (due 2 November) and 3 (due the 11th), open at the month's end; both 督办 in November.
    assert body["overdue"] == {"count": 2, "petitions": [november[7].pk, november[3].pk]}
    assert body["supervised"] == {"count": 2, "petitions": [november[7].pk, november[3].pk]}
    assert body["top_pairs"] == [{"compound": "长江瑞城", "building": "1",
                                  "category": "环境卫生", "n": 3}]
    assert body["topics_closed"] == 1
    assert body["volunteer_hours"] == "4.0"  # 2.5 + 1.5 approved in November


def test_a_grid_has_its_micro_grids_and_no_topics_or_hours_which_belong_to_compounds(
        territory, november, grid2, community_staff, now):
    body = ok(stats(session(community_staff), area=grid2.pk, period="2026-11"))
    assert body["intake"]["total"] == 1
    assert [(row["name"], row["n"]) for row in body["intake"]["by_subarea"]] == [("微网格三", 1)]
    assert body["rates"]["response"] == {"rate": None, "numerator": 0, "n": 0}
    assert body["rates"]["resolution"] == {"rate": 0.0, "numerator": 0, "n": 1}
    assert (body["topics_closed"], body["volunteer_hours"]) == (None, None)
    assert body["overdue"] == {"count": 0, "petitions": []}


def test_the_street_gives_the_monthly_reports_rates_and_n(territory, november, street_admin,
                                                          now):
    report = services.report_generate(street=territory.street, kind="month",
                                      period_start=NOVEMBER)
    body = ok(stats(session(street_admin), area=territory.street.pk, period="2026-11"))
    rates = body["rates"]
    from_api = [(rates[key]["numerator"], rates[key]["n"], rates[key]["rate"])
                for key in ("response", "resolution", "satisfaction")]
    from_api += [(tier["numerator"], tier["n"], tier["rate"]) for tier in rates["on_time"]]
    assert from_api == [row[1:] for row in sheet_rows(report, "三率")[1:]]
    summary = sheet_rows(report, "概况")
    assert ("受理诉求", body["intake"]["total"]) in summary
    assert [(row["name"], row["n"]) for row in body["intake"]["by_subarea"]] == \
        [("富春江路社区", 4), ("黄河路社区", 1)] == summary[17:]


def test_a_quarter_is_asked_as_yyyy_qn(territory, november, street_admin, now):
    body = ok(stats(session(street_admin), area=territory.street.pk, period="2026-Q4"))
    assert body["period"] == {"code": "2026-Q4", "kind": "quarter", "start": "2026-10-01",
                              "end": "2026-12-31", "is_complete": False}
    assert body["intake"]["total"] == 7  # November's five, October's 7, December's 8
    assert body["volunteer_hours"] == "8.0"


def test_no_name_or_phone_appears_in_the_figures(territory, november, street_admin, now):
    text = stats(session(street_admin), area=territory.street.pk, period="2026-11")
    assert "王阿姨" not in text.content.decode()
    assert "13800001111" not in text.content.decode()


# --- who may read which area -------------------------------------------------------------------


def test_a_community_key_reads_its_community_and_grids_but_not_the_other_community(
        territory, november, grid2, now):
    client = keyed(territory.community)
    assert ok(stats(client, period="2026-11"))["area"]["id"] == territory.community.pk
    assert ok(stats(client, area=grid2.pk, period="2026-11"))["intake"]["total"] == 1
    for outside in (territory.other_community, territory.street):
        refused = stats(client, area=outside.pk, period="2026-11")
        assert refused.status_code == 404
        assert refused.json() == {"code": "not_found", "message": "未找到。", "errors": {}}
    assert stats(client, area=987654321, period="2026-11").status_code == 404


def test_a_street_key_reads_both_communities(territory, november, now):
    client = keyed(territory.street)
    assert ok(stats(client, period="2026-11"))["intake"]["total"] == 5
    for community, total in ((territory.community, 4), (territory.other_community, 1)):
        assert ok(stats(client, area=community.pk, period="2026-11"))["intake"]["total"] == total


def test_a_key_without_a_scope_area_is_refused(territory, november, now):
    response = stats(keyed(None), area=territory.street.pk, period="2026-11")
    assert response.status_code == 403
    assert response.json() == {"code": "permission_denied", "errors": {},
                               "message": "该 API 密钥未设定管辖范围，不能读取统计数据。"}


def test_community_staff_read_their_community_not_the_street_or_the_other_community(
        territory, november, community_staff, now):
    client = session(community_staff)
    assert ok(stats(client, period="2026-11"))["area"]["id"] == territory.community.pk
    for outside in (territory.street, territory.other_community):
        assert stats(client, area=outside.pk, period="2026-11").status_code == 404


@pytest.mark.parametrize("who", ["resident_user", "grid_worker", "microgrid_worker"])
def test_residents_and_grid_workers_are_refused_whatever_they_ask(territory, november, who,
                                                                  request, now):
    client = session(request.getfixturevalue(who))
    for params in ({"area": territory.community.pk, "period": "2026-11"}, {"period": "x"}):
        response = stats(client, **params)
        assert response.status_code == 403
        assert response.json()["message"] == "您无权查看统计数据。"


def test_a_signed_out_caller_gets_a_401(territory, now):
    assert stats(APIClient(), period="2026-11").status_code == 401


def test_a_caller_without_a_scope_area_must_name_the_area(territory, november, now):
    admin = UserFactory(username="root", role=User.Role.STREET_ADMIN, is_superuser=True)
    response = stats(session(admin), period="2026-11")
    assert response.status_code == 400
    assert response.json()["message"] == "请用 area 参数指定统计区域。"
    assert ok(stats(session(admin), area=territory.other_community.pk,
                    period="2026-11"))["intake"]["total"] == 1


# --- bad input ---------------------------------------------------------------------------------

FORMAT = "请按 2026-11（月份）或 2026-Q4（季度）的格式填写统计期间。"
RANGE = "统计期间须在 2000 年以后，且不晚于本月或本季度。"


@pytest.mark.parametrize(("period", "message"), [
    ("2026-13", FORMAT), ("2026-00", FORMAT), ("2026-1", FORMAT), ("26-11", FORMAT),
    ("2026-Q5", FORMAT), ("2026-Q0", FORMAT), ("2026/11", FORMAT), ("2026-11-01", FORMAT),
    ("１２３４-11", FORMAT), ("1999-12", RANGE), ("0000-01", RANGE), ("2027-01", RANGE),
    ("2027-Q1", RANGE), ("9999-12", RANGE),
])
def test_a_bad_period_is_a_400_in_chinese(territory, street_admin, now, period, message):
    response = stats(session(street_admin), area=territory.street.pk, period=period)
    assert response.status_code == 400
    assert response.json() == {"code": "invalid", "message": "输入有误，请检查后重试。",
                               "errors": {"period": [message]}}


def test_a_missing_period_is_a_400(territory, street_admin, now):
    response = stats(session(street_admin), area=territory.street.pk)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["period"]


@pytest.mark.parametrize("area", ["abc", "1.0", "-1", "9" * 16, "1e3", "0x1"])
def test_a_bad_area_id_is_a_400_in_chinese(territory, street_admin, now, area):
    response = stats(session(street_admin), area=area, period="2026-11")
    assert response.status_code == 400
    assert response.json()["errors"] == {"area": ["区域编号无效。"]}


def test_the_current_month_is_allowed_and_marked_incomplete(territory, november, street_admin,
                                                           now):
    body = ok(stats(session(street_admin), area=territory.street.pk, period="2026-12"))
    assert body["period"]["is_complete"] is False
    assert body["intake"]["total"] == 1  # petition 8, 2 December


# --- queries and the cache ---------------------------------------------------------------------


def test_the_queries_stay_the_same_when_the_petitions_double(
        territory, november, django_assert_num_queries, monkeypatch, now):
    monkeypatch.setattr(views, "cache", DummyCache("none", {}))
    client = keyed(territory.street)
    stats(client, period="2026-11")  # the key's "last used" is written once a minute
    # key + user, the key's scope area, the area asked for, the figures' ten
    with django_assert_num_queries(13):
        stats(client, area=territory.street.pk, period="2026-11")
    for number in (1, 2, 3, 4, 5, 7):
        original = Petition.objects.get(pk=november[number].pk)
        original.pk = None
        original.save()
    with django_assert_num_queries(13):
        body = ok(stats(client, area=territory.street.pk, period="2026-11"))
    assert body["intake"]["total"] == 10


def test_a_past_month_is_served_from_the_cache_for_ten_minutes(territory, november,
                                                               street_admin, now):
    client = session(street_admin)
    first = ok(stats(client, area=territory.street.pk, period="2026-11"))
    Petition.objects.filter(pk=november[5].pk).update(channel="hotline_12345")
    now.shift(timedelta(minutes=9))
    assert ok(stats(client, area=territory.street.pk, period="2026-11")) == first
    now.shift(timedelta(minutes=2))
    fresh = ok(stats(client, area=territory.street.pk, period="2026-11"))
    hotline = {"code": "hotline_12345", "label": "12345 热线", "n": 2}
    assert hotline in fresh["intake"]["by_channel"]
    assert hotline not in first["intake"]["by_channel"]


def test_the_current_month_is_never_more_than_a_minute_old(territory, november, street_admin,
                                                           now):
    client = session(street_admin)
    assert ok(stats(client, area=territory.street.pk, period="2026-12"))["intake"]["total"] == 1
    petition(TODAY - timedelta(hours=1), building=territory.building1)
    now.shift(timedelta(seconds=61))
    assert ok(stats(client, area=territory.street.pk, period="2026-12"))["intake"]["total"] == 2


def test_the_cache_is_read_only_after_the_scope_check(territory, november, now):
    ok(stats(keyed(territory.street), area=territory.other_community.pk, period="2026-11"))
    refused = stats(keyed(territory.community), area=territory.other_community.pk,
                    period="2026-11")
    assert refused.status_code == 404


def test_the_endpoint_is_throttled_per_key_and_per_account_like_the_rest_of_the_api():
    throttles = {type(throttle) for throttle in views.StatsReportView().get_throttles()}
    assert throttles == {ApiKeyRateThrottle, SessionUserRateThrottle}
