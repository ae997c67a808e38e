from __future__ import annotations

import re

from accounts.models import User
from notifications.sms import LocmemSmsBackend
from tests.accounts.factories import UserFactory

PHONE = "13912345678"


def test_a_resident_signs_in_with_a_phone_code_on_a_phone(phone_page):
    LocmemSmsBackend.outbox.clear()
    phone_page.goto("/accounts/login/")
    phone_page.get_by_role("link", name="居民请用手机号登录").click()
    phone_page.get_by_label("手机号").fill(PHONE)
    phone_page.get_by_role("button", name="获取验证码").click()
    phone_page.get_by_text("验证码已发送，请查收短信。").wait_for()
    assert "139****5678" in phone_page.content()
    code = re.search(r"\d{6}", LocmemSmsBackend.outbox[-1]["message"]).group(0)
    phone_page.get_by_label("验证码").fill(code)
    phone_page.get_by_role("button", name="登录").click()
    # Signed in, the phone's header has a menu (hidden while signed out here) holding 退出.
    phone_page.locator(".menu > summary").click()
    phone_page.get_by_role("button", name="退出").wait_for()
    # Nothing on the sign-in pages is wider than the phone.
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    assert User.objects.get(phone=PHONE).role == User.Role.RESIDENT


def test_a_staff_member_is_told_off_for_a_wrong_password(page):
    UserFactory(username="gridw", role=User.Role.GRID_WORKER)
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill("gridw")
    page.get_by_label("密码").fill("wrong")
    page.get_by_role("button", name="登录").click()
    page.get_by_text("用户名或密码不正确。").wait_for()
