"""Browser lane: Debian's Chromium driven by Playwright (`make test-e2e`, `pytest -m e2e`).

Pages are served by pytest-django's live_server on loopback. Sign in a user with `login(page, user)`
(a real session cookie, made by Django's test client) rather than typing a password each time.
Residents use a phone viewport (`phone_page`), staff a desktop one (`page`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make between
# browser steps are ordinary synchronous calls, so Django's async-safety guard must stand aside.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "zh-CN"}
DESKTOP = {"viewport": {"width": 1366, "height": 900}, "locale": "zh-CN"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            if not os.path.exists(CHROMIUM):
                item.add_marker(pytest.mark.skip(reason="Debian's chromium is not installed"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _page(browser: Any, live_server: Any, options: dict[str, Any], *, timeout: int = 10_000,
          **context_options: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, **options, **context_options)
    context.set_default_timeout(timeout)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def page(browser: Any, live_server: Any, transactional_db: None) -> Iterator[Any]:
    yield from _page(browser, live_server, DESKTOP)


@pytest.fixture
def phone_page(browser: Any, live_server: Any, transactional_db: None) -> Iterator[Any]:
    yield from _page(browser, live_server, PHONE)


def login(page: Any, user: Any) -> None:
    """Give the browser context a real signed-in session for `user`."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    base = page.context._impl_obj._options.get("baseURL") or ""
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value,
                               "url": base}])
