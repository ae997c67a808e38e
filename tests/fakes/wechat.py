"""A fake WeChat Official Account API on 127.0.0.1 that checks requests the way WeChat does.

- GET /connect/oauth2/authorize (open.weixin.qq.com): the AppID and scope are checked and the
  browser is sent back to redirect_uri with a one-time code for `browser_openid` (who "is" in
  WeChat right now) and the state;
- GET /sns/oauth2/access_token: code → openid; 40013 wrong AppID, 40125 wrong secret, 40029 an
  unknown or expired code (codes live `code_ttl` seconds), 40163 a code used before;
- GET /cgi-bin/token: the access_token (`token_ttl` seconds; each fetch makes the previous one
  invalid at once, stricter than WeChat's five minutes of overlap), counted in `token_fetches`;
- GET /cgi-bin/ticket/getticket?type=jsapi: the JS-SDK ticket, counted in `ticket_fetches`;
- POST /cgi-bin/message/template/send: 40001 a wrong token, 42001 an expired one, 40003 an
  openid not of this account, 43004 a reader who unfollowed, 40037 an unknown template, 47003
  a template field missing; accepted messages go to `sent`;
- GET /cgi-bin/media/get: an uploaded file (`media`), 40007 an unknown media_id.

The openids, tokens and tickets have WeChat's shapes (tests/leakscan.py looks for them).
`python -m tests.fakes.wechat --port 8602` runs it by hand.
"""

from __future__ import annotations

import argparse
import json
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.fakes import print_until_interrupted

TEMPLATE_FIELDS = ("first", "keyword1", "keyword2", "keyword3", "remark")


def new_openid() -> str:
    """An openid's shape: "o" and 27 url-safe characters (28 in all)."""
    return "o" + secrets.token_urlsafe(21)[:27]


def _token() -> str:
    """An access_token's shape: a two-digit prefix, "_", then ~130 url-safe characters."""
    return f"{secrets.randbelow(90) + 10}_" + secrets.token_urlsafe(100)[:130]


@dataclass
class FakeWechat:
    app_id: str = "wx0fake0000000000a"
    app_secret: str = "fake0wechat0app0secret00000000aa"
    templates: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: {"TPL-petition-status-0001": TEMPLATE_FIELDS})
    token_ttl: int = 7200
    code_ttl: float = 300.0
    # Who is signed in to WeChat in the browser now; authorize issues codes for them.
    browser_openid: str = field(default_factory=new_openid)
    followers: set[str] = field(default_factory=set)  # openids that follow the account
    unfollowed: set[str] = field(default_factory=set)
    media: dict[str, bytes] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    token_fetches: int = 0
    ticket_fetches: int = 0
    oauth_exchanges: int = 0  # codes presented to oauth2/access_token
    # A slow token endpoint makes two workers' fetches overlap (the race under test).
    token_delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    _codes: dict[str, tuple[str, float]] = field(default_factory=dict)
    _used_codes: set[str] = field(default_factory=set)
    _token: tuple[str, float] = ("", 0.0)
    _expired_tokens: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.followers.add(self.browser_openid)

    def new_browser(self) -> str:
        """Another person in WeChat (a following reader): their openid."""
        self.browser_openid = new_openid()
        self.followers.add(self.browser_openid)
        return self.browser_openid

    # --- endpoints ----------------------------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], str]:
        """(status, headers, body): a redirect back with a code, or WeChat's error page."""
        if query.get("appid") != self.app_id:
            return 200, {}, "appid 参数错误"
        if query.get("scope") not in ("snsapi_base", "snsapi_userinfo"):
            return 200, {}, "scope 参数错误"
        redirect_uri = query.get("redirect_uri", "")
        if not redirect_uri.startswith(("http://", "https://")):
            return 200, {}, "redirect_uri 参数错误"
        code = secrets.token_hex(16)
        with self.lock:
            self._codes[code] = (self.browser_openid, time.monotonic() + self.code_ttl)
        joiner = "&" if urlsplit(redirect_uri).query else "?"
        back = urlencode({"code": code, "state": query.get("state", "")})
        target = f"{redirect_uri}{joiner}{back}"
        return 302, {"Location": target}, ""

    def oauth_access_token(self, query: dict[str, str]) -> dict[str, Any]:
        error = self._check_app(query)
        if error:
            return error
        if query.get("grant_type") != "authorization_code":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        code = query.get("code", "")
        with self.lock:
            self.oauth_exchanges += 1
            if code in self._used_codes:
                return {"errcode": 40163, "errmsg": "code been used"}
            openid, expires = self._codes.pop(code, ("", 0.0))
            if not openid or time.monotonic() > expires:
                return {"errcode": 40029, "errmsg": "invalid code"}
            self._used_codes.add(code)
        return {"access_token": _token(), "expires_in": 7200, "refresh_token": _token(),
                "openid": openid, "scope": "snsapi_base"}

    def token(self, query: dict[str, str]) -> dict[str, Any]:
        error = self._check_app(query)
        if error:
            return error
        if query.get("grant_type") != "client_credential":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        if self.token_delay:
            time.sleep(self.token_delay)
        with self.lock:
            self.token_fetches += 1
            self._token = (_token(), time.monotonic() + self.token_ttl)
            return {"access_token": self._token[0], "expires_in": self.token_ttl}

    def getticket(self, query: dict[str, str]) -> dict[str, Any]:
        error = self._check_token(query)
        if error:
            return error
        if query.get("type") != "jsapi":
            return {"errcode": 40097, "errmsg": "invalid args"}
        with self.lock:
            self.ticket_fetches += 1
        return {"errcode": 0, "errmsg": "ok", "ticket": secrets.token_urlsafe(64),
                "expires_in": self.token_ttl}

    def template_send(self, query: dict[str, str], body: bytes) -> dict[str, Any]:
        error = self._check_token(query)
        if error:
            return error
        try:
            message = json.loads(body or b"{}")
        except ValueError:
            return {"errcode": 47001, "errmsg": "data format error"}
        openid = message.get("touser", "")
        if openid in self.unfollowed:
            return {"errcode": 43004, "errmsg": "require subscribe"}
        if openid not in self.followers:
            return {"errcode": 40003, "errmsg": "invalid openid"}
        fields = self.templates.get(message.get("template_id", ""))
        if fields is None:
            return {"errcode": 40037, "errmsg": "invalid template_id"}
        data = message.get("data") or {}
        if not all(isinstance(data.get(name), dict) and data[name].get("value")
                   for name in fields if name.startswith("keyword")):
            return {"errcode": 47003, "errmsg": "argument invalid! data.keyword invalid"}
        msgid = secrets.randbelow(10**12)
        with self.lock:
            self.sent.append({"touser": openid, "template_id": message["template_id"],
                              "url": message.get("url", ""),
                              "data": {name: value.get("value") for name, value in data.items()},
                              "msgid": msgid})
        return {"errcode": 0, "errmsg": "ok", "msgid": msgid}

    def media_get(self, query: dict[str, str]) -> dict[str, Any] | bytes:
        error = self._check_token(query)
        if error:
            return error
        content = self.media.get(query.get("media_id", ""))
        if content is None:
            return {"errcode": 40007, "errmsg": "invalid media_id"}
        return content

    def expire_token(self) -> None:
        """WeChat's clock ran out on the current token (42001 from now on)."""
        with self.lock:
            self._expired_tokens.add(self._token[0])
            self._token = (self._token[0], 0.0)

    def _check_app(self, query: dict[str, str]) -> dict[str, Any] | None:
        if query.get("appid") != self.app_id:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if query.get("secret") != self.app_secret:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        return None

    def _check_token(self, query: dict[str, str]) -> dict[str, Any] | None:
        token = query.get("access_token", "")
        with self.lock:
            current, expires = self._token
        if token and token == current and time.monotonic() > expires:
            return {"errcode": 42001, "errmsg": "access_token expired"}
        if not token or token != current:
            return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
        return None


