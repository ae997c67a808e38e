"""Petition progress by WeChat template message (accounts.wechat): the outbox, its retries with
backoff, its SMS fallback when WeChat refuses, and the resident's choice of channel."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.models import WechatBinding, WechatMessage
from accounts.wechat import (
    ResidentMessage,
    resident_message_enqueue,
    wechat_bind,
    wechat_channel_set,
    wechat_outbox_deliver,
)
from notifications.models import OutboundMessage
from tests.petitions.factories import submit

pytestmark = pytest.mark.django_db
START = datetime(2026, 11, 16, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _message(text: str = "已受理") -> ResidentMessage:
    return ResidentMessage(
        template="petition_status",
        data={"first": "您的诉求有新进展", "keyword1": "#1", "keyword2": text,
              "keyword3": "11-16 09:00", "remark": "点击查看详情"},
        sms_body=f"【有事您说话】您的诉求（编号 1）{text}。", link="https://portal.test/p/1/")


def test_a_bound_residents_petition_news_arrives_as_a_template_message(
        wechat_fake, resident_user):
    wechat_bind(user=resident_user, openid=wechat_fake.browser_openid)
    petition = submit(resident_user)
    assert not OutboundMessage.objects.filter(recipient=resident_user.phone).exists()
    assert wechat_outbox_deliver() == 1
    [sent] = wechat_fake.sent
    assert sent["touser"] == wechat_fake.browser_openid
    assert sent["data"]["keyword1"] == f"#{petition.pk}"
    assert sent["url"].endswith(f"/petitions/{petition.pk}/")
    message = WechatMessage.objects.get()
    assert message.outcome == WechatMessage.Outcome.SENT and message.processed_at


def test_a_resident_without_wechat_still_gets_the_sms(wechat_fake, resident_user):
    submit(resident_user)
    assert OutboundMessage.objects.filter(recipient=resident_user.phone).count() == 1
    assert not WechatMessage.objects.exists()


def test_wechat_refusing_a_reader_who_unfollowed_sends_the_sms_instead(
        wechat_fake, resident_user):
    wechat_bind(user=resident_user, openid=wechat_fake.browser_openid)
    wechat_fake.unfollowed.add(wechat_fake.browser_openid)
    resident_message_enqueue(user_id=resident_user.pk, message=_message(), dedupe_key="ev:1")
    assert wechat_outbox_deliver() == 0
    message = WechatMessage.objects.get()
    assert message.outcome == WechatMessage.Outcome.FELL_BACK
    assert message.last_error.startswith("43004")
    sms = OutboundMessage.objects.get(recipient=resident_user.phone)
    assert sms.dedupe_key == "ev:1" and "已受理" in sms.body
    assert wechat_outbox_deliver() == 0  # handled: not sent again
    assert OutboundMessage.objects.count() == 1


def test_an_unreachable_wechat_is_retried_with_backoff_then_falls_back_to_sms(
        settings, resident_user):
    settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET = "wx1", "secret"
    settings.WECHAT_TEMPLATES = {"petition_status": "TPL"}
    settings.WECHAT_API_URL = "http://127.0.0.1:9/"  # nothing listens
    settings.WECHAT_TIMEOUT = 0.5
    wechat_bind(user=resident_user, openid="oUnreachableReader0000000aBc")
    with time_machine.travel(START, tick=False) as clock:
        resident_message_enqueue(user_id=resident_user.pk, message=_message(),
                                 dedupe_key="ev:2")
        waits = []
        for _attempt in range(4):
            wechat_outbox_deliver()
            message = WechatMessage.objects.get()
            waits.append(message.next_attempt_at - START)
            assert wechat_outbox_deliver() == 0  # not due yet: nothing is tried
            assert WechatMessage.objects.get().attempts == message.attempts
            clock.move_to(message.next_attempt_at)
        assert [wait - previous for wait, previous in zip(waits, [timedelta(0), *waits],
                                                            strict=False)] == [
            timedelta(minutes=minutes) for minutes in (1, 2, 4, 8)]
        assert not OutboundMessage.objects.exists()
        wechat_outbox_deliver()  # the fifth attempt fails too: the SMS goes
    message = WechatMessage.objects.get()
    assert message.attempts == 5 and message.outcome == WechatMessage.Outcome.FELL_BACK
    assert OutboundMessage.objects.filter(recipient=resident_user.phone).count() == 1


def test_the_same_event_is_queued_once(wechat_fake, resident_user):
    wechat_bind(user=resident_user, openid=wechat_fake.browser_openid)
    for _twice in range(2):
        resident_message_enqueue(user_id=resident_user.pk, message=_message(),
                                 dedupe_key="ev:3")
    assert WechatMessage.objects.count() == 1
    wechat_outbox_deliver()
    wechat_outbox_deliver()
    assert len(wechat_fake.sent) == 1


def test_the_resident_chooses_sms_only_or_both(wechat_fake, resident_user):
    wechat_bind(user=resident_user, openid=wechat_fake.browser_openid)
    wechat_channel_set(user=resident_user, channel=WechatBinding.Channel.SMS)
    assert resident_message_enqueue(user_id=resident_user.pk, message=_message(),
                                    dedupe_key="ev:4") == "sms"
    assert not WechatMessage.objects.exists()
    wechat_channel_set(user=resident_user, channel=WechatBinding.Channel.BOTH)
    assert resident_message_enqueue(user_id=resident_user.pk, message=_message("已办结"),
                                    dedupe_key="ev:5") == "both"
    wechat_outbox_deliver()
    assert len(wechat_fake.sent) == 1
    assert OutboundMessage.objects.filter(recipient=resident_user.phone).count() == 2


def test_without_wechat_configured_a_bound_resident_gets_sms(resident_user, settings):
    WechatBinding.objects.create(user=resident_user, openid="oStaleBinding00000000000000a",
                                 openid_digest="x" * 64)
    assert resident_message_enqueue(user_id=resident_user.pk, message=_message(),
                                    dedupe_key="ev:6") == "sms"
    assert not WechatMessage.objects.exists()


def test_a_message_whose_resident_unbound_meanwhile_goes_by_sms(wechat_fake, resident_user):
    wechat_bind(user=resident_user, openid=wechat_fake.browser_openid)
    resident_message_enqueue(user_id=resident_user.pk, message=_message(), dedupe_key="ev:7")
    WechatBinding.objects.all().delete()
    wechat_outbox_deliver()
    assert WechatMessage.objects.get().outcome == WechatMessage.Outcome.FELL_BACK
    assert not wechat_fake.sent
    assert OutboundMessage.objects.filter(dedupe_key="ev:7").exists()


def test_a_broken_token_answer_retries_the_message_and_does_not_stop_the_outbox(
        settings, resident_user):
    from django.core.cache import cache

    from core import wechat
    from tests.fakes.wechat import serve_raw

    settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET = "wx1", "secret"
    settings.WECHAT_TEMPLATES = {"petition_status": "TPL"}
    body = b'{"expires_in": 7200}'  # no access_token in it
    settings.WECHAT_API_URL, thread = serve_raw(
        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    cache.delete_many([wechat.ACCESS_TOKEN_KEY, f"{wechat.ACCESS_TOKEN_KEY}:lock"])
    wechat_bind(user=resident_user, openid="oBrokenTokenReader000000aBc")
    with time_machine.travel(START, tick=False):
        resident_message_enqueue(user_id=resident_user.pk, message=_message(),
                                 dedupe_key="ev:broken")
        assert wechat_outbox_deliver() == 0
    thread.join(5)
    message = WechatMessage.objects.get()
    assert message.attempts == 1 and message.processed_at is None
    assert message.next_attempt_at == START + timedelta(minutes=1)
