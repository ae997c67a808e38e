"""WCAG 2.1 AA with axe-core (vendored in tests/e2e/vendor, MPL-2.0) on the pages of the day's loop:
residents on a 390 px phone, staff at 1366 px. A page fails on any violation axe rates serious or
critical under the wcag2a/wcag2aa/wcag21a/wcag21aa rules; each finding names the rule and nodes."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps

from petitions import services
from petitions.services import building_plaque_get_or_create
from tests.e2e.conftest import DESKTOP, PHONE, _page, login
from tests.petitions.factories import submit

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(autouse=True)
def categories(transactional_db: None) -> None:
    importlib.import_module("petitions.migrations.0002_seed_categories").seed(apps, None)


@pytest.fixture
def phone(browser: Any, live_server: Any, transactional_db: None) -> Any:
    # CSP allows only our own nonced scripts: the audit script is the test's, not the page's.
    yield from _page(browser, live_server, PHONE, bypass_csp=True)


@pytest.fixture
def desk(browser: Any, live_server: Any, transactional_db: None) -> Any:
    yield from _page(browser, live_server, DESKTOP, bypass_csp=True)


def serious_violations(page: Any, url: str) -> list[str]:
    response = page.goto(url)
    assert response is not None and response.status < 400, (url, response and response.status)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    return [f"{url} {violation['id']} ({violation['impact']}): "
            + "; ".join(node["target"][0] for node in violation["nodes"][:3])
            for violation in result["violations"]
            if violation["impact"] in ("serious", "critical")]


def test_the_residents_pages_meet_wcag_aa_on_a_phone(phone, territory, resident_user,
                                                    microgrid_worker):
    petition = submit(resident_user, building=territory.building1)
    plaque = building_plaque_get_or_create(building_id=territory.building1.pk)
    findings = serious_violations(phone, "/petitions/")
    findings += serious_violations(phone, "/petitions/public/")
    findings += serious_violations(phone, f"/petitions/plaque/{plaque.token}/")
    login(phone, resident_user)
    for url in ("/petitions/create/", "/petitions/", f"/petitions/{petition.pk}/", "/inbox/"):
        findings += serious_violations(phone, url)
    assert findings == []


def test_the_staff_pages_meet_wcag_aa_at_a_desk(desk, territory, resident_user,
                                               microgrid_worker, community_staff):
    petition = submit(resident_user, building=territory.building1)
    services.petition_check_in(petition_id=petition.pk, actor=microgrid_worker)
    login(desk, microgrid_worker)
    findings: list[str] = []
    for url in ("/petitions/staff/", f"/petitions/staff/{petition.pk}/", "/inbox/"):
        findings += serious_violations(desk, url)
    login(desk, community_staff)
    for url in ("/petitions/staff/dispatch-queue/",
                f"/petitions/staff/buildings/{territory.building1.pk}/plaque/"):
        findings += serious_violations(desk, url)
    assert findings == []
