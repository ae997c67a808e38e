"""The big screen's 本月排名: the ranking page's figures (tests/reports/test_rankings.py's
hand-computed November), narrowed to the screen's area with the street's places kept."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache.backends.locmem import LocMemCache
from django.test import Client
from django.urls import reverse

from reports import screen
from tests.reports.test_rankings import month  # noqa: F401 (the fixture)

END_OF_NOVEMBER = datetime(2026, 11, 30, 20, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _setting_clock_cache(settings, monkeypatch):
    settings.RANKING_MIN_SAMPLE = 3
    monkeypatch.setattr(screen, "cache", LocMemCache("screen-ranking", {}))
    with time_machine.travel(END_OF_NOVEMBER, tick=False):
        yield


def ranking_of(user, area=None):
    client = Client()
    client.force_login(user)
    params = {} if area is None else {"area": area.pk}
    response = client.get(reverse("reports:screen-data"), params)
    assert response.status_code == 200
    return response.json()["ranking"]


def test_the_street_screen_ranks_grids_by_the_lower_bound_as_the_rankings_page(
        territory, month, street_admin):  # noqa: F811
    ranking = ranking_of(street_admin)
    # 8/10 (low 0.4902) above 3/3 (0.4385) above 2/4 (0.1500); 网格三's one apart.
    assert [(row["rank"], row["name"], row["text"], row["sample"]) for row in ranking["rows"]] \
        == [(1, "网格一", "80%", 10), (2, "黄河网格", "100%", 3), (3, "网格二", "50%", 4)]
    assert (ranking["median"], ranking["apart"], ranking["excluded"]) == ("80%", 1, 0)


def test_a_community_screen_shows_its_grids_with_their_places_in_the_street(
        territory, month, community_staff):  # noqa: F811
    ranking = ranking_of(community_staff)
    assert [(row["rank"], row["name"]) for row in ranking["rows"]] == [(1, "网格一"),
                                                                         (3, "网格二")]
    assert ranking["median"] == "80%"
