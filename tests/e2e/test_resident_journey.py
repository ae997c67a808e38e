"""Issue #17's acceptance, end to end in Chromium on a 390×844 phone: a resident gets the session
notice, signs up, comments on a topic, answers a three-question survey, later rates the executed
topic and sees the published survey results.

Staff's part is set up through the services (a three-question survey opened, the next 15th's
session with an agenda and a resident's topic, the notice task run; later the decision, an action
item and its tick-off); the resident's part is driven in the browser, following the links the
pages and the inbox give. The clock travels with time_machine (the live server runs in this
process). At each step: what the resident sees, no sideways scroll at 390 px, no serious or
critical axe finding, a screenshot under var/e2e/, and no page the resident opens answers 4xx/5xx.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User
from deliberation.models import ActionItem, SurveyQuestion, Topic
from deliberation.services.participation import sessions_notify_upcoming
from deliberation.services.sessions import agenda_item_add, session_next_for_compound
from deliberation.services.surveys import survey_create, survey_open, survey_question_add
from deliberation.services.topics import (
    action_item_add,
    action_item_tick_off,
    topic_decide,
    topic_propose,
    topic_schedule,
)
from tests.accounts.factories import UserFactory
from tests.e2e.conftest import PHONE, _page, login
from tests.e2e.test_accessibility import serious_violations
from tests.residents.factories import ResidentFactory

SHOTS = Path(__file__).resolve().parents[2] / "var" / "e2e"


def _local(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


@pytest.fixture
def phone(browser: Any, live_server: Any, transactional_db: None) -> Any:
    # CSP allows only the pages' own nonced scripts: axe is the test's, so the context bypasses it.
    yield from _page(browser, live_server, PHONE, bypass_csp=True)


@pytest.fixture
def neighbour(territory: Any) -> User:
    user = UserFactory(username="neighbour", role=User.Role.RESIDENT, phone="13800002222")
    ResidentFactory(household=territory.household2, name="李大爷", user=user)
    return user


class Journey:
    """The resident's phone: each step checks the width, runs axe and keeps a screenshot; every
    document the browser loads is recorded, so a 403 / 404 / 500 on any followed link fails."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.findings: list[str] = []
        self.failed: list[str] = []
        self.step = 0
        page.on("response", self._record)

    def _record(self, response: Any) -> None:
        if response.request.resource_type == "document" and response.status >= 400:
            self.failed.append(f"{response.status} {response.url}")

    def check(self, name: str) -> None:
        page = self.page
        page.wait_for_load_state()
        assert self.failed == [], self.failed
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{page.url} is {width}px wide"
        self.step += 1
        page.screenshot(path=str(SHOTS / f"journey-{self.step:02d}-{name}-390.png"),
                        full_page=True)
        # axe reloads the page; without its #anchor, or Chromium only scrolls and loads nothing.
        url = page.url.split("#")[0]
        self.findings += serious_violations(page, url)
        assert page.url == url


