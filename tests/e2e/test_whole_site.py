"""The whole site once in Chromium, as each role meets it (issue 13, acceptance).

Every HTML page of the URL map (tests/core/urlmap.py: every route, filled with the ids of a
populated world) that a role can open is walked: a resident's (signed out and signed in) on a
390×844 phone, the staff's (grid worker, community staff, street admin, a few /admin/ pages) at
1366×768. Each page must answer below 400, log no console error or uncaught exception, fetch no
asset that fails, not scroll sideways, show no raw enum value (a TextChoices value of a project
model) and, on a Chinese page, no English in <main>; axe-core finds no serious or critical WCAG
2.1 A/AA violation; on the phone, buttons, form controls and header links are at least 44 px tall.
A screenshot of each page is kept under var/e2e/site/<viewport>/<slug>.png (a CI artifact).
"""

from __future__ import annotations

import importlib
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models

from tests.core.urlmap import BOGUS_INT, BOGUS_STR, all_routes, build_world, client_for, urls_for
from tests.e2e.conftest import DESKTOP, PHONE, _page, login

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SHOTS = Path(settings.BASE_DIR) / "var" / "e2e" / "site"

# Who walks at which viewport. The staff desks (/staff/ pages, the admin) are walked by each
# staff role; the other pages once per viewport (and once per phone visitor).
SIZES = {"phone": "390x844", "desk": "1366x768"}
WALKERS = [("phone", "anonymous"), ("phone", "resident"), ("desk", "grid_worker"),
           ("desk", "community_staff"), ("desk", "street_admin")]
# A few admin pages the street admin works in (the rest of the admin is Django's own).
ADMIN_PAGES = ["/admin/", "/admin/petitions/petition/", "/admin/residents/resident/",
               "/admin/volunteers/volunteer/"]
# Not pages: the API, the schema and its viewer, translations catalogues, uploads, health checks.
NOT_PAGES = ("/api/", "/admin/", "/media/", "/static/", "/healthz", "/favicon", "/i18n/",
             "/jsi18n/", "/schema", "/accounts/logout/")

# Latin words a Chinese page may show: acronyms and names of things, not sentences.
ALLOWED_LATIN = {"API", "SMS", "QR", "EN", "PDF", "CSV", "ID", "OK", "Open311", "PIPL", "WCAG",
                 "GPS", "APP", "App", "Excel", "SLA", "KPI"}
LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z'’.-]*(?:[ \t]+[A-Za-z][A-Za-z'’.-]*)+")
URLISH = re.compile(r"\S+://\S+|\S+@\S+\.\S+|/[\w/.-]+")


def choice_values() -> set[str]:
    """Every lowercase ascii TextChoices value of a project model field (the raw enum tokens)."""
    values: set[str] = set()
    for model in apps.get_models():
        module = model.__module__.split(".")[0]
        if module not in {"accounts", "core", "deliberation", "governance", "notifications",
                          "petitions", "residents", "territory", "volunteers"}:
            continue
        for field in model._meta.get_fields():
            if not isinstance(field, models.Field) or not field.choices:
                continue
            for value, _label in field.flatchoices:
                if isinstance(value, str) and re.fullmatch(r"[a-z][a-z_]{2,}", value):
                    values.add(value)
    return values


def html_pages(world: Any, role: str) -> list[str]:
    """The URLs with real ids that answer this role with an HTML page (after redirects)."""
    client = client_for(world, role)
    pages: list[str] = []
    for url in urls_for(world, all_routes(), role):
        if url.startswith(NOT_PAGES) or BOGUS_INT in url or BOGUS_STR in url:
            continue
        response = client.get(url)
        if response.status_code in (301, 302) and response["Location"].startswith("/") and (
                not response["Location"].startswith(("/accounts/", *NOT_PAGES))):  # not a sign-in
            url = response["Location"]  # a workbench tab (/petitions/staff/overdue/ …)
            response = client.get(url)
        # A whole document, not an htmx fragment (the pickers, the status badge).
        if (response.status_code == 200 and response["Content-Type"].startswith("text/html")
                and b"<html" in response.content[:500] and url not in pages):
            pages.append(url)
    return pages


def slug(url: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", url).strip("-") or "home"


def tap_targets_too_small(page: Any) -> list[str]:
    return page.evaluate("""() => {
      const small = [];
      const seen = el => { const s = getComputedStyle(el); const r = el.getBoundingClientRect();
        return s.visibility !== 'hidden' && s.display !== 'none' && r.width > 0 && r.height > 0; };
      const targets = document.querySelectorAll(
        'button, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, ' +
        'textarea, .btn, header a, header button, nav a');
      for (const el of targets) {
        if (!seen(el)) continue;
        const r = el.getBoundingClientRect();
        const name = (el.innerText || el.value || el.name || '').trim().slice(0, 20);
        // Fields are as wide as the form; buttons and header links need the width too.
        const field = el.matches('input, select, textarea');
        if (r.height < 43.5 || (!field && r.width < 43.5)) small.push(
          `${el.tagName.toLowerCase()} "${name}" ${Math.round(r.width)}×${Math.round(r.height)}px`);
      }
      return small;
    }""")


def unlabelled_fields(page: Any) -> list[str]:
    """Form fields with no label of their own: a placeholder or a title is not a label."""
    return page.evaluate("""() => [...document.querySelectorAll(
        'input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea')]
      .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                    && !el.getAttribute('aria-labelledby'))
      .map(el => `${el.tagName.toLowerCase()}[name=${el.name}]`)""")


def listen(page: Any) -> list[str]:
    """Console errors, uncaught exceptions and failed requests of the page, as they come."""
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(
        f"console: {message.text[:160]}"))
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on("response", lambda response: response.status >= 400 and errors.append(
        f"{response.status} {response.url}"))
    return errors


