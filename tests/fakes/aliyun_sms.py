"""A fake Alibaba Cloud SMS gateway on 127.0.0.1 that checks requests the way dysmsapi does.

It verifies the RPC signature (HMAC-SHA1 over the canonical query, version 1.0), the common
parameters, the timestamp window (15 minutes), nonce reuse, the sign name, the template code and
its parameters, and the phone number; it answers in dysmsapi's JSON shape (`Code: OK` with a
BizId, or an error Code with the HTTP status Alibaba uses). Accepted messages are kept in
`gateway.sent` for assertions.

Used by tests (the `aliyun_gateway` fixture) and by hand:
`python -m tests.fakes.aliyun_sms --port 8601` prints each message it accepts.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote

from tests.fakes import print_until_interrupted

COMMON = ("AccessKeyId", "Action", "Format", "SignatureMethod", "SignatureNonce",
          "SignatureVersion", "Timestamp", "Version", "Signature")
PHONE = re.compile(r"^1[3-9]\d{9}$")
VARIABLE = re.compile(r"\$\{(\w+)\}")


def _encode(value: str) -> str:
    return quote(value, safe="-_.~")


def expected_signature(method: str, params: dict[str, str], secret: str) -> str:
    canonical = "&".join(f"{_encode(key)}={_encode(params[key])}" for key in sorted(params)
                         if key != "Signature")
    text = f"{method}&{_encode('/')}&{_encode(canonical)}"
    return base64.b64encode(hmac.new(f"{secret}&".encode(), text.encode(),
                                     hashlib.sha1).digest()).decode()


@dataclass
class FakeAliyunSms:
    access_key_id: str = "LTAI-fake-key"
    access_key_secret: str = "fake-secret"
    sign_name: str = "长江路街道"
    # template code → its text; the variables it names are the ones a request must fill
    templates: dict[str, str] = field(default_factory=lambda: {
        "SMS_100000001": "您的验证码为${code}，5分钟内有效。",
        "SMS_100000002": "${content}",
    })
    sent: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)
    seen_nonces: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, method: str, params: dict[str, str]) -> tuple[int, dict[str, str]]:
        """(HTTP status, dysmsapi answer) for one request."""
        missing = [name for name in COMMON if not params.get(name)]
        if missing:
            return 400, {"Code": "MissingParameter", "Message": f"{missing[0]} is mandatory"}
        if params["AccessKeyId"] != self.access_key_id:
            return 404, {"Code": "InvalidAccessKeyId.NotFound",
                         "Message": "Specified access key is not found."}
        if (params["SignatureMethod"], params["SignatureVersion"]) != ("HMAC-SHA1", "1.0"):
            return 400, {"Code": "InvalidSignatureMethod", "Message": "unsupported"}
        if not hmac.compare_digest(params["Signature"],
                                   expected_signature(method, params, self.access_key_secret)):
            return 400, {"Code": "SignatureDoesNotMatch",
                         "Message": "Specified signature is not matched with our calculation."}
        error = self._check_time_and_nonce(params)
        if error is not None:
            return 400, error
        if params["Action"] != "SendSms" or params["Version"] != "2017-05-25":
            return 400, {"Code": "InvalidAction.NotFound", "Message": "unknown action"}
        return self._check_message(params)

    def _check_time_and_nonce(self, params: dict[str, str]) -> dict[str, str] | None:
        try:
            stamp = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=UTC)
        except ValueError:
            return {"Code": "InvalidTimeStamp.Format", "Message": "Timestamp format is invalid"}
        if abs(datetime.now(UTC) - stamp) > timedelta(minutes=15):
            return {"Code": "InvalidTimeStamp.Expired", "Message": "Timestamp has expired"}
        with self.lock:
            if params["SignatureNonce"] in self.seen_nonces:
                return {"Code": "SignatureNonceUsed", "Message": "nonce has been used"}
            self.seen_nonces.add(params["SignatureNonce"])
        return None

    def _check_message(self, params: dict[str, str]) -> tuple[int, dict[str, str]]:
        if params.get("SignName") != self.sign_name:
            return 200, {"Code": "isv.SMS_SIGNATURE_ILLEGAL", "Message": "签名不合法"}
        template = self.templates.get(params.get("TemplateCode", ""))
        if template is None:
            return 200, {"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "模板不合法"}
        phones = params.get("PhoneNumbers", "")
        if not phones or not all(PHONE.match(phone) for phone in phones.split(",")):
            return 200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}
        try:
            values = json.loads(params.get("TemplateParam") or "{}")
        except ValueError:
            return 200, {"Code": "isv.INVALID_JSON_PARAM", "Message": "JSON参数不合法"}
        needed = set(VARIABLE.findall(template))
        if not isinstance(values, dict) or set(values) != needed or not all(
                isinstance(value, str) and value for value in values.values()):
            return 200, {"Code": "isv.TEMPLATE_MISSING_PARAMETERS", "Message": "模板缺少变量"}
        text = VARIABLE.sub(lambda match: values[match.group(1)], template)
        with self.lock:
            self.sent.append({"phones": phones.split(","), "template": params["TemplateCode"],
                              "params": values, "text": f"【{params['SignName']}】{text}"})
        return 200, {"Code": "OK", "Message": "OK", "BizId": secrets.token_hex(8),
                     "RequestId": secrets.token_hex(16)}


def serve(gateway: FakeAliyunSms, port: int = 0) -> ThreadingHTTPServer:
    """Start the gateway on 127.0.0.1 in a daemon thread; `server.server_address` has the port."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            query = self.path.partition("?")[2]
            params = dict(parse_qsl(query, keep_blank_values=True))
            params.update(parse_qsl(body, keep_blank_values=True))
            status, answer = gateway.check("POST", params)
            if answer.get("Code") != "OK":
                with gateway.lock:
                    gateway.refused.append(answer)
            payload = json.dumps(answer, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8601)
    port = parser.parse_args().port
    gateway = FakeAliyunSms()
    server = serve(gateway, port)
    print(f"fake dysmsapi on http://127.0.0.1:{port}/ key={gateway.access_key_id} "
          f"secret={gateway.access_key_secret} sign={gateway.sign_name} "
          f"templates={gateway.templates}", flush=True)
    print_until_interrupted(server, gateway.sent)


if __name__ == "__main__":
    main()
