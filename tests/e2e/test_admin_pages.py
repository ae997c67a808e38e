"""The street clerks' admin pages of issue 13 (items 10 and 11) in Chromium at 1366 px: what a
clerk sees is what the test client checks, the page's own styles pass the CSP, and axe finds no
serious violation in the new markup. Screenshots go to var/e2e/ (a CI artifact)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from petitions.models import SlaPolicy
from tests.e2e.conftest import DESKTOP, _page, login
from tests.residents.test_import import RESIDENT_HEADERS, csv_bytes

SHOTS = Path(settings.BASE_DIR) / "var" / "e2e"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def audit_page(browser: Any, live_server: Any, transactional_db: None) -> Any:
    # axe is the test's script, not the page's: this context sets the CSP aside.
    yield from _page(browser, live_server, DESKTOP, bypass_csp=True)


def serious_in(page: Any, selector: str) -> list[str]:
    """axe on the new markup only (the admin's own pages are audited elsewhere)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "([selector, tags]) => axe.run({include: [[selector]]},"
        " {runOnly: {type: 'tag', values: tags}})", [selector, TAGS])
    return [f"{violation['id']} ({violation['impact']})" for violation in result["violations"]
            if violation["impact"] in ("serious", "critical")]


def import_with_a_bad_row(page: Any, user: Any) -> Any:
    login(page, user)
    page.goto("/admin/residents/resident/import/")
    content = csv_bytes(RESIDENT_HEADERS, [
        ["长江瑞城", "1", "1", "0101", "赵大山", "13811112222", "", "男", "1950", "", "是"],
        ["长江瑞城", "1", "1", "9999", "孙无家", "13811114444", "", "女", "1960", "", "否"]])
    page.set_input_files("#id_import_file", files=[
        {"name": "residents.csv", "mimeType": "text/csv", "buffer": content}])
    page.select_option("#id_format", label="csv")
    page.click("input[type=submit]")
    page.wait_for_selector("table.import-preview")
    return page.locator("table.import-preview tbody tr").first


def test_the_import_preview_shows_the_bad_row_and_its_error_in_place(page, audit_page,
                                                                      territory, street_admin):
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    row = import_with_a_bad_row(page, street_admin)
    assert row.locator("td").first.inner_text().strip() == "3"
    error = row.get_by_text("门牌号：长江瑞城 1号楼 1单元 没有门牌号 9999。")
    assert error.is_visible()  # in the row, not in a box that opens on hover
    assert page.get_by_role("heading", name="部分行未通过校验").is_visible()
    shot(page, "admin-import-invalid-row")
    assert [text for text in console if "Content Security Policy" in text] == []
    import_with_a_bad_row(audit_page, street_admin)
    assert serious_in(audit_page, "table.import-preview") == []


def test_the_sla_policy_is_edited_in_days_hours_and_minutes(page, audit_page, territory,
                                                             street_admin):
    url = f"/admin/petitions/slapolicy/{SlaPolicy.current().pk}/change/"
    login(page, street_admin)
    page.goto(url)
    arrival = page.locator(".field-arrival")
    assert arrival.get_by_label("分钟").input_value() == "7"
    shot(page, "admin-sla-policy")
    arrival.get_by_label("分钟").fill("10")
    page.locator(".field-microgrid").get_by_label("小时").fill("12")
    page.click("input[name=_save]")
    page.wait_for_url("**/admin/petitions/slapolicy/")
    assert "10 分钟" in page.inner_text("#result_list")
    policy = SlaPolicy.current()
    assert (policy.arrival.total_seconds(), policy.microgrid.total_seconds()) == (600, 129600)
    login(audit_page, street_admin)
    audit_page.goto(url)
    assert serious_in(audit_page, ".field-arrival") == []
