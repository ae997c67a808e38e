"""Stored XSS: hostile text in every name, title, note and description, rendered in Chromium.

The crawl's world (tests/core/urlmap.py) is built, then every user-facing text column of every
row is overwritten with a script payload that sets `window.__xss` (each row its own number, so
unique constraints hold). The resident pages on a phone, the staff pages and the admin
(changelists and the change page of a row of every model) are loaded in Chromium with the page's
Content-Security-Policy bypassed, so the test proves escaping, not CSP. A page fails if:

- a script ran: `window.__xss` is set, a dialog opened, or an error mentions `__xss`;
- the DOM holds an executable payload: a script element, an `on…` attribute or an `srcdoc` with
  `__xss`, or a `javascript:` link (a JSON `<script type="application/json">` must parse);

and a few pages must show the payload as visible text (escaped, not dropped).
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone

from core.exceptions import ApplicationError
from deliberation.services.sessions import session_call_joint
from petitions.models import Category, Petition
from territory.models import Compound
from tests.core.urlmap import World, all_routes, build_world, client_for, urls_for
from tests.e2e.conftest import DESKTOP, PHONE, _page, login

APPS = ("accounts", "territory", "governance", "residents", "petitions", "deliberation",
        "volunteers", "notifications")
# Columns that are not free text shown as such: credentials, codes, paths, states, phones, links.
NOT_TEXT = {
    "password", "username", "email", "phone", "contact_phone", "emergency_phone", "path",
    "area_path", "origin_path", "household_path", "code", "code_hash", "prefix", "key_hash",
    "webhook_secret", "external_ref", "from_state", "to_state", "from_tier", "to_tier",
    "old_status", "new_status", "period", "sign_in_code", "checkin_code", "id_number",
    "id_number_digest", "dedupe_key", "signature", "url", "webhook_url", "link", "online_link",
    "recipient", "last_error", "token",  # a plaque token: random, made by the server, in URLs
    "calendar_token",  # a volunteer's calendar feed: random, made by the server, in its URL
}
SKIPPED_MODELS = {"LoginAttempt", "PhoneCode", "OutboundMessage", "AccessAttempt"}
# {n} is the row's number: window.__xss = n tells which row's payload ran.
PAYLOADS = (
    "<script>window.__xss={n}</script>",
    '<img src=x onerror="window.__xss={n}">',
    '"><svg onload=window.__xss={n}>',
    "</script><script>window.__xss={n}</script>",
    "{{{{7*7}}}}'\"<svg/onload=__xss={n}>",
    "';window.__xss={n};//<iframe srcdoc=\"<script>parent.__xss={n}</script>\">",
    "<svg onload=__xss={n}>",  # short enough for a building number
)
SKIP_PREFIXES = ("/api/", "/open311/", "/i18n/", "/jsi18n/", "/healthz", "/static/", "/media/",
                 "/admin/jsi18n/", "/admin/logout/", "/accounts/logout/", "/admin/r/")
HTML_STATUSES = {200, 400, 403, 404}
MAX_SECONDS = 600  # the whole walk is bounded in time as well as in pages
# ECharts draws its tooltip as a <div> inside the chart's element, after the canvas holder.
TOOLTIP_TEXT_JS = """() => Array.from(
  document.querySelectorAll("#satisfaction-chart > div, #rates-chart > div"),
  (element) => element.textContent).join(" ")"""

FINDINGS_JS = """() => {
  const found = [];
  for (const element of document.querySelectorAll("*")) {
    if (element.tagName === "SCRIPT") {
      const type = (element.getAttribute("type") || "").toLowerCase();
      if (type === "application/json") {
        try { JSON.parse(element.textContent); } catch (error) { found.push("bad JSON script"); }
      } else if (element.textContent.includes("__xss")) {
        found.push("script element: " + element.textContent.slice(0, 80));
      }
    }
    for (const attribute of element.attributes) {
      const name = attribute.name.toLowerCase();
      const value = attribute.value;
      if ((name.startsWith("on") || name === "srcdoc") && value.includes("__xss")) {
        found.push(element.tagName + " " + name + "=" + value.slice(0, 80));
      }
      if (["href", "src", "action", "formaction", "data"].includes(name)
          && /^\\s*javascript:/i.test(value)) {
        found.push(element.tagName + " " + name + "=" + value.slice(0, 80));
      }
    }
  }
  if (window.__xss !== undefined) { found.push("window.__xss = " + window.__xss); }
  return found;
}"""


@pytest.fixture(autouse=True)
def categories(transactional_db: None) -> None:
    """Browser tests flush the tables after each test, the seeded categories with them."""
    importlib.import_module("petitions.migrations.0002_seed_categories").seed(apps, None)


# --- the poison --------------------------------------------------------------------------------


def _payload(n: int, index: int, max_length: int | None) -> str | None:
    candidates = [PAYLOADS[(index + offset) % len(PAYLOADS)] for offset in range(len(PAYLOADS))]
    for template in candidates:
        text = template.format(n=n)
        if max_length is None or len(text) <= max_length:
            return text
    return None


def _text_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [field for field in model._meta.concrete_fields
            if isinstance(field, models.CharField | models.TextField) and not field.choices
            and field.name not in NOT_TEXT]


def poison_every_text_column() -> int:
    """Overwrite each row's free-text columns with payloads; returns how many values were set."""
    count = 0
    for app_label in APPS:
        for model in apps.get_app_config(app_label).get_models():
            fields = _text_fields(model)
            if model.__name__ in SKIPPED_MODELS or not fields:
                continue
            for row in model.objects.all():
                values = {}
                for index, field in enumerate(fields):
                    text = _payload(row.pk, index + row.pk, field.max_length)
                    if text is not None:
                        values[field.name] = text
                model.objects.filter(pk=row.pk).update(**values)
                count += len(values)
    return count


