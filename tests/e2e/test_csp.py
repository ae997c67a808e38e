"""The Content-Security-Policy in Chromium: no page of any role trips it.

Each page is loaded with a listener for `securitypolicyviolation` installed before any of the
page's own scripts, so a blocked inline script, inline handler, injected <style> or off-site load
is caught even when the page still looks right. The pages that draw with ECharts, the htmx
forms, the Django admin (treebeard, import-export), DRF's browsable API and Swagger UI are all
covered, because each brings scripts or styles of its own.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps

from tests.e2e.conftest import login
from tests.petitions.factories import submit

# Runs in every document before its scripts: collect what the CSP blocked.
WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline") +
                              " " + (event.sourceFile || "") + ":" + event.lineNumber);
});
"""


@pytest.fixture(autouse=True)
def categories(transactional_db: None) -> None:
    importlib.import_module("petitions.migrations.0002_seed_categories").seed(apps, None)


def watch(page: Any) -> list[str]:
    """Install the listener and also keep the console's CSP errors (e.g. from workers)."""
    console: list[str] = []
    page.add_init_script(WATCH)
    page.on("console", lambda message: console.append(message.text)
            if "Content Security Policy" in message.text else None)
    return console


def visit(page: Any, path: str, console: list[str]) -> list[str]:
    response = page.goto(path)
    assert response is not None and response.status < 400, (path, response and response.status)
    assert "script-src 'self'" in (response.headers.get("content-security-policy") or ""), path
    page.wait_for_load_state("networkidle")
    found = page.evaluate("window.__cspViolations || []") + console[:]
    console.clear()
    return [f"{path}: {violation}" for violation in found]


def test_the_resident_pages_break_no_csp_rule(phone_page, territory, resident_user):
    console = watch(phone_page)
    violations = visit(phone_page, "/", console) + visit(phone_page, "/accounts/phone/", console)
    login(phone_page, resident_user)
    petition = submit(resident_user)
    for path in ("/", "/petitions/", "/petitions/create/", f"/petitions/{petition.pk}/",
                 "/petitions/public/", "/deliberation/", "/volunteers/", "/inbox/"):
        violations += visit(phone_page, path, console)
    # The htmx question picker swaps a fragment in: still nothing blocked.
    phone_page.goto("/petitions/create/")
    phone_page.select_option("#id_category", label="环境卫生")
    phone_page.wait_for_selector("#id_answer_spot")
    violations += [f"htmx: {item}" for item in phone_page.evaluate("window.__cspViolations")]
    assert violations == [], "\n".join(violations)
    # The watch itself works: an injected inline script (what stored XSS would be) is blocked
    # and reported.
    phone_page.evaluate("""() => { const script = document.createElement("script");
        script.textContent = "window.__ran = true"; document.body.appendChild(script); }""")
    # (Polled with evaluate: wait_for_function evaluates a string, which the CSP forbids.)
    for _ in range(50):
        if phone_page.evaluate("window.__cspViolations.length") > 0:
            break
        phone_page.wait_for_timeout(20)
    assert phone_page.evaluate("window.__cspViolations.length") == 1
    assert phone_page.evaluate("window.__ran === undefined")


def test_the_staff_pages_break_no_csp_rule(page, territory, resident_user, community_staff):
    console = watch(page)
    petition = submit(resident_user)
    login(page, community_staff)
    violations: list[str] = []
    for path in ("/petitions/staff/", f"/petitions/staff/{petition.pk}/",
                 "/petitions/staff/stats/", "/deliberation/staff/",
                 "/deliberation/staff/surveys/", "/governance/",
                 "/volunteers/staff/"):
        violations += visit(page, path, console)
    assert violations == [], "\n".join(violations)
    # The ECharts page did draw (its init script ran from static/, not inline).
    page.goto("/petitions/staff/stats/")
    assert page.locator("canvas").count() >= 1


def test_the_admin_the_browsable_api_and_swagger_break_no_csp_rule(page, territory,
                                                                     street_admin):
    console = watch(page)
    login(page, street_admin)
    violations = visit(page, "/admin/", console)
    changelists = page.eval_on_selector_all(
        "#content-main th[scope=row] a", "links => links.map(link => link.getAttribute('href'))")
    assert len(changelists) >= 10
    for path in changelists:
        violations += visit(page, path, console)
    for path in ("/admin/accounts/user/add/", "/admin/residents/resident/export/",
                 "/api/v1/petitions/", "/api/v1/me/", "/api/docs/"):
        violations += visit(page, path, console)
    assert page.locator(".swagger-ui .info").first.is_visible()
    assert violations == [], "\n".join(violations)
