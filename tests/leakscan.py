"""Leak scan (PIPL): no whole phone or ID number in any test-client response or log line.

A pytest plugin, registered by tests/conftest.py. During the whole run it
- wraps the Django test client (and DRF's APIClient, which builds on it) and scans every text
  response: body and Location header;
- puts a handler on the root logger at DEBUG (and on the loggers that do not propagate to it)
  and scans every record: message, arguments, extra fields and traceback;
and looks for mainland mobile numbers (1[3-9] and nine digits) and checksum-valid 18-character
ID numbers (core.masking), never matching masked forms such as 139****0001; and, in what a log
line prints (message and traceback), for raw API keys (ApiKey.generate's shape): a key in a log
is readable by whoever reads the logs (issue 10: keys in query strings); and, in log lines and
responses alike, for WeChat openids and access tokens (their shapes below, issue 19): nobody is
entitled to see either, whoever the viewer.

What counts as a leak:
- in a log line, any whole number: always forbidden;
- in a response, a whole number the viewer is not entitled to. A viewer is entitled to
  1. what the response's request carried itself (path, query, body: a sign-in form shown again,
     a search box),
  2. their own data: their account's phone, the phone and ID number of their own resident
     record,
  3. a response whose request wrote a reveal or export row in the audit log (core.audit sets
     `request.pii_revealed`): the reveal endpoints and the admin change forms and exports,
  4. the URL names in ENTITLED_VIEWS below: the resident's own data download; and the admin's
     import previews (IMPORT_VIEWS), which show the uploader their own file.
  Anything else, whoever the viewer (anonymous, outsider, staff in scope), is a finding: whole
  values are shown only through an audited reveal.

Binary responses (xlsx, images) are not read: the exports among them are audited (3.).

Findings (numbers masked) go to var/leakscan.json (or $LEAKSCAN_REPORT); the run fails when
there is any. Under
xdist each worker sends its findings to the controller (workeroutput), which writes the file.
LEAKSCAN=0 switches the scan off.

Free text is checked where its rule lives: a topic referred from a petition carries none of the
petition's words nor its petitioner's name (tests/deliberation/test_referral_privacy.py walks
every referral path and scans every topic-facing output, iCal feed included).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest

from core.masking import mask_numbers_in, unmasked_numbers

REPORT = Path(os.environ.get("LEAKSCAN_REPORT")
              or Path(__file__).resolve().parents[1] / "var" / "leakscan.json")
ENTITLED_VIEWS = frozenset({
    # The resident's own data (PIPL art. 45): the page and its download (accounts/views.py).
    "accounts:my-data",
    "accounts:my-data-download",
    "api:me-data",
})
# An admin import's preview shows the uploaded file back to its uploader (1. below, for files
# the scan cannot read in the request: xlsx is compressed).
IMPORT_VIEWS = ("_import", "_process_import")
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript",
              "application/problem+json", "application/vnd.oai.openapi")
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_STANDARD_RECORD_KEYS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
# accounts.models.ApiKey.generate: 8 hex characters, a dot, token_urlsafe(32).
_API_KEY = re.compile(r"(?<![A-Za-z0-9_-])[0-9a-f]{8}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")
# WeChat (core.wechat): an openid is "o" and 27 url-safe characters, mixed case (a kebab-case
# word of 28 letters is not one); an access_token is a 2-3 digit prefix, "_" and 100+ more.
_OPENID = re.compile(r"(?<![A-Za-z0-9_-])o[A-Za-z0-9_-]{27}(?![A-Za-z0-9_-])")
_ACCESS_TOKEN = re.compile(r"(?<![A-Za-z0-9_-])\d{2,3}_[A-Za-z0-9_-]{100,}")


def wechat_secrets_in(text: str) -> list[str]:
    """The openids and access tokens in `text`."""
    openids = [value for value in _OPENID.findall(text)
               if any(char.isupper() for char in value) and any(char.islower()
                                                                  for char in value[1:])]
    return openids + _ACCESS_TOKEN.findall(text)


@dataclass
class Finding:
    kind: str  # "response" or "log"
    test: str
    where: str  # the URL and view name, or the logger
    number: str  # masked
    excerpt: str  # masked


@dataclass
class LeakScanner:
    findings: list[Finding] = field(default_factory=list)
    current_test: str = "<session>"
    responses: int = 0
    records: int = 0
    seconds: float = 0.0  # spent scanning: the plugin's cost

    def scan_log_record(self, record: logging.LogRecord) -> None:
        started = time.perf_counter()
        self.records += 1
        text = _record_text(record)
        for number in unmasked_numbers(text):
            self._add("log", record.name, number, text)
        for key in _API_KEY.findall(_printed_text(record)):
            masked = f"{key[:8]}.***"  # the report must not carry the key either
            self.findings.append(Finding(kind="log", test=self.current_test, where=record.name,
                                         number=masked, excerpt=_API_KEY.sub(masked, text)[:200]))
        for secret in wechat_secrets_in(text):
            self._add_secret("log", record.name, secret, text)
        self.seconds += time.perf_counter() - started

    def _add_secret(self, kind: str, where: str, secret: str, text: str) -> None:
        masked = f"{secret[:3]}***"  # the report must not carry it, nor any other one
        for other in wechat_secrets_in(text):
            text = text.replace(other, f"{other[:3]}***")
        self.findings.append(Finding(kind=kind, test=self.current_test, where=where,
                                     number=masked, excerpt=mask_numbers_in(text)[:200]))

    def scan_response(self, response: Any, *, sent: str, viewer: Any) -> None:
        started = time.perf_counter()
        try:
            self._scan_response(response, sent=sent, viewer=viewer)
        finally:
            self.seconds += time.perf_counter() - started

    def _scan_response(self, response: Any, *, sent: str, viewer: Any) -> None:
        self.responses += 1
        text = _response_text(response)
        if not text:
            return
        request = getattr(response, "wsgi_request", None)
        for secret in wechat_secrets_in(text):
            self._add_secret("response", f"{getattr(request, 'path', '')} "
                             f"({_view_name(request) or '?'})", secret, text)
        numbers = set(unmasked_numbers(text))
        if not numbers:
            return
        view = _view_name(request)
        if getattr(request, "pii_revealed", False) or view in ENTITLED_VIEWS or view.endswith(
                IMPORT_VIEWS):
            return
        numbers -= set(unmasked_numbers(unquote_plus(sent)))
        if numbers:
            numbers -= _own_numbers(viewer)
        where = f"{getattr(request, 'method', '')} {getattr(request, 'path', '')} " \
                f"({_view_name(request) or '?'}, {response.status_code})"
        for number in sorted(numbers):
            self._add("response", where, number, text)

    def _add(self, kind: str, where: str, number: str, text: str) -> None:
        start = max(text.find(number) - 60, 0)
        excerpt = mask_numbers_in(text[start:start + 140 + len(number)])
        self.findings.append(Finding(kind=kind, test=self.current_test, where=where,
                                     number=mask_numbers_in(number), excerpt=excerpt))


def _printed_text(record: logging.LogRecord) -> str:
    """What a console handler prints: the message and the traceback (extras stay unprinted)."""
    try:
        message = record.getMessage()
    except Exception:
        message = f"{record.msg} {record.args!r}"
    if record.exc_info and record.exc_info[1] is not None:
        return message + "\n" + logging.Formatter().formatException(record.exc_info)
    return message + "\n" + (record.exc_text or "")


def _record_text(record: logging.LogRecord) -> str:
    try:
        parts = [record.getMessage()]
    except Exception:  # a broken format string is the logger's bug, not a leak
        parts = [str(record.msg), repr(record.args)]
    parts += [repr(value) for key, value in record.__dict__.items()
              if key not in _STANDARD_RECORD_KEYS]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        parts.append(record.exc_text)
    return _unescape("\n".join(parts))


def _response_text(response: Any) -> str:
    if getattr(response, "streaming", False):
        return ""
    content_type = response.get("Content-Type", "") if hasattr(response, "get") else ""
    body = ""
    if not content_type or content_type.startswith(TEXT_TYPES):
        body = response.content.decode("utf-8", errors="replace")
    location = response.get("Location", "") if hasattr(response, "get") else ""
    return _unescape(unquote_plus(location) + "\n" + body)


def _unescape(text: str) -> str:
    # JSON written with ensure_ascii (Django's JsonResponse) hides 电话 as \u7535\u8bdd, whose last
    # hex digits would otherwise run into the number that follows.
    if "\\u" not in text:
        return text
    return _UNICODE_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)


def _view_name(request: Any) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None else ""


def _own_numbers(viewer: Any) -> set[str]:
    """The viewer's own phone, and the phone and ID number of their resident records."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return set()
    own = {viewer.phone} if getattr(viewer, "phone", None) else set()
    # No database in this test, or its transaction is broken: then there are no records.
    with contextlib.suppress(Exception):
        from residents.models import Resident

        for phone, id_number in Resident.objects.filter(user_id=viewer.pk).values_list(
                "phone", "id_number"):
            own |= {phone, id_number}
    return own


