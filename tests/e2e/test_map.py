"""The one map (一张图) in Chromium: the street admin opens /reports/map/ at 1366×768 under the
real CSP, the compound and building outlines render as Leaflet's SVG paths with the legend and
the buildings' table, and clicking a building opens its list on the workbench (screenshot
var/e2e/map-1366.png); axe-core finds no serious WCAG 2.1 A/AA violation on the page."""

from __future__ import annotations

import importlib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from playwright.sync_api import expect

from petitions.models import Petition
from territory.geo import offset, rectangle
from tests.e2e.conftest import DESKTOP, _page, login
from tests.petitions.factories import category, submit

SHOTS = Path(settings.BASE_DIR) / "var" / "e2e"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
DESK = {**DESKTOP, "viewport": {"width": 1366, "height": 768}}
CENTRE = (35.9676, 120.1865)
NOW = datetime.fromisoformat("2026-11-20T10:00:00+08:00")


@pytest.fixture(autouse=True)
def categories(transactional_db: None) -> None:
    importlib.import_module("petitions.migrations.0002_seed_categories").seed(apps, None)


@pytest.fixture
def desk(browser: Any, live_server: Any, transactional_db: None) -> Any:
    yield from _page(browser, live_server, DESK)


@pytest.fixture
def audited_desk(browser: Any, live_server: Any, transactional_db: None) -> Any:
    # CSP allows only our own scripts: the audit script is the test's, not the page's.
    yield from _page(browser, live_server, DESK, bypass_csp=True)


def _box(north: float, east: float, *, half_north: float, half_east: float) -> dict[str, Any]:
    south_west = offset(*CENTRE, north_metres=north - half_north, east_metres=east - half_east)
    north_east = offset(*CENTRE, north_metres=north + half_north, east_metres=east + half_east)
    return rectangle(south=round(south_west[0], 6), west=round(south_west[1], 6),
                     north=round(north_east[0], 6), east=round(north_east[1], 6))


@pytest.fixture
def outlined(territory: Any) -> Any:
    """The compound and its three buildings outlined; four petitions this month on building 1,
    one on building 3."""
    territory.compound.outline = _box(0, 0, half_north=60, half_east=120)
    territory.compound.save(update_fields=["outline"])
    for building, east in ((territory.building1, -80), (territory.building2, 0),
                           (territory.building3, 80)):
        building.outline = _box(0, east, half_north=7, half_east=30)
        building.save(update_fields=["outline"])
    with time_machine.travel(NOW.replace(day=3), tick=False):
        for _number in range(4):
            submit(None, building=territory.building1, category=category("环境卫生"))
        submit(None, building=territory.building3, category=category("设施维修"))
    return territory


def _listen(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_the_street_admin_opens_the_map_and_a_building_opens_its_list(desk, outlined,
                                                                       street_admin):
    errors = _listen(desk)
    with time_machine.travel(NOW, tick=True):
        login(desk, street_admin)
        desk.goto("/reports/map/")
        expect(desk.locator("[data-petition-map][data-ready=true]")).to_have_count(1)
        # The compound's outline and the three buildings' are SVG paths drawn by Leaflet.
        expect(desk.locator(".leaflet-overlay-pane svg path")).to_have_count(4)
        expect(desk.locator(".petition-map-legend")).to_contain_text("诉求数")
        table = desk.get_by_role("table", name="各楼栋诉求数")
        # The header and the street's four buildings: 黄河小区 9号楼 has no outline and no
        # point, so it is on no map, but the table lists it.
        expect(table.get_by_role("row")).to_have_count(5)
        expect(table.get_by_role("row", name="长江瑞城 1号楼")).to_contain_text("4")
        SHOTS.mkdir(parents=True, exist_ok=True)
        desk.screenshot(path=str(SHOTS / "map-1366.png"), full_page=True)
        building = desk.locator('path[role="link"][aria-label^="长江瑞城 1号楼"]')
        expect(building).to_have_count(1)
        building.click()
        desk.wait_for_url("**/petitions/staff/?**")
        assert "tab=all" in desk.url and f"building={outlined.building1.pk}" in desk.url
        expect(desk.locator("li.wb-row")).to_have_count(
            Petition.objects.filter(building=outlined.building1).count())
    assert errors == []  # no CSP refusal, no script error


def test_the_map_page_meets_wcag_aa(audited_desk, outlined, street_admin):
    with time_machine.travel(NOW, tick=True):
        login(audited_desk, street_admin)
        audited_desk.goto("/reports/map/")
        expect(audited_desk.locator("[data-petition-map][data-ready=true]")).to_have_count(1)
        audited_desk.add_script_tag(path=str(AXE))
        result = audited_desk.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    findings = [f"{violation['id']} ({violation['impact']}): "
                + "; ".join(node["target"][0] for node in violation["nodes"][:3])
                for violation in result["violations"]
                if violation["impact"] in ("serious", "critical")]
    assert findings == []