def poison_json_and_services(world: World) -> None:
    """Payloads in JSON columns (a category's questions, a petition's answers), and a meeting
    link through the service, which must refuse a javascript: URL."""
    Category.objects.filter(pk=Petition.objects.get(pk=world.real["petitions"]).category_id
                            ).update(extra_questions=[{"key": "spot", "required": False,
                                                       "label": PAYLOADS[1].format(n=9001)}])
    Petition.objects.filter(pk=world.real["petitions"]).update(
        answers={"spot": PAYLOADS[0].format(n=9002)})
    compound = Compound.objects.get(pk=world.real["compounds"])
    with pytest.raises((ValidationError, ApplicationError), match="线上会议链接须以"):
        session_call_joint(
            compound=compound, actor=world.users["community_staff"], title="线上议事",
            starts_at=timezone.now(), mode="online", online_link="javascript:window.__xss=9003")


# --- the walk ----------------------------------------------------------------------------------


def _browser_page(browser: Any, live_server: Any, options: dict[str, Any]) -> Iterator[Any]:
    # The CSP is bypassed: this walk checks escaping, not the policy (test_csp.py does that).
    yield from _page(browser, live_server, options, timeout=15_000, bypass_csp=True)


@pytest.fixture
def desk(browser: Any, live_server: Any, transactional_db: None) -> Iterator[Any]:
    yield from _browser_page(browser, live_server, DESKTOP)


@pytest.fixture
def phone(browser: Any, live_server: Any, transactional_db: None) -> Iterator[Any]:
    yield from _browser_page(browser, live_server, PHONE)


