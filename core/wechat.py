"""The WeChat Official Account (公众号) HTTP API, called directly with the standard library.

Why not wechatpy: its last release (1.8.18) is years old and pulls in requests, xmltodict and
optionaldict for what is, here, five small documented calls:

- 网页授权: the browser is sent to open.weixin.qq.com/connect/oauth2/authorize, WeChat sends it
  back with a one-time `code`, and sns/oauth2/access_token turns the code into the openid
  (scope snsapi_base: the portal shows no nickname, so sns/userinfo is never asked);
- cgi-bin/token (grant_type=client_credential): the account's access_token, ~2 hours;
- cgi-bin/ticket/getticket?type=jsapi: the JS-SDK ticket, ~2 hours; the JS-SDK config is
  signed with sha1 over the sorted jsapi_ticket, noncestr, timestamp and url;
- cgi-bin/message/template/send: a template message (模板消息) to an openid;
- cgi-bin/media/get: a photo the resident uploaded through the JS-SDK (wx.uploadImage).

The access_token and jsapi_ticket live in the shared cache (Redis, or the database cache of
`make run`), refreshed before they expire; a cache lock lets one worker fetch while the others
wait for its answer: WeChat invalidates the previous token on each fetch and caps fetches a day.

Settings: WECHAT_APP_ID, WECHAT_APP_SECRET, WECHAT_API_URL, WECHAT_OPEN_URL, WECHAT_TIMEOUT.
Nothing here logs an openid, a code, a token or a ticket.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

ACCESS_TOKEN_KEY = "wechat:access_token"  # noqa: S105 (a cache key)
JSAPI_TICKET_KEY = "wechat:jsapi_ticket"
# A fetch takes at most a few seconds; past this a crashed holder's lock lapses.
LOCK_SECONDS = 15
LOCK_WAIT_SECONDS = 10.0
# Refreshed this long before WeChat's own expiry (WeChat keeps the old token valid ~5 minutes
# after a new one is fetched, so a worker holding the old one finishes its call).
REFRESH_MARGIN_SECONDS = 300
# errcodes that mean "this access_token is no good": fetch a new one and try once more.
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})


class WechatError(Exception):
    """WeChat answered with an errcode (kept in `errcode`), or could not be reached (-2)."""

    def __init__(self, errcode: int, message: str) -> None:
        super().__init__(f"{errcode} {message}".strip())
        self.errcode = errcode

    @property
    def is_unreachable(self) -> bool:
        return self.errcode in (-1, -2)  # -1: WeChat's own "system busy"; -2: ours


def is_configured() -> bool:
    return bool(settings.WECHAT_APP_ID and settings.WECHAT_APP_SECRET)


def is_wechat_browser(user_agent: str) -> bool:
    """WeChat's built-in browser says MicroMessenger in its user agent (WeCom too: wxwork)."""
    return "MicroMessenger" in (user_agent or "") and "wxwork" not in (user_agent or "")


def _api_url(path: str, query: dict[str, str]) -> str:
    return f"{settings.WECHAT_API_URL.rstrip('/')}/{path}?{urllib.parse.urlencode(query)}"


def _request(url: str, payload: dict[str, Any] | None = None) -> bytes:
    data = None
    headers = {"Accept": "application/json"}
    if payload is not None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        headers["Content-Type"] = "application/json; charset=utf-8"
    request = urllib.request.Request(  # noqa: S310 (the base URL is a setting, https)
        url, data=data, headers=headers, method="POST" if payload is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=settings.WECHAT_TIMEOUT) as response:  # noqa: S310
            return bytes(response.read())
    except urllib.error.HTTPError as error:
        raise WechatError(-2, f"HTTP {error.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError, http.client.HTTPException,
            ValueError) as error:
        # HTTPException: a cut-off body (IncompleteRead) or a status line that is not HTTP,
        # from a proxy on the way; ValueError: a base URL that is not one.
        # The URL carries the secret or a token: say only why, never where.
        raise WechatError(-2, f"unreachable: {type(error).__name__}") from None


def _json(raw: bytes) -> dict[str, Any]:
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        raise WechatError(-2, "not JSON") from None
    if not isinstance(answer, dict):
        raise WechatError(-2, "not an object")
    if answer.get("errcode"):
        try:
            errcode = int(answer["errcode"])
        except (TypeError, ValueError):
            raise WechatError(-2, "errcode not a number") from None
        raise WechatError(errcode, str(answer.get("errmsg", ""))[:100])
    return answer


def _field(answer: dict[str, Any], name: str) -> tuple[str, int]:
    """A token's or ticket's value and lifetime; an answer without them is WeChat (or a proxy)
    misbehaving, an error like any other, never a KeyError out of a page or the outbox."""
    value = answer.get(name)
    try:
        expires_in = int(answer.get("expires_in", 7200))
    except (TypeError, ValueError):
        expires_in = 0
    if not isinstance(value, str) or not value or expires_in <= 0:
        raise WechatError(-2, f"no {name} in the answer")
    return value, expires_in


def _call(path: str, query: dict[str, str], payload: dict[str, Any] | None = None
          ) -> dict[str, Any]:
    return _json(_request(_api_url(path, query), payload))


# --- 网页授权 ----------------------------------------------------------------------------------

def oauth_authorize_url(*, redirect_uri: str, state: str, scope: str = "snsapi_base") -> str:
    """Where the browser goes to be sent back with a code (the parameter order is WeChat's)."""
    query = urllib.parse.urlencode({"appid": settings.WECHAT_APP_ID,
                                    "redirect_uri": redirect_uri, "response_type": "code",
                                    "scope": scope, "state": state})
    base = settings.WECHAT_OPEN_URL.rstrip("/")
    return f"{base}/connect/oauth2/authorize?{query}#wechat_redirect"


