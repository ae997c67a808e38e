"""The monthly report in Chromium: the street admin generates last month's report at a 1366 px
desk, downloads it and opens it; community staff read the list on a 390 px phone (screenshots
under var/e2e/)."""

from __future__ import annotations

import importlib
import io
import re
from datetime import datetime
from pathlib import Path

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.e2e.conftest import login

SHOTS = Path(settings.BASE_DIR) / "var" / "e2e"
NOW = datetime.fromisoformat("2026-12-05T10:00:00+08:00")


@pytest.fixture(autouse=True)
def categories(transactional_db: None) -> None:
    """Browser tests flush the tables after each test, the seeded categories with them."""
    importlib.import_module("petitions.migrations.0002_seed_categories").seed(apps, None)


def test_the_street_admin_generates_downloads_and_opens_last_months_report(page, territory,
                                                                          street_admin):
    # The server's clock, not the browser's: the form offers last month as of this date.
    with time_machine.travel(NOW, tick=True):
        login(page, street_admin)
        page.goto("/reports/")
        expect(page.get_by_text("还没有报表。")).to_be_visible()
        assert page.get_by_label("月份").input_value() == "2026-11"  # last month, by default
        page.get_by_role("button", name="生成", exact=True).click()
        expect(page.get_by_text("报表已生成。")).to_be_visible()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "reports-1366.png"), full_page=True)
        with page.expect_download() as download_info:
            page.get_by_role("link", name="下载 .xlsx").click()
    download = download_info.value
    assert re.search(r"\.xlsx$", download.suggested_filename)
    workbook = load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    assert workbook.sheetnames[0] == "概况"
    assert "2026年11月" in str(workbook["概况"]["A1"].value)


def test_community_staff_read_the_report_list_on_a_phone(phone_page, territory,
                                                        community_staff):
    login(phone_page, community_staff)
    phone_page.goto("/reports/")
    expect(phone_page.get_by_role("heading", name="统计报表")).to_be_visible()
    # Community staff download; only the street admin generates.
    expect(phone_page.get_by_role("button", name="生成", exact=True)).to_have_count(0)
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone_page.screenshot(path=str(SHOTS / "reports-390.png"), full_page=True)