class _ScanHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "_leakscan_seen", False):
            return  # reached twice: through a non-propagating logger's handler and the root's
        record._leakscan_seen = True
        _scanner().scan_log_record(record)


_state: dict[str, LeakScanner] = {"scanner": LeakScanner()}


def _scanner() -> LeakScanner:
    return _state["scanner"]


@contextlib.contextmanager
def isolated() -> Iterator[LeakScanner]:
    """A fresh scanner for a test of the scan itself; the run's findings are left alone."""
    saved = _state["scanner"]
    _state["scanner"] = LeakScanner(current_test=saved.current_test)
    try:
        yield _state["scanner"]
    finally:
        _state["scanner"] = saved


def _install_client_hook() -> None:
    from django.test.client import RequestFactory

    original = RequestFactory.generic

    def generic(self: Any, method: str, path: str, data: Any = "", *args: Any,
                **kwargs: Any) -> Any:
        response = original(self, method, path, data, *args, **kwargs)
        if hasattr(response, "status_code"):  # a test client's response, not a bare request
            request = getattr(response, "wsgi_request", None)
            sent = " ".join([str(path), str(getattr(request, "META", {}).get("QUERY_STRING", "")),
                             data.decode("utf-8", "replace") if isinstance(data, bytes)
                             else str(data)])
            forced = getattr(getattr(self, "handler", None), "_force_user", None)
            viewer = forced or getattr(request, "user", None)
            _scanner().scan_response(response, sent=sent, viewer=viewer)
        return response

    RequestFactory.generic = generic  # type: ignore[method-assign]