def oauth_openid(*, code: str) -> str:
    """The openid for a one-time code (40029 invalid code, 40163 code been used)."""
    answer = _call("sns/oauth2/access_token", {
        "appid": settings.WECHAT_APP_ID, "secret": settings.WECHAT_APP_SECRET, "code": code,
        "grant_type": "authorization_code"})
    openid = answer.get("openid")
    if not isinstance(openid, str) or not openid:
        raise WechatError(-2, "no openid in the answer")
    return openid


# --- access_token and jsapi_ticket, shared by every worker ----------------------------------

def _fetch_access_token() -> tuple[str, int]:
    answer = _call("cgi-bin/token", {"grant_type": "client_credential",
                                     "appid": settings.WECHAT_APP_ID,
                                     "secret": settings.WECHAT_APP_SECRET})
    return _field(answer, "access_token")


def _fetch_jsapi_ticket() -> tuple[str, int]:
    answer = _with_token(lambda token: _call("cgi-bin/ticket/getticket",
                                             {"access_token": token, "type": "jsapi"}))
    return _field(answer, "ticket")


def _lifetime(expires_in: int) -> int:
    """How long the cache keeps a value: up to REFRESH_MARGIN before WeChat's expiry, and at
    least half its life (a test server's 4-second token is kept 2 seconds)."""
    return max(expires_in - REFRESH_MARGIN_SECONDS, expires_in // 2, 1)


def _shared(key: str, fetch: Callable[[], tuple[str, int]]) -> str:
    """The cached value, or one fetch for all workers: the lock holder fetches and stores it;
    the others poll the cache until it is there (or the lock lapses and one of them takes it)."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        value = cache.get(key)
        if value:
            return str(value)
        if cache.add(f"{key}:lock", True, LOCK_SECONDS):
            try:
                value = cache.get(key)  # stored by the previous holder while we polled
                if value:
                    return str(value)
                value, expires_in = fetch()
                cache.set(key, value, _lifetime(expires_in))
                return value
            finally:
                cache.delete(f"{key}:lock")
        if time.monotonic() > deadline:
            raise WechatError(-2, f"timed out waiting for {key}")
        time.sleep(0.05)


def access_token() -> str:
    return _shared(ACCESS_TOKEN_KEY, _fetch_access_token)


def jsapi_ticket() -> str:
    return _shared(JSAPI_TICKET_KEY, _fetch_jsapi_ticket)


def _with_token(call: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """Run `call` with the access_token; a token WeChat no longer accepts (revoked, fetched
    elsewhere) is dropped and the call made once more with a fresh one."""
    token = access_token()
    try:
        return call(token)
    except WechatError as error:
        if error.errcode not in TOKEN_ERRCODES:
            raise
        if cache.get(ACCESS_TOKEN_KEY) == token:
            cache.delete(ACCESS_TOKEN_KEY)
        return call(access_token())


# --- JS-SDK ----------------------------------------------------------------------------------

def jsapi_signature(*, ticket: str, noncestr: str, timestamp: int, url: str) -> str:
    """sha1 of the four fields sorted by name, as key=value joined by & (JS-SDK appendix 1)."""
    fields = {"jsapi_ticket": ticket, "noncestr": noncestr, "timestamp": str(timestamp),
              "url": url.split("#", 1)[0]}
    text = "&".join(f"{name}={fields[name]}" for name in sorted(fields))
    return hashlib.sha1(text.encode()).hexdigest()  # noqa: S324 (WeChat's chosen digest)


@dataclass(frozen=True)
class JsapiConfig:
    app_id: str
    timestamp: int
    nonce_str: str
    signature: str

    def as_dict(self) -> dict[str, Any]:
        return {"appId": self.app_id, "timestamp": self.timestamp, "nonceStr": self.nonce_str,
                "signature": self.signature}


def jsapi_config(*, url: str) -> JsapiConfig:
    """wx.config's values for the page at `url` (without its #fragment)."""
    nonce = secrets.token_urlsafe(12)
    timestamp = int(time.time())
    signature = jsapi_signature(ticket=jsapi_ticket(), noncestr=nonce, timestamp=timestamp,
                                url=url)
    return JsapiConfig(app_id=settings.WECHAT_APP_ID, timestamp=timestamp, nonce_str=nonce,
                       signature=signature)


# --- messages and media ----------------------------------------------------------------------

def template_send(*, openid: str, template_id: str, data: dict[str, str], url: str = "") -> int:
    """Send a template message; returns WeChat's msgid. Raises WechatError on refusal (43004:
    the resident unfollowed the account; 40003: not an openid of this account; …)."""
    payload: dict[str, Any] = {
        "touser": openid, "template_id": template_id,
        "data": {name: {"value": value} for name, value in data.items()}}
    if url:
        payload["url"] = url
    answer = _with_token(lambda token: _call("cgi-bin/message/template/send",
                                             {"access_token": token}, payload))
    # Sent: a msgid of another shape must not fail the send after WeChat accepted it.
    msgid = answer.get("msgid")
    return msgid if isinstance(msgid, int) else 0


MAX_MEDIA_BYTES = 10 * 1024 * 1024


def media_get(*, media_id: str) -> bytes:
    """A file the resident uploaded with wx.uploadImage (kept by WeChat for 3 days)."""

    def fetch(token: str) -> dict[str, Any]:
        raw = _request(_api_url("cgi-bin/media/get", {"access_token": token,
                                                      "media_id": media_id}))
        if raw[:1] == b"{":
            _json(raw)  # an error answer: raises
            raise WechatError(-2, "no media in the answer")
        if len(raw) > MAX_MEDIA_BYTES:
            raise WechatError(-2, "media too large")
        return {"body": raw}

    return bytes(_with_token(fetch)["body"])