def test_a_resident_on_a_phone_hears_of_the_session_signs_up_comments_answers_the_survey_rates_the_topic_and_reads_the_results(  # noqa: E501
        phone, territory, community_staff, resident_user, neighbour, time_machine):
    from playwright.sync_api import expect

    SHOTS.mkdir(parents=True, exist_ok=True)
    # Wednesday 13 January 2027, 10:00 in Shanghai: the 15th is two days away.
    time_machine.move_to(_local(date(2027, 1, 13), 10))
    today = timezone.localdate()
    compound = territory.compound

    # Staff: a three-question survey, open for a week.
    survey = survey_create(actor=community_staff, compound=compound, title="车棚照明满意度调查",
                           opens_on=today, closes_on=today + timedelta(days=7))
    survey_question_add(survey=survey, actor=community_staff, kind=SurveyQuestion.Kind.SINGLE,
                        text="您最常停车的位置", options=["北门车棚", "南门车棚"])
    survey_question_add(survey=survey, actor=community_staff, kind=SurveyQuestion.Kind.SCALE,
                        text="夜间照明打几分")
    survey_question_add(survey=survey, actor=community_staff, kind=SurveyQuestion.Kind.TEXT,
                        text="其他建议")
    survey_open(survey=survey, actor=community_staff)

    # The next 15th's session, a neighbour's topic on its agenda and a standing item; the notice.
    session = session_next_for_compound(compound_id=compound.pk)
    assert timezone.localtime(session.starts_at).date() == date(2027, 1, 15)
    topic = topic_propose(compound=compound, actor=neighbour, title="北门车棚加装照明",
                          description="车棚晚上太黑，老人取车容易摔倒。")
    topic_schedule(topic=topic, session=session, actor=community_staff)
    agenda_item_add(session=session, actor=community_staff, title="上月决议落实情况通报")
    assert sessions_notify_upcoming(now=timezone.now()) == 1

    login(phone, resident_user)
    journey = Journey(phone)

    # 1. The inbox has the notice, with the date and the agenda.
    phone.goto("/inbox/")
    notice = phone.get_by_role("link", name=f"议事会通知：{session.title}").first
    expect(notice).to_contain_text("01月15日 09:00")
    expect(phone.locator("body")).to_contain_text("议程：北门车棚加装照明；上月决议落实情况通报")
    journey.check("inbox-notice")

    # 2. The notice opens the session; the resident signs up.
    notice.click()
    expect(phone.locator("h1")).to_have_text(session.title)
    expect(phone.locator(".delib-agenda")).to_contain_text("北门车棚加装照明")
    expect(phone.locator(".delib-agenda")).to_contain_text("上月决议落实情况通报")
    phone.get_by_role("button", name="我要参加").click()
    expect(phone.locator("#signed-up")).to_have_text("您已报名。")
    expect(phone.locator("#sign-up-count")).to_contain_text("已报名 1 人")
    journey.check("session-signed-up")

    # 3. The agenda's topic: the resident comments, and sees it as their own ("我").
    phone.locator(".delib-agenda").get_by_role("link", name="北门车棚加装照明").click()
    expect(phone.locator("h1")).to_contain_text("北门车棚加装照明")
    phone.get_by_label("说说您的看法").fill("赞成，建议用声控灯，省电。")
    phone.get_by_role("button", name="发言").click()
    comments = phone.locator("#comments")
    expect(comments).to_contain_text("赞成，建议用声控灯，省电。")
    expect(comments).to_contain_text("我 · ")
    journey.check("topic-commented")

    # 4. The survey, from the deliberation home: all three questions answered.
    phone.goto("/deliberation/")
    expect(phone.locator(".delib-survey")).to_contain_text("车棚照明满意度调查")
    journey.check("home-survey-open")
    phone.locator(".delib-survey").get_by_role("link", name="参加测评").click()
    expect(phone.locator("h1")).to_have_text("车棚照明满意度调查")
    expect(phone.locator("fieldset.survey-question")).to_have_count(3)
    journey.check("survey-form")
    phone.get_by_label("北门车棚").check()
    phone.get_by_label("4", exact=True).check()
    phone.get_by_label("您的回答").fill("希望车棚装监控，电话13912345678联系我")
    phone.get_by_role("button", name="提交").click()
    expect(phone.get_by_text("感谢您填写问卷")).to_be_visible()
    phone.goto(f"/deliberation/surveys/{survey.pk}/")
    answered = phone.locator("#survey-answered")
    expect(answered).to_contain_text("北门车棚")
    expect(answered).to_contain_text("4 分")
    expect(answered).not_to_contain_text("13912345678")
    journey.check("survey-answered")

    # Friday the 15th, after the session: decided by consensus, one action item.
    time_machine.move_to(_local(date(2027, 1, 15), 11))
    topic = topic_decide(topic=topic, actor=community_staff, decision_text="北门车棚加装声控灯4盏",
                         mode=Topic.DecisionMode.CONSENSUS, review_on=date(2027, 1, 22))
    item = action_item_add(topic=topic, actor=community_staff, title="采购并安装声控灯",
                           owner_name="物业工程部", deadline=date(2027, 1, 19))
    # Monday the 18th: the lights are in, the item ticked off, the topic goes to 评.
    time_machine.move_to(_local(date(2027, 1, 18), 10))
    action_item_tick_off(item=item, actor=community_staff)
    topic.refresh_from_db()
    assert topic.status == Topic.Status.EVALUATING
    assert topic.action_items.get().status == ActionItem.Status.DONE

    # 5. The inbox asks the resident (who discussed it) to rate; the link opens the 评 form.
    login(phone, resident_user)
    phone.goto("/inbox/")
    ask = phone.get_by_role("link", name="议题已落实，请您评议：北门车棚加装照明").first
    expect(ask).to_be_visible()
    journey.check("inbox-rate")
    ask.click()
    rate = phone.locator("#rate")
    expect(rate).to_contain_text("n = 0 户")
    phone.get_by_label("满意", exact=True).check()
    phone.get_by_role("button", name="提交评议").click()
    expect(phone.locator("#rating-n")).to_contain_text("n = 1 户")
    expect(rate).to_contain_text("您家已评议，谢谢！（每户一次）")
    expect(rate).to_contain_text("满意 1 · 基本满意 0 · 不满意 0")
    journey.check("topic-rated")

    # 6. Thursday the 21st: the survey closed yesterday, its results are published.
    time_machine.move_to(_local(date(2027, 1, 21), 9))
    login(phone, resident_user)
    phone.goto("/deliberation/")
    results_list = phone.locator("#survey-results-list")
    expect(results_list).to_contain_text("1 户参与")
    journey.check("home-results")
    results_list.get_by_role("link", name="车棚照明满意度调查").click()
    results = phone.locator("#survey-results")
    expect(phone.locator("h1")).to_contain_text("车棚照明满意度调查 · 结果")
    expect(results.locator(".survey-n")).to_have_count(3)
    expect(results).to_contain_text("n = 1 户作答")
    expect(results).to_contain_text("1 户 · 100%")
    expect(results).to_contain_text("平均 4")
    expect(results).to_contain_text("文字回答仅工作人员可见")
    expect(results).not_to_contain_text("希望车棚装监控")
    expect(phone.locator("body")).not_to_contain_text("工作人员可见；截止后向居民公示")
    journey.check("survey-results")

    assert journey.failed == []
    assert journey.findings == []