# Test tooling's own debug lines (factory_boy prints every factory call's arguments) are not
# lines the portal writes; they stay at INFO so the scan neither reads nor pays for them.
TOOLING_LOGGERS = ("factory", "faker", "PIL", "asyncio", "urllib3", "filelock", "xdist")
_handler: dict[str, logging.Handler] = {}


def _install_log_handler() -> None:
    """Idempotent: Django's logging setup (or a test) may have replaced the root's handlers."""
    handler = _handler.setdefault("scan", _ScanHandler())
    root = logging.getLogger()
    if handler in root.handlers:
        return
    # Lower the root to DEBUG so every record is made, but keep the existing handlers at the
    # level they printed at before: the scan sees more than the console does.
    for existing in root.handlers:
        if existing.level == logging.NOTSET:
            existing.setLevel(root.level)
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    for name in TOOLING_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    for name in ("django.request", "django.server", "django.security", "celery", "celery.task",
                 "celery.worker", "celery.app.trace", *list(logging.root.manager.loggerDict)):
        logger = logging.getLogger(name)
        if not logger.propagate and handler not in logger.handlers:
            logger.addHandler(handler)


def _enabled(config: pytest.Config) -> bool:
    return os.environ.get("LEAKSCAN", "1") != "0" and not config.getoption("collectonly")


def pytest_configure(config: pytest.Config) -> None:
    if not _enabled(config):
        return
    config._leakscan_on = True  # type: ignore[attr-defined]
    config._leakscan_runs_tests = (  # type: ignore[attr-defined]
        hasattr(config, "workerinput") or not _is_xdist_controller(config))


def pytest_sessionstart(session: pytest.Session) -> None:
    if getattr(session.config, "_leakscan_runs_tests", False):
        _install_client_hook()
        _install_log_handler()


def _is_xdist_controller(config: pytest.Config) -> bool:
    return bool(getattr(config.option, "numprocesses", None)) and not hasattr(config,
                                                                               "workerinput")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    if getattr(item.config, "_leakscan_runs_tests", False):
        _install_log_handler()
    _scanner().current_test = item.nodeid
    try:
        return (yield)
    finally:
        _scanner().current_test = "<session>"


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist controller: collect what the worker found."""
    report = getattr(node, "workeroutput", {}).get("leakscan")
    if report:
        scanner = _scanner()
        scanner.findings += [Finding(**finding) for finding in report["findings"]]
        scanner.responses += report["responses"]
        scanner.records += report["records"]
        scanner.seconds += report.get("seconds", 0.0)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if not getattr(config, "_leakscan_on", False):
        return
    scanner = _scanner()
    report = {"findings": [asdict(finding) for finding in scanner.findings],
              "responses": scanner.responses, "records": scanner.records,
              "seconds": round(scanner.seconds, 3)}
    if hasattr(config, "workerinput"):
        config.workeroutput["leakscan"] = report  # type: ignore[attr-defined]
        return
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    if scanner.findings and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not getattr(config, "_leakscan_on", False) or hasattr(config, "workerinput"):
        return
    scanner = _scanner()
    line = (f"leak scan: {len(scanner.findings)} finding(s) in {scanner.responses} responses "
            f"and {scanner.records} log records, {scanner.seconds:.2f} s of scanning ({REPORT})")
    if not scanner.findings:
        terminalreporter.write_line(line)
        return
    terminalreporter.section("leak scan (PIPL)", red=True)
    for finding in scanner.findings[:30]:
        terminalreporter.write_line(f"{finding.kind} {finding.number} in {finding.where}  "
                                    f"[{finding.test}]\n    …{finding.excerpt}…")
    terminalreporter.write_line(line, red=True)
