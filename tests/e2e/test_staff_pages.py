"""Staff pages in Chromium at 1366×768, where issue 13 found them wanting: date inputs that came
up blank, buildings in the order 1, 10, 11 … 2, a stats chart whose time axis lied, and 落实事项
finished-first with a one-click 销号. Each test keeps a screenshot in var/e2e/ (a CI artifact)."""

from __future__ import annotations

import importlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.utils import timezone

from tests.e2e.conftest import DESKTOP, _page, login

STAFF_SCREEN = {**DESKTOP, "viewport": {"width": 1366, "height": 768}}
SHOTS = Path(settings.VAR_DIR) / "e2e"


@pytest.fixture
def desk(browser: Any, live_server: Any, transactional_db: None) -> Any:
    # CSP allows only the page's own nonced scripts: the axe audit is the test's.
    yield from _page(browser, live_server, STAFF_SCREEN, bypass_csp=True)


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_care_visit_and_hours_dates_come_up_as_today(desk, territory, community_staff):
    from playwright.sync_api import expect

    from tests.volunteers.conftest import resident_account
    from tests.volunteers.factories import VolunteerFactory
    from volunteers.models import CareFile
    from volunteers.services import care

    carer_user = resident_account(territory, "carer")
    carer = VolunteerFactory(compound=territory.compound, user=carer_user, name="管家小李")
    elder = territory.household1.residents.create(name="钱奶奶")
    care_file = care.care_file_create(resident=elder, actor=community_staff,
                                      category=CareFile.Category.ELDER_ALONE,
                                      risk="medium", caretaker=carer)
    today = timezone.localdate().isoformat()
    login(desk, community_staff)
    desk.goto(f"/volunteers/care/{care_file.pk}/")
    expect(desk.locator("input[name=visited_on]")).to_have_value(today)
    shot(desk, "care-visit-date")
    desk.goto(f"/volunteers/staff/volunteers/{carer.pk}/")
    expect(desk.locator("input[name=served_on]")).to_have_value(today)
    shot(desk, "hours-add-date")


def test_the_workbench_lists_buildings_in_natural_order(desk, territory, grid_worker):
    from territory.models import Building

    for number in ["10", "11", "20"]:
        Building.objects.create(compound=territory.compound, micro_grid=territory.micro1,
                                number=number)
    login(desk, grid_worker)
    desk.goto("/petitions/staff/")
    options = desk.locator("select[name=building] option").evaluate_all(
        "options => options.map(option => option.textContent)")
    assert options[1:] == [f"长江瑞城 {number}号楼" for number in ["1", "2", "3", "10", "11",
                                                                    "20"]]
    shot(desk, "workbench-buildings")


def test_the_stats_chart_places_every_week_by_its_date(desk, territory, resident_user,
                                                       grid_worker, time_machine):
    from tests.e2e.test_accessibility import serious_violations
    from tests.petitions.factories import submit

    importlib.import_module("petitions.migrations.0002_seed_categories").seed(apps, None)
    now = timezone.now()
    time_machine.move_to(now - timedelta(weeks=6), tick=False)
    submit(resident_user)
    time_machine.move_to(now, tick=True)
    submit(resident_user)
    login(desk, grid_worker)
    assert serious_violations(desk, "/petitions/staff/stats/?by=week") == []
    desk.wait_for_selector("#rates-chart canvas")
    chart = desk.evaluate("""() => {
        const chart = echarts.getInstanceByDom(document.getElementById("rates-chart"));
        const option = chart.getOption();
        const periods = option.series[0].data.map(point => point[0]);
        return {axis: option.xAxis[0].type, periods: periods,
                values: option.series[1].data.map(point => point[1]),
                xs: periods.map(period => chart.convertToPixel({xAxisIndex: 0}, period))};
    }""")
    assert chart["axis"] == "time"
    assert len(chart["periods"]) in (12, 13)  # twelve weeks back, partial weeks at both ends
    steps = [round(later - earlier, 1) for earlier, later in zip(chart["xs"], chart["xs"][1:],
                                                                   strict=False)]
    assert max(steps) - min(steps) < 1  # one week is one week wide, wherever it is
    # The two weeks with petitions, six weeks apart, and empty weeks between them left blank.
    filled = [index for index, value in enumerate(chart["values"]) if value is not None]
    assert len(filled) == 2 and filled[1] - filled[0] == 6
    assert datetime.fromisoformat(chart["periods"][filled[1]]).weekday() == 0
    shot(desk, "stats-time-axis")


