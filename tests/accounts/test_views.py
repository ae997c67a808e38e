from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import PhoneCode, User
from notifications.sms import LocmemSmsBackend
from tests.accounts.conftest import last_code
from tests.accounts.factories import UserFactory

PHONE = "13912345678"
PHONE_LOGIN = reverse("accounts:phone-login")
PHONE_VERIFY = reverse("accounts:phone-verify")
STAFF_LOGIN = reverse("accounts:login")

pytestmark = pytest.mark.django_db


def test_the_phone_page_asks_for_a_number_in_chinese(client):
    response = client.get(PHONE_LOGIN)
    assert response.status_code == 200
    assert "居民手机号登录" in response.text
    assert "获取验证码" in response.text


def test_a_resident_signs_in_with_a_phone_and_code_and_goes_to_next(client, resident_user):
    response = client.post(PHONE_LOGIN, {"phone": resident_user.phone, "next": "/petitions/"})
    assert response.status_code == 302
    verify_page = client.get(response["Location"])
    assert "验证码已发送" in verify_page.text
    assert "138****1111" in verify_page.text
    response = client.post(PHONE_VERIFY, {"code": last_code(resident_user.phone),
                                          "next": "/petitions/"})
    assert response.status_code == 302
    assert response["Location"] == "/petitions/"
    assert int(client.session["_auth_user_id"]) == resident_user.pk


def test_it_never_redirects_to_another_site_after_sign_in(client):
    client.post(PHONE_LOGIN, {"phone": PHONE})
    response = client.post(PHONE_VERIFY, {"code": last_code(PHONE),
                                          "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_known_and_unknown_phones_get_identical_answers(resident_user):
    known_client, unknown_client = Client(), Client()
    known = known_client.post(PHONE_LOGIN, {"phone": resident_user.phone})
    unknown = unknown_client.post(PHONE_LOGIN, {"phone": "13700009999"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    known_page = known_client.get(known["Location"]).text.replace("138****1111", "X")
    unknown_page = unknown_client.get(unknown["Location"]).text.replace("137****9999", "X")
    # The CSRF token differs between requests; everything else must be the same.
    token = re.compile(r'value="[A-Za-z0-9]{64}"|"X-CSRFToken": "[^"]+"')
    assert token.sub("", known_page) == token.sub("", unknown_page)
    assert "验证码已发送" in known_page


def test_a_bad_phone_gets_a_chinese_error_not_a_500(client):
    response = client.post(PHONE_LOGIN, {"phone": "12345"})
    assert response.status_code == 400
    assert "请输入正确的11位手机号码" in response.text
    assert LocmemSmsBackend.outbox == []


def test_an_empty_phone_gets_a_chinese_error(client):
    response = client.post(PHONE_LOGIN, {})
    assert response.status_code == 400
    assert "请输入手机号" in response.text


def test_a_rate_limited_request_shows_the_reason(client):
    client.post(PHONE_LOGIN, {"phone": PHONE})
    response = client.post(PHONE_LOGIN, {"phone": PHONE})
    assert response.status_code == 429
    assert "秒后再重新获取" in response.text


def test_a_forged_x_forwarded_for_does_not_bypass_the_ip_limit(client, settings):
    settings.NUM_PROXIES = 0
    settings.OTP_MAX_PER_IP_PER_HOUR = 2
    for index in range(2):
        client.post(PHONE_LOGIN, {"phone": f"1390000000{index}"},
                    HTTP_X_FORWARDED_FOR=f"198.51.100.{index}")
    response = client.post(PHONE_LOGIN, {"phone": "13900000009"},
                           HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert response.status_code == 429
    assert "当前网络" in response.text
    assert set(PhoneCode.objects.values_list("requested_ip", flat=True)) == {"127.0.0.1"}


def test_a_wrong_code_shows_a_chinese_error_and_keeps_the_resident_signed_out(client):
    client.post(PHONE_LOGIN, {"phone": PHONE})
    code = last_code(PHONE)
    response = client.post(PHONE_VERIFY, {"code": f"{(int(code) + 1) % 1_000_000:06d}"})
    assert response.status_code == 400
    assert "验证码错误" in response.text
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("code", ["", "12", "abcdef", "1234567"])
def test_malformed_codes_get_a_chinese_error(client, code):
    client.post(PHONE_LOGIN, {"phone": PHONE})
    response = client.post(PHONE_VERIFY, {"code": code})
    assert response.status_code == 400
    assert "验证码" in response.text


def test_an_expired_code_on_the_page_says_so(client):
    client.post(PHONE_LOGIN, {"phone": PHONE})
    code = last_code(PHONE)
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        response = client.post(PHONE_VERIFY, {"code": code})
    assert response.status_code == 400
    assert "验证码已失效" in response.text


def test_the_code_page_without_a_pending_phone_goes_back_to_step_one(client):
    assert client.get(PHONE_VERIFY)["Location"] == PHONE_LOGIN
    response = client.post(PHONE_VERIFY, {"code": "123456"})
    assert response["Location"] == PHONE_LOGIN


def test_the_staff_login_page_links_to_phone_sign_in(client):
    response = client.get(STAFF_LOGIN)
    assert "居民请用手机号登录" in response.text
    assert PHONE_LOGIN in response.text


def test_staff_sign_in_with_a_password(client, grid_worker):
    response = client.post(STAFF_LOGIN, {"username": "gridw", "password": "pass-1234"})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == grid_worker.pk


def test_staff_login_refuses_residents_with_a_clear_message(client, territory):
    UserFactory(username="wang", role=User.Role.RESIDENT)
    response = client.post(STAFF_LOGIN, {"username": "wang", "password": "pass-1234"})
    assert response.status_code == 200
    assert "居民账户请使用手机号验证码登录" in response.text
    assert "_auth_user_id" not in client.session


def test_staff_login_refuses_external_systems(client, territory):
    UserFactory(username="hotline", role=User.Role.EXTERNAL_SYSTEM)
    response = client.post(STAFF_LOGIN, {"username": "hotline", "password": "pass-1234"})
    assert "外部系统账户不能登录网页" in response.text
    assert "_auth_user_id" not in client.session


def test_a_superuser_with_the_default_role_may_still_sign_in(client, territory):
    UserFactory(username="root", role=User.Role.RESIDENT, is_superuser=True, is_staff=True)
    response = client.post(STAFF_LOGIN, {"username": "root", "password": "pass-1234"})
    assert response.status_code == 302


def test_a_wrong_password_does_not_reveal_the_role(client, territory):
    UserFactory(username="wang", role=User.Role.RESIDENT)
    response = client.post(STAFF_LOGIN, {"username": "wang", "password": "nope"})
    assert "用户名或密码不正确" in response.text
    assert "居民" not in response.text.split("<main")[1].split("居民请用手机号登录")[0]


def test_logout_is_a_post(client, grid_worker):
    client.force_login(grid_worker)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
