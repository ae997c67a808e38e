"""Browser journeys of the volunteers app: a micro-wish from wish to thanks, and an activity
from sign-up to approved hours."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.utils import timezone

from tests.e2e.conftest import login
from tests.volunteers.conftest import cast, org  # noqa: F401 - fixtures
from tests.volunteers.factories import ActivityFactory
from volunteers.models import MicroWish


def test_a_resident_wishes_a_party_member_claims_and_fulfils_and_the_resident_confirms(
        phone_page, page, territory, resident_user, community_staff, cast):  # noqa: F811
    login(phone_page, resident_user)
    phone_page.goto("/volunteers/wishes/create/")
    phone_page.get_by_label("我的心愿").fill("想学用智能手机视频通话")
    phone_page.get_by_role("button", name="提交心愿").click()
    phone_page.get_by_text("心愿已提交").wait_for()
    wish_url = phone_page.url.replace(phone_page.url.split("/volunteers/")[0], "")

    login(page, community_staff)
    page.goto(wish_url)
    page.get_by_role("button", name="审核通过并发布").click()
    page.get_by_text("已审核发布").wait_for()

    phone_page.context.clear_cookies()
    login(phone_page, cast.member_user)
    phone_page.goto("/volunteers/wishes/?status=published")
    phone_page.get_by_role("link", name="想学用智能手机视频通话").click()
    phone_page.get_by_role("button", name="我来认领").click()
    phone_page.get_by_text("认领成功").wait_for()
    phone_page.get_by_label("完成说明").fill("上门教了两次，已能和孙子视频")
    phone_page.get_by_role("button", name="标记完成").click()
    phone_page.get_by_text("等待居民确认").wait_for()

    phone_page.context.clear_cookies()
    login(phone_page, resident_user)
    phone_page.goto(wish_url)
    assert "上门教了两次" in phone_page.content()
    phone_page.get_by_role("button", name="确认心愿已实现").click()
    phone_page.get_by_text("心愿已实现").first.wait_for()
    assert phone_page.locator("#wish-status").inner_text() == "已实现"
    assert MicroWish.objects.get().status == MicroWish.Status.CONFIRMED


def test_a_volunteer_signs_up_is_checked_in_and_sees_the_approved_hours(
        phone_page, page, territory, community_staff, cast):  # noqa: F811
    now = timezone.now()
    activity = ActivityFactory(compound=territory.compound, title="清雪除冰志愿服务",
                               kind="snow", starts_at=now - timedelta(minutes=5),
                               ends_at=now + timedelta(hours=3), checkin_code="482913")
    login(phone_page, cast.volunteer_user)
    phone_page.goto(f"/volunteers/activities/{activity.pk}/")
    phone_page.get_by_role("button", name="我要报名").click()
    phone_page.get_by_text("报名成功").wait_for()
    assert phone_page.locator("#signup-status").inner_text() == "已报名"

    login(page, community_staff)
    page.goto(f"/volunteers/staff/activities/{activity.pk}/")
    assert page.locator("#checkin-code").inner_text() == "482913"
    assert page.locator(".qr svg").count() == 1
    row = page.locator("tr[data-volunteer='志愿者小张']")
    row.get_by_role("button", name="签到").click()
    page.get_by_text("志愿者小张 已签到").wait_for()

    with time_machine.travel(now + timedelta(hours=2, minutes=5)):
        page.locator("tr[data-volunteer='志愿者小张']").get_by_role("button", name="签退").click()
        page.get_by_text("2.0 小时待认定").wait_for()
        page.locator("tr[data-volunteer='志愿者小张']").get_by_role("button", name="认定").click()
        page.get_by_text("时长已认定").wait_for()

        phone_page.goto("/volunteers/my/hours/")
        ledger = phone_page.locator("#ledger").inner_text()
        assert "清雪除冰志愿服务" in ledger and "2.0" in ledger and "已认定" in ledger
        assert "2.0" in phone_page.locator("#year-totals").inner_text()
