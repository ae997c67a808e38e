"""A resident on a 390 px phone takes part: reads the session notice in the inbox, signs up,
comments on a topic, sees the 评 with n and its distribution and their own topics; staff print
the sign-in sheet. No page is wider than the phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from deliberation.models import AgendaItem, Session, Topic
from deliberation.services.participation import sessions_notify_upcoming, topic_comment_add
from tests.accounts.factories import UserFactory
from tests.deliberation.factories import SessionFactory, TopicFactory
from tests.e2e.conftest import login
from tests.residents.factories import ResidentFactory


@pytest.fixture
def neighbour(territory) -> User:
    user = UserFactory(username="neighbour", role=User.Role.RESIDENT, phone="13800002222")
    ResidentFactory(household=territory.household2, name="李大爷", user=user)
    return user


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width}px wide"


def test_a_resident_on_a_phone_hears_of_the_session_signs_up_and_discusses(
        phone_page, page, resident_user, neighbour, community_staff, territory):
    from playwright.sync_api import expect

    session = SessionFactory(compound=territory.compound, kind=Session.Kind.MONTHLY,
                             period="2099-01", title="本月议事日",
                             starts_at=timezone.now() + timedelta(days=2))
    AgendaItem.objects.create(session=session, title="电动车充电桩选址")
    sessions_notify_upcoming(now=timezone.now())
    topic = TopicFactory(compound=territory.compound, proposer=resident_user,
                         title="非机动车棚扩建", status=Topic.Status.EVALUATING,
                         evaluation_ends_at=timezone.now() + timedelta(days=5))
    topic_comment_add(topic=topic, actor=neighbour,
                      body="车棚建议放在5号楼北侧空地，不占绿地，很长的一句话也不会撑破手机屏幕。")

    login(phone_page, resident_user)
    phone_page.goto("/inbox/")
    phone_page.get_by_role("link", name="议事会通知：本月议事日").first.click()
    expect(phone_page.locator("h1")).to_have_text("本月议事日")
    _fits(phone_page)
    phone_page.get_by_role("button", name="我要参加").click()
    expect(phone_page.locator("#signed-up")).to_be_visible()
    _fits(phone_page)

    phone_page.goto(f"/deliberation/topics/{topic.pk}/")
    phone_page.get_by_label("说说您的看法").fill("同意，希望尽快动工。")
    phone_page.get_by_role("button", name="发言").click()
    expect(phone_page.locator("#comments")).to_contain_text("同意，希望尽快动工。")
    expect(phone_page.locator("#comments")).to_contain_text("李** · ")
    phone_page.get_by_label("基本满意").check()
    phone_page.get_by_role("button", name="提交评议").click()
    expect(phone_page.locator("#rating-n")).to_contain_text("n = 1")
    _fits(phone_page)

    phone_page.goto("/deliberation/")
    expect(phone_page.get_by_text("您已报名。").first).to_be_visible()
    _fits(phone_page)

    phone_page.goto("/deliberation/my/topics/")
    expect(phone_page.locator("#my-topics")).to_contain_text("非机动车棚扩建")
    _fits(phone_page)

    # Staff print the sign-in sheet (it fits a phone too: staff use phones at the door).
    login(page, community_staff)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/deliberation/staff/sessions/{session.pk}/sign-in-sheet/")
    expect(page.locator("#sign-in-sheet")).to_contain_text("王**")
    _fits(page)


@pytest.fixture
def audited_phone(browser, live_server, transactional_db):
    from tests.e2e.conftest import PHONE, _page

    # CSP allows only our own nonced scripts: the audit script is the test's, not the page's.
    yield from _page(browser, live_server, PHONE, bypass_csp=True)


def test_the_participation_pages_meet_wcag_aa_on_a_phone(
        audited_phone, resident_user, neighbour, community_staff, territory):
    from tests.e2e.test_accessibility import serious_violations

    session = SessionFactory(compound=territory.compound,
                             starts_at=timezone.now() - timedelta(hours=1))
    topic = TopicFactory(compound=territory.compound, proposer=resident_user,
                         status=Topic.Status.EVALUATING,
                         evaluation_ends_at=timezone.now() + timedelta(days=5))
    topic_comment_add(topic=topic, actor=neighbour, body="同意")
    topic_comment_add(topic=topic, actor=resident_user, body="谢谢支持")
    login(audited_phone, resident_user)
    findings: list[str] = []
    for url in (f"/deliberation/topics/{topic.pk}/", f"/deliberation/sessions/{session.pk}/",
                "/deliberation/my/topics/", "/deliberation/"):
        findings += serious_violations(audited_phone, url)
    login(audited_phone, community_staff)
    for url in (f"/deliberation/topics/{topic.pk}/",
                f"/deliberation/staff/sessions/{session.pk}/sign-in-sheet/"):
        findings += serious_violations(audited_phone, url)
    assert findings == []
