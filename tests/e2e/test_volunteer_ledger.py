"""The ledger's pages on a phone (390 px): a volunteer checks in at their shift and finds its
hours pending, a no-show and an expired qualification in their ledger, and the calendar link;
a carer logs a visit with its time and need and turns the need into a proxy service; staff
open the volunteer's page. No page scrolls sideways."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from tests.e2e.conftest import login
from tests.residents.factories import ResidentFactory
from tests.volunteers.conftest import cast, org  # noqa: F401 - fixtures
from tests.volunteers.factories import ServicePostFactory
from volunteers.models import CareFile, QualificationKind, Shift
from volunteers.services import activities, care, rosters

SIDEWAYS = "document.documentElement.scrollWidth > window.innerWidth"


def _fits(page: Any, path: str) -> None:
    page.goto(path)
    assert not page.evaluate(SIDEWAYS), f"{path} scrolls sideways at 390 px"


def test_the_ledger_pages_work_on_a_phone(phone_page, territory, community_staff,
                                          cast):  # noqa: F811
    post = ServicePostFactory(compound=territory.compound, name="文明引导岗", location="小区广场")
    now = timezone.now()
    Shift.objects.create(post=post, volunteer=cast.volunteer, starts_at=now - timedelta(minutes=5),
                         ends_at=now + timedelta(hours=2), remind_at=now)
    missed = Shift.objects.create(post=post, volunteer=cast.volunteer,
                                  starts_at=now - timedelta(days=3),
                                  ends_at=now - timedelta(days=3) + timedelta(hours=2),
                                  remind_at=now)
    rosters.shift_no_show_record(shift=missed, actor=community_staff, note="未提前请假")
    activities.qualification_record(volunteer=cast.volunteer, actor=community_staff,
                                    kind=QualificationKind.FIRST_AID,
                                    obtained_on=timezone.localdate() - timedelta(days=900),
                                    expires_on=timezone.localdate() - timedelta(days=5))

    login(phone_page, cast.volunteer_user)
    phone_page.goto("/volunteers/")
    phone_page.get_by_role("button", name="签到").click()
    phone_page.get_by_text("值班签到成功").wait_for()
    _fits(phone_page, "/volunteers/my/hours/")
    ledger = phone_page.locator("#ledger").inner_text()
    assert "文明引导岗" in ledger and "待审核" in ledger
    assert "未提前请假" in phone_page.locator("#no-shows").inner_text()
    assert "已过期" in phone_page.locator("#qualifications").inner_text()
    _fits(phone_page, "/volunteers/my/calendar/")
    phone_page.get_by_role("button", name="生成订阅链接").click()
    phone_page.get_by_text("已生成新的订阅链接").wait_for()
    assert "/volunteers/calendar/" in phone_page.locator("#feed-url").input_value()
    assert not phone_page.evaluate(SIDEWAYS)

    elder = ResidentFactory(household=territory.household1, name="独居老人赵")
    care_file = care.care_file_create(resident=elder, actor=community_staff,
                                      category=CareFile.Category.ELDER_ALONE,
                                      risk=CareFile.Risk.HIGH, caretaker=cast.carer)
    phone_page.context.clear_cookies()
    login(phone_page, cast.carer_user)
    _fits(phone_page, f"/volunteers/care/{care_file.pk}/")
    phone_page.get_by_label("走访时长（分钟）").fill("45")
    phone_page.get_by_label("发现需求").fill("代缴本月燃气费")
    phone_page.get_by_role("button", name="保存").click()
    phone_page.get_by_text("走访已记录").wait_for()
    phone_page.get_by_text("转帮办代办", exact=True).click()
    phone_page.get_by_label("同意人").fill("本人")
    phone_page.get_by_role("button", name="转为帮办代办").click()
    phone_page.get_by_text("已转为帮办代办").first.wait_for()
    assert not phone_page.evaluate(SIDEWAYS)
    assert care_file.visits.get().proxy_service.title == "代缴本月燃气费"

    phone_page.context.clear_cookies()
    login(phone_page, community_staff)
    _fits(phone_page, f"/volunteers/staff/volunteers/{cast.volunteer.pk}/")
