"""The stats API's rankings (/api/v1/stats/rankings/): the grids' ranks, rates, n and Wilson
bounds of the ranking page's hand-computed November (tests/reports/test_rankings.py's `month`),
narrowed to the asked area with the street's ranks and median kept; bad rates in Chinese."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.test import APIClient

from accounts.services import api_key_create
from reports.api import views
from tests.reports.test_rankings import month  # noqa: F401 (the fixture)

URL = "/api/v1/stats/rankings/"
TODAY = datetime(2026, 12, 5, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _setting_and_clock(settings, monkeypatch):
    settings.RANKING_MIN_SAMPLE = 3
    monkeypatch.setattr(views, "cache", LocMemCache("stats-rankings", {}))
    with time_machine.travel(TODAY, tick=False):
        yield


def keyed(scope_area) -> APIClient:
    _key, raw_key = api_key_create(name="区级驾驶舱", scope_area=scope_area)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    return client


def rows(data, part):
    return [(row["rank"], row["grid"]["name"], row["numerator"], row["n"], row["rate"],
             row["low"]) for row in data[part]]


def test_a_street_key_reads_the_grids_ranked_by_the_wilson_lower_bound(territory, month):  # noqa: F811
    response = keyed(territory.street).get(URL, {"period": "2026-11"})
    assert response.status_code == 200, response.content.decode()
    data = response.json()
    # 8/10 (low 0.490162) above 3/3 (0.438503) above 2/4 (0.150039); 网格三's 1 is apart.
    assert rows(data, "ranked") == [(1, "网格一", 8, 10, 0.8, 0.4902),
                                    (2, "黄河网格", 3, 3, 1.0, 0.4385),
                                    (3, "网格二", 2, 4, 0.5, 0.15)]
    assert rows(data, "apart") == [(None, "网格三", 1, 1, 1.0, 0.2065)]
    assert (data["median"], data["min_sample"], data["excluded"], data["rate"]) == (
        0.8, 3, 0, "resolution")
    assert data["period"]["start"] == "2026-11-01" and data["period"]["end"] == "2026-11-30"


def test_a_community_key_sees_its_own_grids_with_the_streets_ranks_and_median(
        territory, month):  # noqa: F811
    data = keyed(territory.community).get(URL, {"period": "2026-11"}).json()
    # 黄河网格 belongs to 黄河路社区: left out; the others keep their places in the street.
    assert [(row["rank"], row["grid"]["name"]) for row in data["ranked"]] == [
        (1, "网格一"), (3, "网格二")]
    assert data["median"] == 0.8 and data["street"]["name"] == territory.street.name
    assert data["area"]["name"] == "富春江路社区"


def test_the_other_communitys_key_cannot_read_this_community(territory, month):  # noqa: F811
    response = keyed(territory.other_community).get(
        URL, {"period": "2026-11", "area": territory.community.pk})
    assert response.status_code == 404


@pytest.mark.parametrize("rate", ["speed", "RESOLUTION", "resolution;drop"])
def test_an_unknown_rate_is_refused_in_chinese(territory, rate):
    response = keyed(territory.street).get(URL, {"period": "2026-11", "rate": rate})
    assert response.status_code == 400
    assert "考核指标" in response.content.decode()