def check_page(page: Any, errors: list[str], url: str, viewport: str, shot: Path,
               enums: re.Pattern[str], allowed: set[str]) -> list[str]:
    errors.clear()
    response = page.goto(url)
    findings: list[str] = []
    if response is None or response.status >= 400:
        return [f"{url} status {response and response.status}"]
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), scale="css")
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if width[0] > width[1]:
        findings.append(f"{url} overflows sideways: {width[0]} px in {width[1]}")
    body = page.inner_text("body")
    findings += [f"{url} raw enum value {match!r}" for match in sorted(set(enums.findall(body)))]
    if page.evaluate("document.documentElement.lang").startswith("zh") and page.locator(
            "main").count():
        text = URLISH.sub(" ", page.inner_text("main"))
        for run in LATIN_RUN.findall(text):
            words = [word for word in re.split(r"\s+", run) if word not in allowed]
            if len(words) >= 2:
                findings.append(f"{url} English on a Chinese page: {run!r}")
    findings += [f"{url} field without a label: {field}" for field in unlabelled_fields(page)]
    if viewport == "phone":
        findings += [f"{url} tap target under 44 px: {target}"
                     for target in tap_targets_too_small(page)]
        # 200 % zoom: the phone's 390 CSS px become 195; nothing may need a sideways scroll.
        page.set_viewport_size({"width": 195, "height": 422})
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if width[0] > width[1]:
            findings.append(f"{url} overflows sideways at 200 % zoom: {width[0]} px in "
                            f"{width[1]}")
        page.set_viewport_size(PHONE["viewport"])
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, "
                           "resultTypes: ['violations']})", TAGS)
    findings += [f"{url} axe {violation['id']} ({violation['impact']}): "
                 + "; ".join(str(node["target"][0]) for node in violation["nodes"][:3])
                 for violation in result["violations"]
                 if violation["impact"] in ("serious", "critical")]
    return findings + [f"{url} {error}" for error in errors]


@pytest.fixture(autouse=True)
def categories(transactional_db: None) -> None:
    importlib.import_module("petitions.migrations.0002_seed_categories").seed(apps, None)


def test_every_page_of_the_site_passes_the_walk(browser, live_server, territory,
                                               request: pytest.FixtureRequest):
    started = time.monotonic()
    shutil.rmtree(SHOTS, ignore_errors=True)  # this run's pages only
    world = build_world(territory, request)
    print(f"world built in {time.monotonic() - started:.1f} s")
    # Whole ascii words: a Chinese character next to the token is a boundary too.
    enums = re.compile(r"(?<![A-Za-z0-9_/.-])(" + "|".join(sorted(choice_values(), key=len,
                                                                  reverse=True))
                       + r")(?![A-Za-z0-9_/.-])")
    allowed = ALLOWED_LATIN | {user.username for user in world.users.values() if user}
    findings: list[str] = []
    walked: set[tuple[str, str]] = set()
    listing: list[str] = []
    for viewport, role in WALKERS:
        options = PHONE if viewport == "phone" else {**DESKTOP, "viewport": {"width": 1366,
                                                                             "height": 768}}
        found = time.monotonic()
        urls = html_pages(world, role)
        print(f"{role}: {len(urls)} pages found in {time.monotonic() - found:.1f} s")
        if role == "street_admin":
            urls += ADMIN_PAGES
        for page in _page(browser, live_server, options, bypass_csp=True):
            errors = listen(page)
            page.context.add_init_script(path=str(AXE))  # the audit, in every page it opens
            if world.users[role] is not None:
                login(page, world.users[role])
            for url in urls:
                # Each role's own desk; the pages every staff role shares, once.
                own = "/staff/" in url or url.startswith("/admin/")
                key = (role, url) if viewport == "phone" or own else (viewport, url)
                if key in walked:
                    continue
                walked.add(key)
                shot = SHOTS / SIZES[viewport] / f"{role}-{slug(url)}.png"
                listing.append(f"{SIZES[viewport]} {role} {url}")
                findings += check_page(page, errors, url, viewport, shot, enums, allowed)
    elapsed = time.monotonic() - started
    (SHOTS / "pages.txt").write_text("\n".join(listing) + "\n", encoding="utf-8")
    print(f"whole-site walk: {len(walked)} pages in {elapsed:.1f} s")
    assert not findings, "\n".join(findings)
