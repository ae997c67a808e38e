"""Alibaba Cloud SMS (短信服务, dysmsapi 2017-05-25) through its signed HTTP API.

Why the HTTP API and not the official SDK: the SDK (alibabacloud_dysmsapi20170525) pulls in the
Tea runtime, its own HTTP client and a dozen packages for one signed POST; the RPC signature
(version 1.0, HMAC-SHA1) is documented, stable since 2017 and a few lines of standard library.
tests/fakes/aliyun_sms.py is a gateway on 127.0.0.1 that checks requests the way Alibaba does
(signature, timestamp window, nonce reuse, sign name, template, phone number).

Alibaba sends only approved templates. Two are configured:
- `code`: the sign-in code template, `${code}` (a 验证码 template);
- `notice`: a notification template with one variable, `${content}`, for everything else.
The signature name (签名, e.g. 长江路街道) is added by the gateway: bodies go without 【…】.

Settings: ALIYUN_SMS_ACCESS_KEY_ID, ALIYUN_SMS_ACCESS_KEY_SECRET, ALIYUN_SMS_SIGN_NAME,
ALIYUN_SMS_TEMPLATES (``{"code": "SMS_…", "notice": "SMS_…"}``), ALIYUN_SMS_ENDPOINT
(https://dysmsapi.aliyuncs.com/ by default), ALIYUN_SMS_TIMEOUT (seconds).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from notifications.sms import BaseSmsBackend

API_VERSION = "2017-05-25"
SIGN_PREFIX = re.compile(r"^【[^】]{1,20}】")


class SmsGatewayError(Exception):
    """The gateway refused the message (its Code and Message), or could not be reached."""


def percent_encode(value: str) -> str:
    """RFC 3986, as Alibaba's RPC signature wants it: only A-Z a-z 0-9 - _ . ~ unencoded."""
    return urllib.parse.quote(value, safe="-_.~")


def string_to_sign(method: str, params: dict[str, str]) -> str:
    canonical = "&".join(f"{percent_encode(key)}={percent_encode(params[key])}"
                         for key in sorted(params))
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"


def sign(method: str, params: dict[str, str], secret: str) -> str:
    digest = hmac.new(f"{secret}&".encode(), string_to_sign(method, params).encode(),
                      hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def template_params(message: str, template: str,
                    params: dict[str, str] | None) -> dict[str, str]:
    """The template's variables: given ones (a sign-in code), else the body as `content`.

    The local 【…】 prefix is dropped: the gateway adds the registered signature itself.
    """
    if params is not None:
        return params
    return {"content": SIGN_PREFIX.sub("", message).strip()}


class AliyunSmsBackend(BaseSmsBackend):
    def __init__(self) -> None:
        self.access_key_id: str = settings.ALIYUN_SMS_ACCESS_KEY_ID
        self.access_key_secret: str = settings.ALIYUN_SMS_ACCESS_KEY_SECRET
        self.sign_name: str = settings.ALIYUN_SMS_SIGN_NAME
        self.templates: dict[str, str] = settings.ALIYUN_SMS_TEMPLATES
        self.endpoint: str = settings.ALIYUN_SMS_ENDPOINT
        self.timeout: float = settings.ALIYUN_SMS_TIMEOUT

    def request_params(self, *, phone: str, message: str, template: str = "notice",
                       params: dict[str, str] | None = None, now: datetime | None = None,
                       nonce: str | None = None) -> dict[str, str]:
        values = template_params(message, template, params)
        params = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": phone,
            "RegionId": "cn-hangzhou",
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": nonce or secrets.token_hex(16),
            "SignatureVersion": "1.0",
            "TemplateCode": self.templates[template],
            "TemplateParam": json.dumps(values, ensure_ascii=False, separators=(",", ":")),
            "Timestamp": (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": API_VERSION,
        }
        params["Signature"] = sign("POST", params, self.access_key_secret)
        return params

    def send(self, *, phone: str, message: str, template: str = "notice",
             params: dict[str, str] | None = None) -> None:
        body = urllib.parse.urlencode(self.request_params(
            phone=phone, message=message, template=template, params=params))
        request = urllib.request.Request(  # noqa: S310 (the endpoint is a setting, https)
            self.endpoint, data=body.encode(), method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer: dict[str, Any] = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            answer = _json_or_empty(error.read())
            raise SmsGatewayError(f"{error.code} {answer.get('Code', '')} "
                                  f"{answer.get('Message', '')}".strip()) from None
        except (urllib.error.URLError, TimeoutError, ValueError) as error:
            raise SmsGatewayError(f"gateway unreachable: {error}") from None
        if answer.get("Code") != "OK":
            raise SmsGatewayError(f"{answer.get('Code')} {answer.get('Message', '')}".strip())


def _json_or_empty(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