def serve(fake: FakeWechat, port: int = 0) -> ThreadingHTTPServer:
    """Start the fake on 127.0.0.1 in a daemon thread; `server.server_address` has the port."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path, _, raw_query = self.path.partition("?")
            query = dict(parse_qsl(raw_query, keep_blank_values=True))
            if path == "/connect/oauth2/authorize":
                status, headers, text = fake.authorize(query)
                self._answer(status, text.encode(), "text/html;charset=utf-8", headers)
                return
            routes = {"/sns/oauth2/access_token": fake.oauth_access_token,
                      "/cgi-bin/token": fake.token, "/cgi-bin/ticket/getticket": fake.getticket,
                      "/cgi-bin/media/get": fake.media_get}
            handler = routes.get(path)
            answer = handler(query) if handler else {"errcode": 404, "errmsg": "not found"}
            if isinstance(answer, bytes):
                self._answer(200, answer, "image/jpeg")
                return
            self._json(answer)

        def do_POST(self) -> None:
            path, _, raw_query = self.path.partition("?")
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            query = dict(parse_qsl(raw_query, keep_blank_values=True))
            if path == "/cgi-bin/message/template/send":
                self._json(fake.template_send(query, body))
                return
            self._json({"errcode": 404, "errmsg": "not found"})

        def _json(self, answer: dict[str, Any]) -> None:
            if answer.get("errcode"):
                with fake.lock:
                    fake.refused.append(answer)
            # WeChat answers errors with HTTP 200 too.
            self._answer(200, json.dumps(answer, ensure_ascii=False).encode(),
                         "application/json; encoding=utf-8")

        def _answer(self, status: int, payload: bytes, content_type: str,
                    headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    return server


def serve_raw(answer: bytes) -> tuple[str, threading.Thread]:
    """A server on 127.0.0.1 that answers one connection with `answer` as it is (a broken
    proxy in front of WeChat: a truncated body, a status line that is not HTTP) and closes.
    Returns its base URL and its thread (joined by the test)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(5)

    def answer_once() -> None:
        try:
            connection, _address = listener.accept()
        except OSError:
            listener.close()
            return
        with connection:
            connection.recv(65536)
            connection.sendall(answer)
        listener.close()

    thread = threading.Thread(target=answer_once, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/", thread


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--port", type=int, default=8602)
    port = parser.parse_args().port
    fake = FakeWechat()
    server = serve(fake, port)
    print(f"fake WeChat on http://127.0.0.1:{port}/ appid={fake.app_id} "
          f"secret={fake.app_secret} templates={list(fake.templates)}", flush=True)
    print_until_interrupted(server, fake.sent)


if __name__ == "__main__":
    main()

