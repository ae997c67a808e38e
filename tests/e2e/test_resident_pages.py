"""Issue 13's residents' items walked on a 390×844 phone, each with a screenshot in var/e2e/:
a signed-out tap on 志愿服务 reaches the phone sign-in (item 3), the 公示 page's 反映诉求 opens the
form (3), an answered survey shows the household's answer and says so once (3), a returned
petition shows the step without the staff's reason (2), and a referred petition's page leads to
its topic (4)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from playwright.sync_api import expect

from petitions import services
from tests.e2e.conftest import login
from tests.petitions.factories import submit

SHOTS = Path(settings.BASE_DIR) / "var" / "e2e"
REASON = "不属于本微网格，已退回重新派单"


@pytest.fixture(autouse=True)
def categories(transactional_db: None) -> None:
    importlib.import_module("petitions.migrations.0002_seed_categories").seed(apps, None)


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SHOTS / f"resident-{name}-390.png"), full_page=True)


def test_a_signed_out_tap_on_volunteering_reaches_the_residents_sign_in(phone_page):
    phone_page.goto("/")
    phone_page.get_by_role("link", name="志愿服务").first.click()
    phone_page.wait_for_url("**/accounts/phone/**")
    expect(phone_page.locator("main h2").first).to_have_text("居民手机号登录")
    shot(phone_page, "volunteering-signed-out")


def test_the_public_list_report_link_opens_the_form(phone_page, territory, resident_user):
    login(phone_page, resident_user)
    phone_page.goto("/petitions/public/")
    phone_page.locator("summary", has_text="菜单").click()  # the phone header's menu
    phone_page.get_by_role("link", name="反映诉求", exact=True).first.click()
    phone_page.wait_for_url("**/petitions/create/")
    shot(phone_page, "public-report-link")


def test_an_answered_survey_shows_the_answer_once_without_a_form(phone_page, territory,
                                                                resident_user):
    from deliberation.services.surveys import survey_answer_submit
    from tests.deliberation.factories import quarterly_survey

    survey = quarterly_survey(compound=territory.compound, year=2026, quarter=4,
                              title="2026年第4季度满意度测评")
    survey_answer_submit(survey=survey, actor=resident_user, satisfaction="basically",
                         comment="楼道灯要修")
    login(phone_page, resident_user)
    phone_page.goto(f"/deliberation/surveys/{survey.pk}/")
    main = phone_page.locator("main")
    expect(main).to_contain_text("楼道灯要修")
    assert main.inner_text().count("本户已经填写过这份问卷") == 1
    expect(main.locator("button[type=submit], input[type=submit]")).to_have_count(0)
    shot(phone_page, "survey-answered")


def test_a_returned_petition_shows_the_step_not_the_staff_reason(phone_page, territory,
                                                                 resident_user,
                                                                 microgrid_worker):
    petition = submit(resident_user)
    services.petition_return(petition_id=petition.pk, actor=microgrid_worker, reason=REASON)
    login(phone_page, resident_user)
    phone_page.goto(f"/petitions/{petition.pk}/")
    main = phone_page.locator("main")
    expect(main).to_contain_text("退回")
    assert REASON not in main.inner_text()
    shot(phone_page, "returned-petition")


def test_a_referred_petitions_page_leads_to_its_topic(phone_page, territory, resident_user,
                                                      community_staff):
    from deliberation.services.topics import topic_propose_from_petition

    petition = submit(resident_user, household=territory.household1, is_public=True,
                      description="小区充电桩太少，电动车充电难，需要扩容")
    topic = topic_propose_from_petition(petition_id=petition.pk,
                                                     actor=community_staff)
    login(phone_page, resident_user)
    phone_page.goto(f"/petitions/{petition.pk}/")
    shot(phone_page, "referred-petition")
    phone_page.locator(f'main a[href="/deliberation/topics/{topic.pk}/"]').first.click()
    phone_page.wait_for_url(f"**/deliberation/topics/{topic.pk}/")
    expect(phone_page.locator("main")).to_contain_text(topic.title)


def test_a_closed_activity_on_a_phone_says_sign_up_has_closed(phone_page, territory,
                                                              resident_user):
    from tests.volunteers.factories import ActivityFactory

    activity = ActivityFactory(compound=territory.compound, title="洁净家园周末行")
    activity.status = activity.Status.CLOSED
    activity.save(update_fields=["status"])
    login(phone_page, resident_user)
    phone_page.goto(f"/volunteers/activities/{activity.pk}/")
    main = phone_page.locator("main")
    expect(main).to_contain_text("报名已截止")
    expect(main.get_by_role("button", name="我要报名")).to_have_count(0)
    shot(phone_page, "activity-closed")


def test_the_street_admin_at_a_desk_sees_no_schedules_and_no_wish_add(page, territory,
                                                                      street_admin):
    """Items 12 and 13 at 1366 px: the scheduled-task app is not on the admin index, and the
    micro-wish list offers no 增加 (a wish is the resident's own) but links to the wish page."""
    login(page, street_admin)
    page.goto("/admin/")
    expect(page.locator("#content-main")).to_be_visible()
    assert "django_celery_beat" not in page.content()
    page.goto("/admin/volunteers/microwish/")
    expect(page.locator(".object-tools a.addlink")).to_have_count(0)  # not the sidebar's
    expect(page.locator('#content a[href="/volunteers/wishes/"]')).to_have_count(1)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "admin-microwish-1366.png"), full_page=True)
