"""The workbench's export buttons in Chromium, on a 390 px phone and at a 1366 px desk: the file
downloaded holds the rows the filtered page lists (screenshots under var/e2e/)."""

from __future__ import annotations

import importlib
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from openpyxl import load_workbook
from playwright.sync_api import expect

from petitions.models import Petition
from tests.e2e.conftest import login
from tests.petitions.factories import submit


@pytest.fixture(autouse=True)
def categories(transactional_db: None) -> None:
    """Browser tests flush the tables after each test, the seeded categories with them."""
    importlib.import_module("petitions.migrations.0002_seed_categories").seed(apps, None)


@pytest.mark.parametrize("viewport", ["phone", "desk"])
def test_the_filtered_tab_downloads_as_an_xlsx_of_its_rows(request, viewport, territory,
                                                          resident_user, grid_worker):
    screen: Any = request.getfixturevalue("phone_page" if viewport == "phone" else "page")
    kept = submit(resident_user, building=territory.building1)
    submit(resident_user, building=territory.building3)
    Petition.objects.update(holder=grid_worker)
    login(screen, grid_worker)
    screen.goto(f"/petitions/staff/?tab=mine&building={territory.building1.pk}")
    expect(screen.locator(".wb-rows .wb-row")).to_have_count(1)
    button = screen.get_by_role("button", name="导出 Excel")
    box = button.bounding_box()
    assert box is not None and box["height"] >= 44  # a thumb-sized target
    width = 390 if viewport == "phone" else 1366
    assert screen.evaluate("document.documentElement.scrollWidth") <= width
    shots = Path(settings.BASE_DIR) / "var" / "e2e"
    shots.mkdir(parents=True, exist_ok=True)
    screen.screenshot(path=str(shots / f"workbench-export-{width}.png"), full_page=True)
    with screen.expect_download() as download_info:
        button.click()
    download = download_info.value
    assert re.fullmatch(r"petitions-mine-\d{4}-\d{2}-\d{2}\.xlsx", download.suggested_filename)
    sheet = load_workbook(io.BytesIO(Path(download.path()).read_bytes())).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert [row[header.index("编号")] for row in rows] == [kept.pk]
