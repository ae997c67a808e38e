"""The big screen (大屏) in Chromium: the street admin opens it at 1366×768 and on a 1920×1080
wall; the figures are there, axe finds no serious WCAG 2.1 AA violation on the dark theme, nothing
scrolls sideways at 200 % zoom; a minute later the page refreshes its figures, and when the
refresh fails the last figures stay with a visible stale notice (screenshots var/e2e/screen-*.png).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
from playwright.sync_api import expect

from petitions.models import Petition, PetitionState
from reports import screen
from tests.e2e.conftest import DESKTOP, _page, login
from tests.petitions.factories import submit

SHOTS = Path(settings.BASE_DIR) / "var" / "e2e"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
DESK = {**DESKTOP, "viewport": {"width": 1366, "height": 768}}
WALL = {**DESKTOP, "viewport": {"width": 1920, "height": 1080}}


@pytest.fixture(autouse=True)
def categories(transactional_db: None) -> None:
    importlib.import_module("petitions.migrations.0002_seed_categories").seed(apps, None)


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> LocMemCache:
    cache = LocMemCache("screen-e2e", {})
    cache.clear()
    monkeypatch.setattr(screen, "cache", cache)
    return cache


@pytest.fixture
def desk(browser: Any, live_server: Any, transactional_db: None) -> Any:
    # CSP admits only the page's own scripts: the axe audit is the test's.
    yield from _page(browser, live_server, DESK, bypass_csp=True)


@pytest.fixture
def wall(browser: Any, live_server: Any, transactional_db: None) -> Any:
    yield from _page(browser, live_server, WALL)


@pytest.fixture
def petitions(territory) -> list[Petition]:
    made = [submit(None, building=territory.building1, contact_name="王阿姨",
                   contact_phone="13800001111", description="楼道灯坏了，电话13912345678")
            for _index in range(3)]
    Petition.objects.filter(pk=made[0].pk).update(supervised=True)
    Petition.objects.filter(pk=made[1].pk).update(state=PetitionState.REJECTED)
    return made


def serious_violations(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    return [f"{violation['id']} ({violation['impact']}): "
            + "; ".join(str(node["target"][0]) for node in violation["nodes"][:3])
            for violation in result["violations"]
            if violation["impact"] in ("serious", "critical")]


def sideways(page: Any) -> bool:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    return bool(width[0] > width[1])


def test_the_street_admin_opens_the_big_screen_at_a_1366_desk(desk, territory, street_admin,
                                                             petitions):
    login(desk, street_admin)
    desk.goto("/reports/")
    desk.get_by_role("link", name="指挥大屏").click()
    expect(desk.get_by_role("heading", level=1)).to_contain_text("长江路街道")
    expect(desk.locator('[data-field="today.total"]')).to_have_text("2")  # one refused
    expect(desk.locator('[data-field="open.supervised"]')).to_have_text("1")
    expect(desk.locator('[data-list="newest"] li')).to_have_count(2)
    expect(desk.get_by_role("heading", name="地图")).to_be_visible()
    expect(desk.get_by_role("heading", name="本月排名")).to_be_visible()
    # The map: drawn by Leaflet from reports:screen-map (this fixture's buildings have no
    # outline or point, so only its text alternative lists them: 1号楼 and its count).
    expect(desk.locator('.screen-map[data-ready="true"]')).to_have_count(1)
    expect(desk.locator(".screen-map .leaflet-container")).to_have_count(1)
    expect(desk.locator(".screen-map .petition-map-table")).to_contain_text("1号楼")
    # ... kept for screen readers only: its box is one pixel, not a table on the wall.
    assert desk.locator(".screen-map .visually-hidden").bounding_box()["height"] <= 1
    # The ranking: both grids of the street under the minimum sample (10): none ranked yet.
    expect(desk.locator('[data-field="ranking.apart"]')).to_have_text("2")
    expect(desk.get_by_role("button", name="全屏")).to_be_visible()
    body = desk.inner_text("body")
    assert "13800001111" not in body and "13912345678" not in body and "王阿姨" not in body
    assert not sideways(desk)
    SHOTS.mkdir(parents=True, exist_ok=True)
    desk.screenshot(path=str(SHOTS / "screen-1366.png"), full_page=True)
    assert serious_violations(desk) == []
    # 200 % zoom: the desk's 1366 × 768 CSS px become 683 × 384.
    desk.set_viewport_size({"width": 683, "height": 384})
    assert not sideways(desk)
    desk.screenshot(path=str(SHOTS / "screen-1366-zoom200.png"), full_page=True)


def test_the_wall_refreshes_each_minute_and_keeps_its_figures_when_a_refresh_fails(
        wall, territory, street_admin, petitions, fresh_cache):
    wall.clock.install()
    login(wall, street_admin)
    wall.goto("/reports/screen/")
    today = wall.locator('[data-field="today.total"]')
    expect(today).to_have_text("2")
    # A new petition, and the next minute's figures (the cache forgets this minute's).
    submit(None, building=territory.building3, contact_phone="13800002222")
    fresh_cache.clear()
    with wall.expect_response(lambda response: "/reports/screen/data/" in response.url):
        wall.clock.run_for(61_000)
    expect(today).to_have_text("3")
    expect(wall.locator("#screen-stale")).to_be_hidden()
    wall.screenshot(path=str(SHOTS / "screen-1920.png"))
    # The server is unreachable for the next refresh: the figures stay, the notice shows.
    wall.route("**/reports/screen/data/**", lambda route: route.abort())
    wall.clock.run_for(61_000)
    expect(wall.locator("#screen-stale")).to_be_visible()
    expect(wall.locator("#screen-stale")).to_contain_text("数据暂未能更新")
    expect(today).to_have_text("3")
    SHOTS.mkdir(parents=True, exist_ok=True)
    wall.screenshot(path=str(SHOTS / "screen-1920-stale.png"))
    # Back again: the notice goes.
    wall.unroute("**/reports/screen/data/**")
    wall.clock.run_for(61_000)
    expect(wall.locator("#screen-stale")).to_be_hidden()
