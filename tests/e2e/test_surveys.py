"""The survey builder in Chromium: community staff build a three-question survey at 1366 px and
open it; a resident answers it on a 390 px phone, a second member of the household finds it
answered; once it has closed (the clock travels) the resident reads the results, n and bars,
without the short texts. No page scrolls sideways, and axe finds nothing serious or critical.
Screenshots go to var/e2e/ (a CI artifact)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from deliberation.models import Survey
from tests.accounts.factories import UserFactory
from tests.e2e.conftest import DESKTOP, PHONE, _page, login
from tests.e2e.test_accessibility import serious_violations
from tests.residents.factories import ResidentFactory

SHOTS = Path(__file__).resolve().parents[2] / "var" / "e2e"


@pytest.fixture
def phone(browser: Any, live_server: Any, transactional_db: None) -> Any:
    yield from _page(browser, live_server, PHONE, bypass_csp=True)


@pytest.fixture
def desk(browser: Any, live_server: Any, transactional_db: None) -> Any:
    yield from _page(browser, live_server, DESKTOP, bypass_csp=True)


def _fits(page: Any, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def test_staff_build_a_survey_a_household_answers_it_and_reads_the_results(
        desk, phone, territory, community_staff, resident_user, time_machine):
    from playwright.sync_api import expect

    SHOTS.mkdir(parents=True, exist_ok=True)
    today = timezone.localdate()
    # Staff at 1366 px: a draft, three questions, opened.
    login(desk, community_staff)
    desk.goto("/deliberation/staff/surveys/")
    desk.get_by_role("link", name="新建问卷").click()
    desk.get_by_label("问卷名称").fill("充电棚选址调查")
    desk.get_by_label("开始日期").fill(today.isoformat())
    desk.get_by_label("截止日期").fill((today + timedelta(days=7)).isoformat())
    desk.get_by_role("button", name="保存草稿").click()
    for kind, text, options in [("single", "建在哪里", "北门\n南门"),
                                ("scale", "重要程度", ""), ("text", "其他建议", "")]:
        desk.get_by_label("题型").select_option(kind)
        desk.get_by_label("题目").fill(text)
        desk.get_by_label("选项（选择题填写，每行一个）").fill(options)
        desk.get_by_role("button", name="添加", exact=True).click()
        expect(desk.get_by_text(text)).to_be_visible()
    _fits(desk, 1366)
    desk.screenshot(path=str(SHOTS / "survey-build-1366.png"), full_page=True)
    findings = serious_violations(desk, desk.url)
    desk.get_by_role("button", name="发布问卷").click()
    expect(desk.get_by_text("问卷已发布")).to_be_visible()
    survey = Survey.objects.get(title="充电棚选址调查")
    assert not survey.is_draft

    # A resident on the phone answers it.
    login(phone, resident_user)
    phone.goto("/deliberation/")
    phone.locator(".delib-survey").get_by_role("link", name="参加测评").click()
    findings += serious_violations(phone, phone.url)
    _fits(phone, 390)
    phone.screenshot(path=str(SHOTS / "survey-answer-390.png"), full_page=True)
    phone.get_by_label("北门").check()
    phone.get_by_label("4", exact=True).check()
    phone.get_by_label("您的回答").fill("晚上要有照明")
    phone.get_by_role("button", name="提交").click()
    expect(phone.get_by_text("感谢您填写问卷")).to_be_visible()

    # The spouse finds it answered.
    spouse = UserFactory(username="spouse", role="resident", phone="13800009999")
    ResidentFactory(household=territory.household1, name="王先生", user=spouse)
    login(phone, spouse)
    phone.goto(f"/deliberation/surveys/{survey.pk}/")
    expect(phone.locator("#survey-answered")).to_contain_text("本户已经填写过这份问卷")

    # After the window: the results, n and bars, and no short text for a resident.
    time_machine.move_to(timezone.now() + timedelta(days=9))
    login(phone, resident_user)
    phone.goto("/deliberation/")
    phone.locator("#survey-results-list").get_by_role("link", name="充电棚选址调查").click()
    results = phone.locator("#survey-results")
    expect(results).to_contain_text("n = 1 户作答")
    expect(results).to_contain_text("1 户 · 100%")
    expect(results).not_to_contain_text("晚上要有照明")
    _fits(phone, 390)
    phone.screenshot(path=str(SHOTS / "survey-results-390.png"), full_page=True)
    findings += serious_violations(phone, phone.url)
    login(desk, community_staff)
    desk.goto(f"/deliberation/surveys/{survey.pk}/results/")
    expect(desk.locator("#survey-results")).to_contain_text("晚上要有照明")
    _fits(desk, 1366)
    findings += serious_violations(desk, desk.url)
    assert findings == []
