"""考核排名 in Chromium: the street admin reads the rankings at a 1366 px desk, a grid worker on a
390 px phone (the tables scroll inside their box, the page does not); screenshots under
var/e2e/."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from playwright.sync_api import expect

from tests.e2e.conftest import login
from tests.reports.test_rankings import grid_with_micro, petitions

SHOTS = Path(settings.BASE_DIR) / "var" / "e2e"


@pytest.fixture(autouse=True)
def month(transactional_db: None, territory, microgrid_worker, grid_worker, settings) -> None:
    """Browser tests flush the tables after each test, the seeded categories with them."""
    importlib.import_module("petitions.migrations.0002_seed_categories").seed(apps, None)
    settings.RANKING_MIN_SAMPLE = 3
    petitions(territory.micro1, 10, resolved=8, resolver=microgrid_worker, holder=grid_worker)
    petitions(territory.other_micro, 3, resolved=3)
    petitions(grid_with_micro(territory.community, 2, "网格二"), 4, resolved=2)


def test_the_street_admin_reads_the_rankings_at_a_desk(page, street_admin):
    login(page, street_admin)
    page.goto("/reports/rankings/?period=2026-11")
    expect(page.get_by_role("heading", name="网格排名")).to_be_visible()
    expect(page.get_by_role("cell", name="0.4902–0.9433")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "rankings-1366.png"), full_page=True)


def test_a_grid_worker_reads_their_row_on_a_phone(phone_page, grid_worker):
    login(phone_page, grid_worker)
    phone_page.goto("/reports/rankings/?period=2026-11")
    expect(phone_page.get_by_role("heading", name="网格排名")).to_be_visible()
    expect(phone_page.get_by_text("黄河网格")).to_have_count(0)
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone_page.screenshot(path=str(SHOTS / "rankings-390.png"), full_page=True)
