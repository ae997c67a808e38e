"""The header on a 390×844 phone, where issue 13 found the English one wrapping to four lines
(290 px of 844): the site name, the language switch and a menu button in one short bar; the menu
(a <details>, no script) opens by tap or keyboard and its links work. Chinese at 390 px and the
desktop bar at 1366 px are kept as screenshots too, in var/e2e/ (a CI artifact)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.e2e.conftest import DESKTOP, PHONE, _page, login
from tests.e2e.test_accessibility import serious_violations

SHOTS = Path(settings.VAR_DIR) / "e2e"


@pytest.fixture
def phone(browser: Any, live_server: Any, transactional_db: None) -> Any:
    # bypass_csp: the axe audit script is the test's, not the page's.
    yield from _page(browser, live_server, PHONE, bypass_csp=True)


@pytest.fixture
def desk(browser: Any, live_server: Any, transactional_db: None) -> Any:
    yield from _page(browser, live_server, {**DESKTOP, "viewport": {"width": 1366, "height": 768}})


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def header_height(page: Any) -> float:
    return page.locator("header.topbar").bounding_box()["height"]


def tap_sizes(page: Any, selector: str) -> list[tuple[str, float, float]]:
    return [(element.inner_text().strip(), box["width"], box["height"])
            for element in page.locator(selector).all()
            if (box := element.bounding_box()) is not None]


def test_the_english_header_on_a_phone_is_one_short_bar_whose_menu_opens_and_links_work(
        phone, territory, resident_user):
    from playwright.sync_api import expect

    login(phone, resident_user)
    phone.goto("/petitions/")
    phone.get_by_role("button", name="EN").click()  # the switch stays in the bar
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    menu_button = phone.locator(".menu > summary")
    my_petitions = phone.locator(".topnav").get_by_role("link", name="My petitions")

    assert header_height(phone) <= 120, header_height(phone)
    expect(my_petitions).to_be_hidden()
    shot(phone, "header-en-390")
    small = [size for size in tap_sizes(
        phone, "header .brand, header .topbar-actions > a, header .lang .link, .menu > summary")
        if min(size[1:]) < 44]
    assert small == [], small

    # By keyboard: the menu button takes focus and Enter opens it.
    menu_button.focus()
    phone.keyboard.press("Enter")
    expect(my_petitions).to_be_visible()
    expect(phone.get_by_role("button", name="Sign out")).to_be_visible()
    shot(phone, "header-en-390-open")
    small = [size for size in tap_sizes(phone, ".topnav > a, .topnav .link") if size[2] < 44]
    assert small == [], small
    assert serious_violations(phone, phone.url) == []  # the audit reloads: the menu is closed

    menu_button.click()
    phone.locator(".topnav").get_by_role("link", name="Submit a petition").click()
    expect(phone).to_have_url(f"{phone.url.split('/petitions/')[0]}/petitions/create/")
    assert header_height(phone) <= 120


def test_the_chinese_header_on_a_phone_is_as_short(phone, territory, resident_user):
    from playwright.sync_api import expect

    login(phone, resident_user)
    phone.goto("/petitions/")

    assert header_height(phone) <= 120, header_height(phone)
    shot(phone, "header-zh-390")
    phone.locator(".menu > summary").click()
    expect(phone.get_by_role("link", name="我的诉求")).to_be_visible()
    shot(phone, "header-zh-390-open")


def test_a_signed_out_phone_shows_sign_in_and_the_language_switch_in_the_bar(phone, db):
    phone.goto("/")
    assert phone.get_by_role("link", name="登录").is_visible()
    assert phone.get_by_role("button", name="EN").is_visible()
    assert not phone.locator(".menu > summary").is_visible()  # nothing to put in a menu


def test_the_desktop_header_shows_its_links_without_a_menu_button(desk, territory,
                                                                  resident_user):
    login(desk, resident_user)
    desk.goto("/petitions/")
    desk.get_by_role("button", name="EN").click()

    assert desk.get_by_role("link", name="My petitions").is_visible()
    assert desk.get_by_role("button", name="Sign out").is_visible()
    assert not desk.locator(".menu > summary").is_visible()
    assert header_height(desk) <= 80, header_height(desk)
    shot(desk, "header-en-1366")
    desk.get_by_role("button", name="中文").click()
    assert desk.get_by_role("link", name="我的诉求").is_visible()
    shot(desk, "header-zh-1366")
