"""The leak scan itself (tests/leakscan.py): it must catch a planted leak, in a response and in a
log line, and let through what the viewer is entitled to."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from rest_framework.test import APIClient

from core.audit import audit_event_record
from core.models import AuditEvent
from tests import leakscan
from tests.accounts.factories import UserFactory

PHONE = "13812345678"
ID_NUMBER = "11010519491231002X"  # a valid check character
BAD_CHECK = "110105194912310021"


def leaky(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"<p>{ID_NUMBER if request.GET.get('kind') == 'id' else PHONE}</p>")


def echo(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"<p>电话 {request.GET.get('show', '')}</p>")


def leaky_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"contact": f"电话{PHONE}"})  # \u8bdd13812345678 when ASCII-escaped


def revealed(request: HttpRequest) -> HttpResponse:
    audit_event_record(action=AuditEvent.Action.REVEAL, object_type="test.thing", object_id=1,
                       fields=["phone"], request=request)
    return HttpResponse(PHONE)


def openid(request: HttpRequest) -> HttpResponse:
    return HttpResponse('<p data-openid="oAbCdEfGhIjKlMnOpQrStUvWx-_1">')


urlpatterns = [path("leaky/", leaky), path("leaky.json", leaky_json), path("echo/", echo),
               path("revealed/", revealed), path("openid/", openid)]


@pytest.fixture
def scanner():
    with leakscan.isolated() as fresh:
        yield fresh


def numbers(scanner):
    return [(finding.kind, finding.number) for finding in scanner.findings]


@pytest.mark.urls(__name__)
def test_a_whole_phone_or_id_number_in_a_response_is_a_finding(db, client, scanner):
    client.get("/leaky/")
    APIClient().get("/leaky.json")
    client.get("/leaky/", {"kind": "id"})
    assert numbers(scanner) == [("response", "138****5678"), ("response", "138****5678"),
                                ("response", "1101**********002X")]
    assert PHONE not in json.dumps([vars(finding) for finding in scanner.findings])


@pytest.mark.urls(__name__)
def test_masked_forms_and_bad_check_characters_are_not_findings(db, client, scanner):
    client.get("/echo/", {"show": "138****5678"})
    client.get("/echo/", {"show": BAD_CHECK})
    scanner.scan_response(HttpResponse(f"{BAD_CHECK} a{PHONE} {PHONE}0"), sent="", viewer=None)
    assert scanner.findings == []
    assert scanner.responses == 3


@pytest.mark.urls(__name__)
def test_what_the_viewer_is_entitled_to_is_not_a_finding(db, client, scanner):
    client.get("/echo/", {"show": PHONE})  # the request carried it (a search box)
    client.post("/revealed/")  # an audited reveal
    owner = UserFactory(phone=PHONE)
    client.force_login(owner)
    client.get("/leaky/")  # the viewer's own phone
    api = APIClient()
    api.force_authenticate(owner)
    api.get("/leaky.json")
    assert scanner.findings == []
    client.force_login(UserFactory(phone="13900000009"))
    client.get("/leaky/")
    assert numbers(scanner) == [("response", "138****5678")]


def test_a_whole_number_in_a_log_line_is_always_a_finding(scanner):
    logger = logging.getLogger("portal.leakscan_check")
    logger.debug("sent to %s", "139****0001")
    logger.debug("sent to %s", PHONE)
    logger.info("lookup", extra={"id_number": ID_NUMBER})
    assert numbers(scanner) == [("log", "138****5678"), ("log", "1101**********002X")]


PLANTED = '''
import logging

def test_one():
    logging.getLogger("portal").warning("SMS to 13812345678 failed")

def test_two():
    logging.getLogger("portal").info("nothing here: 138****5678")

def test_three():
    logging.getLogger("portal").error("ID 11010519491231002X")
'''


def test_a_planted_leak_fails_a_whole_pytest_run_and_is_reported_masked(tmp_path):
    (tmp_path / "test_planted.py").write_text(PLANTED)
    report = tmp_path / "leakscan.json"
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "LEAKSCAN_REPORT": str(report)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(  # noqa: S603 — our own interpreter and arguments
        # Only the scan: no Django, and none of the fuzz lane's plugins (3 s of imports).
        [sys.executable, "-m", "pytest", "-p", "tests.leakscan", "-p", "no:django",
         "-p", "no:xdist", "-p", "no:cacheprovider", "-p", "no:schemathesis",
         "-p", "no:hypothesispytest", "-p", "no:faker", "-p", "no:anyio", "-q", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "3 passed" in result.stdout
    found = json.loads(report.read_text())["findings"]
    assert sorted((finding["number"], finding["test"].split("::")[1]) for finding in found) == [
        ("1101**********002X", "test_three"), ("138****5678", "test_one")]
    assert "13812345678" not in report.read_text() + result.stdout


def test_xdist_workers_hand_their_findings_to_the_controller_which_fails_the_run(
        tmp_path, monkeypatch):
    monkeypatch.setattr(leakscan, "REPORT", tmp_path / "leakscan.json")
    outputs = []
    for worker in ("gw0", "gw1"):
        with leakscan.isolated() as scanner:
            scanner.current_test = f"tests/test_x.py::test_{worker}"
            scanner.scan_log_record(logging.makeLogRecord({"msg": f"to {PHONE}"}))
            config = SimpleNamespace(workerinput={"workerid": worker}, workeroutput={},
                                     _leakscan_on=True)
            leakscan.pytest_sessionfinish(SimpleNamespace(config=config, exitstatus=0), 0)
            outputs.append(config.workeroutput)
    assert not (tmp_path / "leakscan.json").exists()  # workers write nothing themselves
    with leakscan.isolated():
        for output in outputs:
            leakscan.pytest_testnodedown(SimpleNamespace(workeroutput=output), None)
        session = SimpleNamespace(config=SimpleNamespace(_leakscan_on=True),
                                  exitstatus=pytest.ExitCode.OK)
        leakscan.pytest_sessionfinish(session, pytest.ExitCode.OK)
    assert session.exitstatus == pytest.ExitCode.TESTS_FAILED
    report = json.loads((tmp_path / "leakscan.json").read_text())
    assert [finding["test"] for finding in report["findings"]] == [
        "tests/test_x.py::test_gw0", "tests/test_x.py::test_gw1"]
    assert report["records"] == 2


def test_a_raw_api_key_in_a_log_line_is_a_finding_and_the_report_hides_it(scanner):
    from accounts.models import ApiKey

    _prefix, raw_key = ApiKey.generate()
    # Straight to the scanner: through the root logger the console's filter (core.log_filters)
    # would star the key before the scan sees the record.
    scanner.scan_log_record(logging.makeLogRecord({"msg": "GET /x?api_key=%s",
                                                   "args": (raw_key,)}))
    [finding] = scanner.findings
    assert finding.kind == "log" and finding.number == f"{raw_key[:8]}.***"
    assert raw_key not in finding.excerpt


def test_a_wechat_openid_or_access_token_in_a_log_line_is_a_finding_and_hidden(scanner):
    from tests.fakes.wechat import _token

    openid, token = "oAbCdEfGhIjKlMnOpQrStUvWx-_1", _token()
    scanner.scan_log_record(logging.makeLogRecord({"msg": "sent to %s with %s",
                                                   "args": (openid, token)}))
    assert [finding.number for finding in scanner.findings] == ["oAb***", f"{token[:3]}***"]
    assert openid not in str(scanner.findings) and token not in str(scanner.findings)
    # A kebab-case word of the same length is not an openid.
    scanner.findings.clear()
    scanner.scan_log_record(logging.makeLogRecord({"msg": "order-of-the-day-for-session"}))
    assert scanner.findings == []


@pytest.mark.urls(__name__)
def test_a_wechat_openid_in_a_response_is_a_finding_whoever_asks(db, client, scanner):
    client.get("/openid/")
    assert numbers(scanner) == [("response", "oAb***")]
