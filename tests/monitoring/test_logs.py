"""Log lines as production writes them (LOG_FORMAT=json): one JSON object a line, with the
request id, and for the sweep, an outbox delivery and a reveal the ids of what was done, never
a phone or an ID number. (The leak scan, tests/leakscan.py, reads every record of the run,
extras included; this test reads the formatted lines themselves.)"""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from core.log_filters import RedactSecretsFilter, RequestIdFilter, json_formatter
from core.masking import unmasked_numbers
from notifications.models import OutboundMessage
from notifications.services import outbox_deliver
from petitions.tasks import petitions_sweep_task
from tests.petitions.factories import submit
from tests.residents.factories import residents_populate


@pytest.fixture
def json_lines():
    """The console handler of production: JSON formatter, request id and redaction filters."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactSecretsFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def _by_event(lines, event):
    return [line for line in lines if line.get("event") == event]


def test_a_reveal_an_outbox_failure_and_a_sweep_log_ids_and_no_number(
        json_lines, territory, grid_worker, resident_user, microgrid_worker, gateway):
    people = residents_populate([territory.household1])
    client = APIClient()
    client.force_authenticate(grid_worker)
    url = reverse("api:residents-resident-reveal", args=[people[0].pk])
    response = client.post(url, {"field": "phone"}, format="json",
                           HTTP_X_REQUEST_ID="reveal-req-1")
    assert response.json()["value"] == people[0].phone
    OutboundMessage.objects.all().delete()
    message = OutboundMessage.objects.create(recipient="13900000079", body="您的诉求 13900000079")
    with override_settings(ALIYUN_SMS_ACCESS_KEY_SECRET="not-the-secret"):
        outbox_deliver()
    submit(resident_user)
    with time_machine.travel(timedelta(days=1, minutes=1)):
        petitions_sweep_task()

    lines = json_lines()
    assert lines
    for line in lines:
        assert {"time", "level", "logger", "message", "request_id", "task_id"} <= set(line)
        assert unmasked_numbers(json.dumps(line, ensure_ascii=False)) == [], line
    [reveal] = _by_event(lines, "audit.reveal")
    assert reveal["request_id"] == "reveal-req-1"
    assert (reveal["object_type"], reveal["object_id"], reveal["fields"], reveal["actor_id"]) == (
        "residents.resident", str(people[0].pk), ["phone"], grid_worker.pk)
    [failed] = _by_event(lines, "outbox.sms")
    assert (failed["outbox_id"], failed["attempt"], failed["delivered"], failed["level"]) == (
        message.pk, 1, False, "WARNING")
    [sweep] = _by_event(lines, "petitions.sweep")
    assert sweep["escalated"] == 1 and sweep["duration_seconds"] >= 0


def test_a_logged_exception_and_string_extras_carry_no_whole_number_or_key(json_lines):
    """A traceback quotes its exception's text (a gateway's answer, a database error's DETAIL),
    and an `extra` is written as given: neither reaches the line with a whole phone, a whole ID
    number, a bearer or API key, a WeChat openid or access token."""
    from core.masking import id_number_check_character
    from tests import leakscan

    id_number = "11010119900307123"
    id_number += id_number_check_character(id_number)
    openid = "oAbCdEfGhIjKlMnOpQrStUvWxYz1"
    api_key = "deadbeef." + "Ab1-" * 10 + "xyz"
    access_token = "87_" + "aB3" * 40
    logger = logging.getLogger("tests.monitoring.leak")
    with leakscan.isolated():  # the record itself holds the numbers: that is the point
        try:
            raise ValueError(f"Key (phone)=(13912345678) id {id_number} Bearer abcdefghijklmnop")
        except ValueError:
            logger.exception("delivery failed", extra={"event": "outbox.sms",
                                                        "recipient": "13912345678",
                                                        "people": [id_number],
                                                        "answer": f"invalid openid {openid}",
                                                        "key": api_key,
                                                        "url": f"?access_token={access_token}",
                                                        "token": access_token})

    [line] = [line for line in json_lines() if line["logger"] == "tests.monitoring.leak"]
    text = json.dumps(line, ensure_ascii=False)
    assert "ValueError" in line["exc_info"]
    assert unmasked_numbers(text) == [], text
    assert "abcdefghijklmnop" not in text
    for secret in (openid, api_key, access_token):
        assert secret not in text
    assert line["event"] == "outbox.sms"
