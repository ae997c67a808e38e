"""A resident proposes on a phone; the branch secretary runs the topic on a desktop; the resident
rates it and sees the published result.

The calendar is real: the decision is recorded at the meeting (the clock travels to the 15th),
the 销号 is confirmed on its own page, and the topic closes once the residents' evaluation
window has ended (the clock travels again). time-machine moves the clock of this process, the
live server's thread included; the sign-ins are made again after a long jump.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from deliberation.models import Topic
from deliberation.services.sessions import session_next_for_compound
from tests.deliberation.conftest import make_secretary
from tests.e2e.conftest import login


@pytest.fixture
def secretary(territory):
    return make_secretary(territory)


def _expect_status(page, text):
    from playwright.sync_api import expect

    expect(page.locator("#topic-status")).to_have_text(re.compile(text))


def test_a_topic_goes_from_a_phone_proposal_to_a_published_result(
        phone_page, page, resident_user, secretary, territory, time_machine):
    from playwright.sync_api import expect

    # 提: the resident proposes on a phone.
    login(phone_page, resident_user)
    phone_page.goto("/deliberation/")
    phone_page.get_by_role("link", name="我要提议").click()
    phone_page.get_by_label("议题").fill("单元门禁亮化改造")
    phone_page.get_by_label("具体情况").fill("单元门口太暗，老人晚上进出不便。")
    phone_page.get_by_role("button", name="提交提议").click()
    _expect_status(phone_page, "提")
    topic = Topic.objects.get()
    # The compound's next deliberation day (the 15th), as the beat task would make it.
    session = session_next_for_compound(compound_id=territory.compound.pk)

    # 议: the branch secretary puts it on the 15th's agenda.
    login(page, secretary)
    page.goto(f"/deliberation/topics/{topic.pk}/")
    page.locator("#schedule-form select[name=session]").select_option(str(session.pk))
    page.locator("#schedule-form").get_by_role("button", name="列入议程").click()
    _expect_status(page, "议")
    expect(page.get_by_role("link", name=session.title)).to_be_visible()

    # 决: not before the meeting; the page says so, and refuses an early decision.
    expect(page.locator("#decide-form")).to_contain_text("开会时或会后才能录入决议")
    time_machine.move_to(session.starts_at + timedelta(minutes=20))
    login(page, secretary)
    page.reload()
    # 决: at the meeting, a vote that reaches the quorum.
    decide = page.locator("#decide-form")
    decide.get_by_label("决议内容").fill("同意由物业实施门禁亮化改造。")
    decide.get_by_label("决议方式").select_option("vote")
    decide.get_by_label("应到人数").fill("9")
    decide.get_by_label("赞成").fill("7")
    decide.get_by_label("反对").fill("1")
    review_on = timezone.localdate(session.starts_at) + timedelta(days=3)
    decide.get_by_label("评议日期").fill(review_on.isoformat())
    decide.get_by_role("button", name="保存决议").click()
    _expect_status(page, "决")
    expect(page.locator("#decision")).to_contain_text("赞成 7")

    # 做: an action item, then ticked off (销号).
    action = page.locator("#action-form")
    action.get_by_label("落实事项").fill("更换单元门禁灯具")
    action.get_by_label("责任人").fill("瑞城物业")
    action.get_by_label("完成时限").fill("2099-01-31")
    action.get_by_role("button", name="添加事项").click()
    _expect_status(page, "做")
    page.get_by_role("link", name="销号").click()
    expect(page.get_by_role("heading", name="确认销号")).to_be_visible()
    page.get_by_label("我已核实该事项已落实完成，确认销号").check()
    page.get_by_role("button", name="确认销号").click()
    _expect_status(page, "评")
    expect(page.locator("#close-form")).to_contain_text("评议期结束后才能办结")

    # 评: the resident rates it on the phone.
    phone_page.goto(f"/deliberation/topics/{topic.pk}/")
    phone_page.get_by_label("满意", exact=True).check()
    phone_page.get_by_role("button", name="提交评议").click()
    expect(phone_page.get_by_text("您家已评议，谢谢！")).to_be_visible()

    # The secretary closes and publishes once the evaluation window is over; the resident sees
    # the published result.
    topic.refresh_from_db()
    time_machine.move_to(topic.evaluation_ends_at + timedelta(minutes=5))
    login(page, secretary)
    login(phone_page, resident_user)
    page.reload()
    page.locator("#close-form").get_by_label("办理结果").fill("门禁灯具已全部更换，居民满意。")
    page.locator("#close-form").get_by_role("button", name="办结公示").click()
    _expect_status(page, "已办结")
    phone_page.goto("/deliberation/")
    results = phone_page.locator("section", has_text="办理结果公示")
    expect(results).to_contain_text("单元门禁亮化改造")
    expect(results).to_contain_text("门禁灯具已全部更换")
    phone_page.goto("/deliberation/results/")
    expect(phone_page.get_by_role("cell", name="门禁灯具已全部更换，居民满意。")).to_be_visible()