def test_tick_off_is_confirmed_on_its_own_page_and_open_items_come_first(
        desk, territory, community_staff, topic):
    from playwright.sync_api import expect

    from deliberation.models import ActionItem
    from tests.deliberation.factories import ActionItemFactory

    today = timezone.localdate()
    ActionItemFactory(topic=topic, title="已完成的旧事项", deadline=today - timedelta(days=20),
                      status="done", done_at=timezone.now(), progress=100)
    ActionItemFactory(topic=topic, title="下月到期", deadline=today + timedelta(days=30))
    ActionItemFactory(topic=topic, title="本周到期", deadline=today + timedelta(days=3))
    login(desk, community_staff)
    desk.goto("/deliberation/staff/actions/")
    titles = [text.split("\n")[0] for text in desk.locator("tbody tr td:first-child")
              .all_inner_texts()]
    assert titles == ["本周到期", "下月到期", "已完成的旧事项"]
    shot(desk, "actions-open-first")
    desk.get_by_role("row", name="本周到期").get_by_role("link", name="销号").click()
    expect(desk.get_by_role("heading", name="确认销号")).to_be_visible()
    shot(desk, "tick-off-confirm")
    desk.get_by_role("button", name="确认销号").click()  # the box is not ticked
    # The browser holds the form back (the box is required); the server would refuse it too.
    expect(desk.locator("input[name=confirm]:invalid")).to_have_count(1)
    expect(desk.get_by_role("heading", name="确认销号")).to_be_visible()
    assert ActionItem.objects.get(title="本周到期").status == "open"
    desk.get_by_label("我已核实该事项已落实完成，确认销号").check()
    desk.get_by_role("button", name="确认销号").click()
    expect(desk).to_have_url(f"{desk.url.split('/deliberation')[0]}/deliberation/staff/actions/")
    assert ActionItem.objects.get(title="本周到期").status == "done"


@pytest.fixture
def topic(territory, resident_user):
    from tests.deliberation.factories import TopicFactory

    return TopicFactory(compound=territory.compound, proposer=resident_user)


def test_the_recurrence_queue_fits_and_accepting_opens_a_topic(desk, browser, live_server,
                                                                territory, community_staff,
                                                                street_admin):
    """未诉先办 at 1366 px: the accept form (topic or need, title, text) beside the dismiss form,
    nothing wider than the screen, no serious axe finding; accepting opens the topic. At 390 px
    the two forms stack."""
    from playwright.sync_api import expect

    from deliberation.models import Topic
    from petitions.models import RecurrenceSuggestion
    from petitions.recurrence import recurrence_detect
    from tests.e2e.conftest import PHONE
    from tests.e2e.test_accessibility import serious_violations
    from tests.petitions.factories import submit

    for building in (territory.building1, territory.building3):
        for _ in range(3):
            submit(None, building=building)
    recurrence_detect(now=timezone.now())
    login(desk, community_staff)
    assert serious_violations(desk, "/petitions/staff/recurrences/") == []
    assert desk.evaluate("document.documentElement.scrollWidth") <= 1366
    panel = desk.locator("section.recurrence").first
    accept, dismiss = panel.locator("form").nth(0), panel.locator("form").nth(1)
    accept_box, dismiss_box = accept.bounding_box(), dismiss.bounding_box()
    assert accept_box["x"] + accept_box["width"] <= dismiss_box["x"]  # side by side, apart
    shot(desk, "recurrence-queue")
    accept.locator("input[name=title]").fill("1号楼楼道杂物长效整治")
    accept.locator("button[type=submit]").click()
    expect(desk.locator(".messages, [role=status], [role=alert]").first).to_contain_text(
        "已发起议题")
    suggestion = RecurrenceSuggestion.objects.get(topic_id__isnull=False)
    assert Topic.objects.get(pk=suggestion.topic_id).title == "1号楼楼道杂物长效整治"

    # A street admin's menu holds both 剔除审批 and 未诉先办: still one line at 1366 px.
    for admin in _page(browser, live_server, STAFF_SCREEN):
        login(admin, street_admin)
        admin.goto("/petitions/staff/recurrences/")
        tops = admin.locator("header nav a").evaluate_all(
            "links => links.map(link => Math.round(link.getBoundingClientRect().top))")
        assert tops and len(set(tops)) == 1, tops
        shot(admin, "recurrence-queue-street-admin")

    for phone in _page(browser, live_server, PHONE):
        login(phone, community_staff)
        phone.goto("/petitions/staff/recurrences/")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        forms = phone.locator("section.recurrence").first.locator("form")
        assert forms.nth(0).bounding_box()["y"] < forms.nth(1).bounding_box()["y"]
        shot(phone, "recurrence-queue-phone")
