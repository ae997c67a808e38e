"""The Alibaba Cloud SMS backend against a fake dysmsapi on 127.0.0.1 that checks signatures."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator

import pytest
from django.core import checks
from django.test import override_settings

from accounts.checks import sms_backend_check
from accounts.services import phone_code_request
from notifications.models import OutboundMessage
from notifications.services import outbox_deliver
from notifications.sms_aliyun import AliyunSmsBackend, SmsGatewayError, sign
from tests.fakes.aliyun_sms import FakeAliyunSms, serve

ALIYUN = "notifications.sms_aliyun.AliyunSmsBackend"


@pytest.fixture
def gateway() -> Iterator[FakeAliyunSms]:
    fake = FakeAliyunSms()
    server = serve(fake)
    port = server.server_address[1]
    with override_settings(
        SMS_BACKEND=ALIYUN, ALIYUN_SMS_ACCESS_KEY_ID=fake.access_key_id,
        ALIYUN_SMS_ACCESS_KEY_SECRET=fake.access_key_secret,
        ALIYUN_SMS_SIGN_NAME=fake.sign_name,
        ALIYUN_SMS_TEMPLATES={"code": "SMS_100000001", "notice": "SMS_100000002"},
        ALIYUN_SMS_ENDPOINT=f"http://127.0.0.1:{port}/", ALIYUN_SMS_TIMEOUT=5.0,
    ):
        yield fake
    server.shutdown()
    server.server_close()


def test_the_signature_matches_alibabas_documented_example() -> None:
    # The worked example of Alibaba's "signature mechanism" page (GET, its test key pair).
    params = {
        "AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123",
        "PhoneNumbers": "15300000001", "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用", "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466", "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007", "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z", "Version": "2017-05-25",
    }
    assert sign("GET", params, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


@pytest.mark.django_db
def test_a_sign_in_code_goes_through_the_code_template_with_only_the_code(
        gateway: FakeAliyunSms) -> None:
    phone_code_request(phone="13900000077", ip="127.0.0.1")

    assert gateway.refused == []
    [message] = gateway.sent
    assert message["phones"] == ["13900000077"]
    assert message["template"] == "SMS_100000001"
    assert set(message["params"]) == {"code"}
    assert message["params"]["code"].isdigit() and len(message["params"]["code"]) == 6


@pytest.mark.django_db
def test_an_outbox_notice_goes_through_the_notice_template_without_the_local_signature(
        gateway: FakeAliyunSms) -> None:
    OutboundMessage.objects.create(recipient="13900000078",
                                   body="【社区治理门户】您的诉求已办结，请评价。")

    assert outbox_deliver() == 1

    [message] = gateway.sent
    assert message["template"] == "SMS_100000002"
    assert message["params"] == {"content": "您的诉求已办结，请评价。"}
    assert message["text"] == "【长江路街道】您的诉求已办结，请评价。"
    assert OutboundMessage.objects.get().processed_at is not None


@pytest.mark.django_db
def test_a_refused_message_stays_in_the_outbox_with_the_gateways_reason(
        gateway: FakeAliyunSms) -> None:
    OutboundMessage.objects.create(recipient="13900000079", body="通知")

    with override_settings(ALIYUN_SMS_ACCESS_KEY_SECRET="not-the-secret"):
        assert outbox_deliver() == 0

    row = OutboundMessage.objects.get()
    assert row.processed_at is None and row.attempts == 1
    assert "SignatureDoesNotMatch" in row.last_error
    assert gateway.sent == []


def test_the_fake_refuses_a_tampered_request_and_a_replayed_nonce(
        gateway: FakeAliyunSms) -> None:
    backend = AliyunSmsBackend()
    params = backend.request_params(phone="13900000080", message="通知")
    assert gateway.check("POST", params)[1]["Code"] == "OK"
    # The same signed request again: Alibaba refuses a nonce it has seen.
    assert gateway.check("POST", params)[1]["Code"] == "SignatureNonceUsed"
    tampered = backend.request_params(phone="13900000080", message="通知")
    tampered["PhoneNumbers"] = "13900000081"
    assert gateway.check("POST", tampered)[1]["Code"] == "SignatureDoesNotMatch"


def test_an_unreachable_gateway_is_an_error_the_outbox_can_retry() -> None:
    unreachable = override_settings(
        SMS_BACKEND=ALIYUN, ALIYUN_SMS_ACCESS_KEY_ID="id", ALIYUN_SMS_ACCESS_KEY_SECRET="secret",
        ALIYUN_SMS_SIGN_NAME="街道", ALIYUN_SMS_TEMPLATES={"code": "SMS_1", "notice": "SMS_2"},
        ALIYUN_SMS_ENDPOINT="http://127.0.0.1:9/", ALIYUN_SMS_TIMEOUT=1.0)
    with unreachable, pytest.raises(SmsGatewayError, match="unreachable"):
        AliyunSmsBackend().send(phone="13900000082", message="通知")


def _ids(messages: list[checks.CheckMessage]) -> list[str]:
    return [message.id or "" for message in messages]


def test_production_refuses_the_console_backend() -> None:
    with override_settings(DJANGO_ENV="production",
                           SMS_BACKEND="notifications.sms.ConsoleSmsBackend"):
        assert _ids(sms_backend_check()) == ["accounts.E001"]
    with override_settings(DJANGO_ENV="local", SMS_BACKEND="notifications.sms.ConsoleSmsBackend"):
        assert sms_backend_check() == []


def test_the_alibaba_backend_without_its_settings_is_an_error() -> None:
    with override_settings(SMS_BACKEND=ALIYUN, ALIYUN_SMS_ACCESS_KEY_ID="id",
                           ALIYUN_SMS_ACCESS_KEY_SECRET="", ALIYUN_SMS_SIGN_NAME="街道",
                           ALIYUN_SMS_TEMPLATES={"code": "SMS_1", "notice": ""}):
        [error] = sms_backend_check()
    assert error.id == "accounts.E002"
    assert "ALIYUN_SMS_ACCESS_KEY_SECRET" in error.msg and "'notice'" in error.msg


def test_the_request_is_a_form_post_with_every_parameter_encoded_once(
        gateway: FakeAliyunSms) -> None:
    # "+" and "/" in the signature must survive form encoding (a classic double-encoding bug).
    params = AliyunSmsBackend().request_params(phone="13900000083", message="a+b/c ~*")
    decoded = dict(urllib.parse.parse_qsl(urllib.parse.urlencode(params)))
    assert decoded == params