class Walker:
    """Loads pages in one browser tab and collects every sign of a payload that ran."""

    def __init__(self, page: Any, role: str) -> None:
        self.page, self.role = page, role
        self.events: list[str] = []
        self.findings: list[str] = []
        self.visited = 0
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self._note_error(str(error)))
        page.on("console", lambda message: self._note_error(message.text))

    def _dialog(self, dialog: Any) -> None:
        self.events.append(f"dialog {dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _note_error(self, text: str) -> None:
        if "__xss" in text:
            self.events.append(f"error: {text[:120]}")

    def visit(self, url: str) -> None:
        self.events.clear()
        self.page.goto(url, wait_until="load")
        self.visited += 1
        found = self.page.evaluate(FINDINGS_JS)
        if self.page.locator("#rates-chart canvas, #satisfaction-chart canvas").count():
            self.hover_chart()
            found += self.page.evaluate(FINDINGS_JS)
        self.findings += [f"{self.role} {url}: {item}" for item in [*found, *self.events]]

    def hover_chart(self) -> None:
        """ECharts tooltips are HTML: hover the chart so its tooltip is drawn."""
        chart = self.page.locator("#rates-chart, #satisfaction-chart").first
        box = chart.bounding_box()
        if box:
            for fraction in (0.3, 0.5, 0.8):
                self.page.mouse.move(box["x"] + box["width"] * fraction,
                                     box["y"] + box["height"] * 0.5)
                self.page.wait_for_timeout(150)

    def text(self, url: str) -> str:
        self.page.goto(url, wait_until="load")
        return str(self.page.evaluate("document.body.textContent"))


def html_pages(world: World, role: str) -> list[str]:
    """The role's URLs that answer with an HTML page (not a redirect, a download or a 405)."""
    client = client_for(world, role)
    pages = []
    for url in urls_for(world, all_routes(), role):
        if url.startswith(SKIP_PREFIXES) or "logout" in url:
            continue
        response = client.get(url)
        is_html = response.get("Content-Type", "").startswith("text/html")
        if response.status_code in HTML_STATUSES and is_html and not response.streaming:
            pages.append(url)
    return pages


def admin_change_pages() -> list[str]:
    """The change page of the first row of every model the admin registers."""
    urls = []
    for model, model_admin in admin.site._registry.items():
        row = model_admin.model.objects.order_by("pk").first()
        if row is None:
            continue
        opts = model._meta
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk]))
    return urls


def walk(walker: Walker, urls: list[str], started: float) -> None:
    for url in urls:
        if time.monotonic() - started > MAX_SECONDS:
            walker.findings.append(f"{walker.role}: walk stopped after {MAX_SECONDS}s at {url}")
            return
        walker.visit(url)
    print(f"xss walk: {walker.role} loaded {walker.visited} pages")


@pytest.fixture
def poisoned(territory, request) -> World:
    world = build_world(territory, request)
    poison_json_and_services(world)
    assert poison_every_text_column() > 100
    return world


def test_no_stored_payload_runs_on_the_resident_pages(phone, poisoned, live_server):
    walker = Walker(phone, "resident")
    login(phone, poisoned.users["resident"])
    urls = html_pages(poisoned, "resident")
    walk(walker, urls, time.monotonic())
    assert walker.visited > 20
    assert walker.findings == []
    petition = Petition.objects.get(pk=poisoned.real["petitions"])
    shown = walker.text(f"/petitions/{petition.pk}/")
    assert petition.description in shown  # escaped and visible, not dropped


def test_no_stored_payload_runs_on_the_staff_pages(desk, poisoned, live_server):
    started = time.monotonic()
    findings, visited = [], 0
    for role in ("community_staff", "microgrid_worker"):
        walker = Walker(desk, role)
        desk.context.clear_cookies()
        login(desk, poisoned.users[role])
        urls = [url for url in html_pages(poisoned, role) if not url.startswith("/admin/")]
        walk(walker, urls, started)
        findings += walker.findings
        visited += walker.visited
    assert visited > 40
    assert findings == []
    petition = Petition.objects.get(pk=poisoned.real["petitions"])
    shown = walker.text(f"/petitions/staff/{petition.pk}/")
    assert petition.description in shown
    assert petition.answers["spot"] in shown
    # The survey chart's series are compound names: its HTML tooltip must show them as text.
    compound = Compound.objects.get(pk=poisoned.real["compounds"])
    desk.context.clear_cookies()
    login(desk, poisoned.users["community_staff"])
    desk.goto("/deliberation/staff/surveys/")
    desk.wait_for_selector("#satisfaction-chart canvas")
    walker.hover_chart()
    tooltip = desk.evaluate(TOOLTIP_TEXT_JS)
    assert compound.name in tooltip
    assert desk.evaluate(FINDINGS_JS) == []


def test_no_stored_payload_runs_in_the_admin(desk, poisoned, live_server):
    walker = Walker(desk, "street_admin")
    login(desk, poisoned.users["street_admin"])
    changelists = [url for url in html_pages(poisoned, "street_admin")
                   if url.startswith("/admin/")]
    walk(walker, changelists + admin_change_pages(), time.monotonic())
    assert walker.visited > 60
    assert walker.findings == []
    category = Category.objects.order_by("pk").first()
    shown = walker.text(reverse("admin:petitions_category_changelist"))
    assert category.name in shown
