"""Issue #19's acceptance in Chromium on a 390×844 phone with WeChat's user agent, against the
fake WeChat on 127.0.0.1 (tests/fakes/wechat.py):

- the first visit goes through WeChat's 网页授权 and binds the phone with one SMS code;
- the browser closes (the session cookie ends); the second visit signs in with no code;
- a petition status change reaches the fake as a template message, not as an SMS;
- the same flow in an ordinary phone browser still signs in by code and texts the resident.

Celery runs eagerly in tests: the outbox rows written with each event are delivered after
commit, within the request or service call that wrote them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from accounts.models import WechatBinding
from notifications.models import OutboundMessage
from notifications.sms import LocmemSmsBackend
from petitions.models import Petition
from petitions.services import petition_reject
from tests.accounts.conftest import last_code
from tests.accounts.test_wechat_api import WECHAT_UA
from tests.e2e.conftest import PHONE
from tests.petitions.factories import category

SHOTS = Path(__file__).resolve().parents[2] / "var" / "e2e"
SAFARI_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
             "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")


@pytest.fixture(autouse=True)
def _empty_sms_outbox() -> Any:
    LocmemSmsBackend.outbox.clear()
    yield
    LocmemSmsBackend.outbox.clear()


def _phone(browser: Any, live_server: Any, user_agent: str) -> Any:
    """A fresh browser context: closing it ends the session, as closing WeChat does."""
    context = browser.new_context(base_url=live_server.url, user_agent=user_agent, **PHONE)
    context.set_default_timeout(10_000)
    return context


def _sign_in_with_code(page: Any, phone: str) -> None:
    page.fill("input[name=phone]", phone)
    page.click("button[type=submit]")
    page.wait_for_url("**/accounts/phone/verify/**")
    page.fill("input[name=code]", last_code(phone))
    page.click("button[type=submit]")


def _submit_petition(page: Any) -> Petition:
    page.wait_for_url("**/petitions/create/**")
    page.select_option("#id_category", label="环境卫生")
    page.fill("#id_description", "单元门禁坏了，关不上")
    page.fill("#id_location_text", "3号楼1单元门口")
    page.click("form.petition-form button[type=submit]")
    # A redirect keeps the fragment of the address it came from: after WeChat's authorize URL
    # (…#wechat_redirect) the pages carry it on, as they do in WeChat.
    page.wait_for_url(re.compile(r"/petitions/\d+/(#.*)?$"))
    return Petition.objects.latest("pk")


def _texts_to(phone: str) -> list[str]:
    return [sms["message"] for sms in LocmemSmsBackend.outbox if sms["phone"] == phone]


def test_in_wechat_the_first_visit_binds_the_phone_the_second_needs_no_code_and_news_comes_by_template_message(  # noqa: E501
        browser, live_server, transactional_db, wechat_fake, territory, resident_user,
        street_admin):
    SHOTS.mkdir(parents=True, exist_ok=True)
    category()
    phone = resident_user.phone

    # First visit: WeChat's 网页授权 knows nobody yet, so the phone is verified once.
    first = _phone(browser, live_server, WECHAT_UA)
    page = first.new_page()
    page.goto("/petitions/create/")
    page.wait_for_url("**/accounts/phone/**")
    assert page.locator(".wechat-binding").is_visible()
    _sign_in_with_code(page, phone)
    petition = _submit_petition(page)
    page.screenshot(path=str(SHOTS / "wechat-01-bound-and-submitted-390.png"), full_page=True)
    binding = WechatBinding.objects.get(user=resident_user)
    assert binding.openid == wechat_fake.browser_openid
    codes = len(_texts_to(phone))
    assert codes == 1  # the sign-in code; the 已受理 news went by WeChat
    assert [message["data"]["keyword1"] for message in wechat_fake.sent] == [f"#{petition.pk}"]
    first.close()

    # Second visit, after WeChat closed the page: signed in through WeChat, no code.
    second = _phone(browser, live_server, WECHAT_UA)
    page = second.new_page()
    page.goto("/petitions/")
    page.get_by_text("手机号登录后反映诉求").click()  # the landing page's sign-in link
    page.wait_for_url(re.compile(r"/petitions/create/(#.*)?$"))
    assert page.locator("form.petition-form").is_visible()
    page.goto("/petitions/")
    assert page.get_by_text("单元门禁坏了").first.is_visible()
    page.screenshot(path=str(SHOTS / "wechat-02-signed-in-without-code-390.png"), full_page=True)
    assert len(_texts_to(phone)) == codes

    # A status change: the template message reaches the fake, no SMS reaches the phone.
    petition_reject(petition_id=petition.pk, actor=street_admin, reason="不属于受理范围")
    assert len(wechat_fake.sent) == 2
    news = wechat_fake.sent[-1]
    assert news["touser"] == wechat_fake.browser_openid
    assert news["template_id"] == next(iter(wechat_fake.templates))
    assert news["data"]["keyword2"] == "不予受理"
    assert news["url"].endswith(f"/petitions/{petition.pk}/")
    assert len(_texts_to(phone)) == codes
    second.close()


def test_outside_wechat_the_same_flow_signs_in_by_code_and_texts_the_resident(
        browser, live_server, transactional_db, wechat_fake, territory, resident_user,
        street_admin):
    category()
    phone = resident_user.phone
    context = _phone(browser, live_server, SAFARI_UA)
    page = context.new_page()
    page.goto("/petitions/create/")
    page.wait_for_url("**/accounts/phone/**")
    assert page.locator(".wechat-binding").count() == 0
    assert page.locator("#wechat-sdk").count() == 0
    _sign_in_with_code(page, phone)
    petition = _submit_petition(page)
    petition_reject(petition_id=petition.pk, actor=street_admin, reason="不属于受理范围")
    context.close()

    assert not WechatBinding.objects.exists()
    assert wechat_fake.sent == []
    texts = _texts_to(phone)
    assert len(texts) == 3  # the code, 已受理 and 不予受理
    assert "不予受理" in texts[-1]
    assert OutboundMessage.objects.filter(recipient=phone, processed_at__isnull=False).count() == 2


# WeChat's jweixin cannot be fetched here; this stands in for it the way WeChat's browser
# answers (the signed config is checked against the fake's ticket by the test).
WX_STUB = """
window.wx = {
  config: function (config) { window.wxConfig = config; },
  ready: function (callback) { setTimeout(callback, 0); },
  error: function () {},
  getLocation: function (options) {
    options.success({latitude: 31.2304161, longitude: 121.4737012});
  },
  chooseImage: function (options) { options.success({localIds: ["wxLocalResource://1"]}); },
  uploadImage: function (options) { options.success({serverId: "MEDIA-1"}); }
};
"""


def test_in_wechat_the_petition_form_takes_the_location_and_a_photo_through_the_sdk(
        browser, live_server, transactional_db, wechat_fake, territory, resident_user):
    from core import wechat
    from tests.accounts.test_wechat_jssdk import _jpeg
    from tests.e2e.conftest import login

    category()
    wechat_fake.media["MEDIA-1"] = _jpeg()
    context = _phone(browser, live_server, WECHAT_UA)
    page = context.new_page()
    page.add_init_script(WX_STUB)
    login(page, resident_user)
    page.goto("/petitions/create/")
    location = page.get_by_role("button", name="使用我的位置")
    location.wait_for(state="visible")
    config = page.evaluate("window.wxConfig")
    from django.core.cache import cache

    assert config["signature"] == wechat.jsapi_signature(
        ticket=cache.get(wechat.JSAPI_TICKET_KEY), noncestr=config["nonceStr"],
        timestamp=config["timestamp"], url=page.url.split("#")[0])
    location.click()
    assert page.input_value("input[name=latitude]") == "31.230416"
    page.get_by_role("button", name="拍照/从相册选择").click()
    page.locator("[data-wechat-photos] img").wait_for(state="visible")
    page.select_option("#id_category", label="环境卫生")
    page.fill("#id_description", "路灯不亮")
    page.screenshot(path=str(SHOTS / "wechat-03-sdk-location-and-photo-390.png"), full_page=True)
    page.click("form.petition-form button[type=submit]")
    page.wait_for_url(re.compile(r"/petitions/\d+/(#.*)?$"))
    petition = Petition.objects.get()
    assert str(petition.latitude) == "31.230416"
    assert petition.photos.count() == 1
    context.close()
