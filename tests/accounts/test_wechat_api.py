"""core.wechat against the fake WeChat (tests/fakes/wechat.py): code exchange, the shared
access_token and jsapi_ticket, the JS-SDK signature, template messages and media."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.cache import cache

from core import wechat
from tests.fakes.wechat import TEMPLATE_FIELDS

WECHAT_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
             "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI")


def _code(fake) -> str:
    status, headers, _body = fake.authorize({
        "appid": fake.app_id, "redirect_uri": "https://portal.test/cb", "scope": "snsapi_base",
        "state": "s"})
    assert status == 302
    return headers["Location"].split("code=")[1].split("&")[0]


def test_it_tells_wechats_browser_from_other_phone_browsers():
    assert wechat.is_wechat_browser(WECHAT_UA)
    assert not wechat.is_wechat_browser("Mozilla/5.0 (iPhone) Safari/604.1")
    assert not wechat.is_wechat_browser(WECHAT_UA + " wxwork/4.1")  # WeCom is not WeChat
    assert not wechat.is_wechat_browser("")


def test_the_authorize_url_asks_for_the_openid_only_and_ends_with_wechat_redirect(wechat_fake):
    url = wechat.oauth_authorize_url(redirect_uri="https://portal.test/cb?next=/x", state="abc")
    assert "/connect/oauth2/authorize?appid=" in url
    assert "scope=snsapi_base" in url
    assert "redirect_uri=https%3A%2F%2Fportal.test%2Fcb%3Fnext%3D%2Fx" in url
    assert url.endswith("#wechat_redirect")


def test_a_code_is_exchanged_for_the_openid_once(wechat_fake):
    code = _code(wechat_fake)
    assert wechat.oauth_openid(code=code) == wechat_fake.browser_openid
    with pytest.raises(wechat.WechatError) as used:
        wechat.oauth_openid(code=code)
    assert used.value.errcode == 40163


def test_an_expired_or_unknown_code_is_refused_with_40029(wechat_fake):
    wechat_fake.code_ttl = 0.01
    code = _code(wechat_fake)
    time.sleep(0.05)
    with pytest.raises(wechat.WechatError) as expired:
        wechat.oauth_openid(code=code)
    assert expired.value.errcode == 40029
    with pytest.raises(wechat.WechatError) as unknown:
        wechat.oauth_openid(code="not-a-code")
    assert unknown.value.errcode == 40029


def test_a_wrong_secret_is_refused_with_40125_and_the_secret_is_not_in_the_error(
        wechat_fake, settings):
    settings.WECHAT_APP_SECRET = "wrong0secret0wrong0secret0wrong00"
    with pytest.raises(wechat.WechatError) as refused:
        wechat.access_token()
    assert refused.value.errcode == 40125
    assert "wrong0secret" not in str(refused.value)
    with pytest.raises(wechat.WechatError) as oauth_refused:
        wechat.oauth_openid(code=_code(wechat_fake))
    assert oauth_refused.value.errcode == 40125


def test_an_unreachable_wechat_is_an_error_that_names_no_url(settings):
    settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET = "wx1", "secret-in-the-url"
    settings.WECHAT_API_URL = "http://127.0.0.1:9/"  # discard: nothing listens
    with pytest.raises(wechat.WechatError) as unreachable:
        wechat.oauth_openid(code="c")
    assert unreachable.value.is_unreachable
    assert "secret-in-the-url" not in str(unreachable.value)


def test_the_access_token_is_fetched_once_and_reused_until_near_expiry(wechat_fake):
    token = wechat.access_token()
    assert wechat.access_token() == token
    assert wechat_fake.token_fetches == 1


def test_a_short_lived_token_is_refreshed_before_wechat_expires_it(wechat_fake):
    wechat_fake.token_ttl = 2  # kept for half its life: refreshed after 1 s, valid for 2 s
    first = wechat.access_token()
    time.sleep(1.1)
    second = wechat.access_token()
    assert second != first
    assert wechat_fake.token_fetches == 2


def test_two_workers_needing_a_token_at_once_fetch_it_once(wechat_fake):
    """The fetch is slow, so both threads find the cache empty; the lock makes one of them
    fetch and the other wait for its token (WeChat voids the older of two fetched tokens)."""
    wechat_fake.token_delay = 0.3
    tokens: list[str] = []
    start = threading.Barrier(2)

    def worker() -> None:
        start.wait()
        tokens.append(wechat.access_token())

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wechat_fake.token_fetches == 1
    assert len(tokens) == 2
    assert tokens[0] == tokens[1]


def test_a_token_wechat_expired_early_is_replaced_and_the_call_made_again(wechat_fake):
    wechat.access_token()
    wechat_fake.expire_token()  # 42001 for the cached token
    wechat_fake.followers.add("oReaderOfTheAccount0000000aB")
    msgid = wechat.template_send(openid="oReaderOfTheAccount0000000aB",
                                 template_id=next(iter(wechat_fake.templates)),
                                 data=dict.fromkeys(TEMPLATE_FIELDS, "x"))
    assert msgid
    assert wechat_fake.token_fetches == 2
    assert wechat_fake.refused[0]["errcode"] == 42001


def test_the_jsapi_signature_matches_wechats_documented_example():
    signature = wechat.jsapi_signature(
        ticket="sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
        noncestr="Wm3WZYTPz0wzccnW", timestamp=1414587457,
        url="http://mp.weixin.qq.com?params=value#the-fragment-is-not-signed")
    assert signature == "0f9de62fce790f9a083d5c99e95740ceb90c27ed"


def test_the_jsapi_ticket_is_shared_and_fetched_once(wechat_fake):
    first = wechat.jsapi_config(url="https://portal.test/petitions/new/")
    second = wechat.jsapi_config(url="https://portal.test/petitions/new/")
    assert wechat_fake.ticket_fetches == 1
    assert first.app_id == wechat_fake.app_id
    ticket = cache.get(wechat.JSAPI_TICKET_KEY)
    assert first.signature == wechat.jsapi_signature(
        ticket=ticket, noncestr=first.nonce_str, timestamp=first.timestamp,
        url="https://portal.test/petitions/new/")
    assert second.nonce_str != first.nonce_str


def test_a_template_message_to_a_reader_who_unfollowed_is_refused_with_43004(wechat_fake):
    reader = wechat_fake.new_browser()
    wechat_fake.unfollowed.add(reader)
    with pytest.raises(wechat.WechatError) as refused:
        wechat.template_send(openid=reader, template_id=next(iter(wechat_fake.templates)),
                             data=dict.fromkeys(TEMPLATE_FIELDS, "x"))
    assert refused.value.errcode == 43004
    assert not refused.value.is_unreachable


def test_uploaded_media_is_downloaded_and_an_unknown_id_refused(wechat_fake):
    wechat_fake.media["MEDIA1"] = b"\xff\xd8\xff\xe0jpeg"
    assert wechat.media_get(media_id="MEDIA1") == b"\xff\xd8\xff\xe0jpeg"
    with pytest.raises(wechat.WechatError) as unknown:
        wechat.media_get(media_id="nope")
    assert unknown.value.errcode == 40007


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{\"openid\":",  # cut off mid-body
    b"SSH-2.0-OpenSSH_9.6\r\n\r\n",  # not HTTP at all
    b"HTTP/1.1 200 OK\r\nContent-Length: 29\r\n\r\n{\"errcode\":\"busy\",\"errmsg\":1}",
], ids=["truncated", "not-http", "errcode-not-a-number"])
def test_a_broken_answer_is_a_wechat_error_not_a_crash(settings, answer):
    from tests.fakes.wechat import serve_raw

    settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET = "wx1", "secret-in-the-url"
    settings.WECHAT_API_URL, thread = serve_raw(answer)
    with pytest.raises(wechat.WechatError) as broken:
        wechat.oauth_openid(code="c")
    thread.join(5)
    assert broken.value.is_unreachable
    assert "secret-in-the-url" not in str(broken.value)


def test_a_token_answer_without_the_token_is_a_wechat_error(settings):
    from tests.fakes.wechat import serve_raw

    settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET = "wx1", "secret"
    body = b'{"expires_in": 7200}'
    settings.WECHAT_API_URL, thread = serve_raw(
        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    cache.delete_many([wechat.ACCESS_TOKEN_KEY, f"{wechat.ACCESS_TOKEN_KEY}:lock"])
    with pytest.raises(wechat.WechatError) as broken:
        wechat.access_token()
    thread.join(5)
    assert broken.value.is_unreachable
    assert cache.get(wechat.ACCESS_TOKEN_KEY) is None
