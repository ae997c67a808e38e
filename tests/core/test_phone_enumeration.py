"""No way to learn whether a phone number is registered.

Every place a phone number goes in is asked twice, with twin numbers whose masks are equal
(138****1111): one belongs to a resident (or a staff member), the other to nobody. The twins must
get the same status, the same bytes (but for CSRF tokens and CSP nonces), the same number of
database queries (the same work) and the same number of text messages sent. Entry points: the
sign-in code page and API, the code check (page and API), the staff and admin sign-in forms (a
resident's or staff member's phone typed as the user name), a petition filed by an external
system with the phone as contact, and Open311's phone field. (Volunteer sign-up and the resident's
own pages take no phone: the account's own is used.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.services import api_key_create
from notifications.sms import LocmemSmsBackend
from tests.accounts.factories import UserFactory
from tests.conftest import Territory
from tests.petitions.factories import category


@pytest.fixture(autouse=True)
def _still_clock() -> Any:
    """The two answers compared are seconds apart: a "wait 60 s" becomes "59 s" when a second
    boundary falls between them (a loaded CI machine). The clock stands still instead."""
    with time_machine.travel(datetime.now(tz=UTC), tick=False):
        yield

REGISTERED = "13800001111"  # resident_user's phone (tests/conftest.py)
STAFF_PHONE = "13822221111"
NOBODY = "13899991111"  # the same mask, 138****1111, and no account
WARM_UP = "13877770000"
VOLATILE = re.compile(
    rb'(name="csrfmiddlewaretoken" value=")[^"]+|(nonce=")[^"]+|("X-CSRFToken": ")[^"]+')


def _normalised(response: Any, typed: str) -> bytes:
    """The body without its CSRF tokens and CSP nonces, and with the number the requester typed
    (a form echoes it back) replaced: what is left must not depend on the number."""
    content = VOLATILE.sub(
        lambda match: next(group for group in match.groups() if group) + b"-", response.content)
    return content.replace(typed.encode(), b"<typed>")


def _answer(send: Callable[[str], Any], phone: str) -> tuple[int, bytes, str, int, int]:
    sms_before = len(LocmemSmsBackend.outbox)
    with CaptureQueriesContext(connection) as queries:
        response = send(phone)
    return (response.status_code, _normalised(response, phone), response.get("Location", ""),
            len(queries), len(LocmemSmsBackend.outbox) - sms_before)


def assert_same_answer(send: Callable[[str], Any], *, twin: str = REGISTERED) -> None:
    """`twin` (registered) and NOBODY get the same answer, for the same work. A first request
    with a third number warms what any first request does once (the API key's "last used"
    stamp, cached settings), so the counts compare like with like."""
    send(WARM_UP)
    registered, unknown = _answer(send, twin), _answer(send, NOBODY)
    labels = ("status", "body", "Location", "queries", "text messages")
    for label, left, right in zip(labels, registered, unknown, strict=True):
        if isinstance(left, bytes) and left != right:
            at = next(index for index, (a, b) in enumerate(zip(left, right, strict=False))
                      if a != b) if left[:len(right)] != right[:len(left)] else len(right)
            left, right = left[max(at - 80, 0):at + 80], right[max(at - 80, 0):at + 80]
        assert left == right, f"{label} tells a registered phone apart: {left!r} != {right!r}"


@pytest.fixture
def cast(resident_user: User, territory: Territory) -> None:
    UserFactory(username="worker", role=User.Role.GRID_WORKER, phone=STAFF_PHONE,
                scope_area=territory.grid)
    assert User.objects.filter(phone=REGISTERED).exists()
    assert not User.objects.filter(phone=NOBODY).exists()


@pytest.fixture(autouse=True)
def _empty_outbox() -> None:
    LocmemSmsBackend.outbox.clear()


@pytest.mark.parametrize("twin", [REGISTERED, STAFF_PHONE])
@pytest.mark.usefixtures("cast")
def test_the_sign_in_code_page_answers_alike(twin: str) -> None:
    def ask(phone: str) -> Any:
        client = Client()
        sent = client.post("/accounts/phone/", {"phone": phone})
        assert sent.status_code == 302
        return client.get(sent["Location"])  # the code page, with the masked phone

    assert_same_answer(ask, twin=twin)
    assert_same_answer(lambda phone: Client().post("/accounts/phone/", {"phone": phone}),
                       twin=twin)
    # A code to every number, registered or not, once: the second round came too soon for all.
    assert sorted(sms["phone"] for sms in LocmemSmsBackend.outbox) == sorted(
        [WARM_UP, twin, NOBODY])


@pytest.mark.parametrize("twin", [REGISTERED, STAFF_PHONE])
@pytest.mark.usefixtures("cast")
def test_a_wrong_code_on_the_page_answers_alike(twin: str) -> None:
    def wrong_code(phone: str) -> Any:
        client = Client()
        client.post("/accounts/phone/", {"phone": phone})
        return client.post("/accounts/phone/verify/", {"code": "000000"})

    # The code is random: a wrong guess of "000000" is right once in a million runs.
    assert_same_answer(wrong_code, twin=twin)


@pytest.mark.parametrize("twin", [REGISTERED, STAFF_PHONE])
@pytest.mark.usefixtures("cast")
def test_the_sign_in_code_api_answers_alike(twin: str) -> None:
    def ask(phone: str) -> Any:
        return Client().post("/api/v1/auth/phone/code/", {"phone": phone},
                             content_type="application/json")

    def verify(phone: str) -> Any:
        return Client().post("/api/v1/auth/phone/verify/", {"phone": phone, "code": "000000"},
                             content_type="application/json")

    assert_same_answer(verify, twin=twin)  # no code asked for yet
    assert_same_answer(ask, twin=twin)
    assert_same_answer(verify, twin=twin)  # a wrong code
    assert_same_answer(ask, twin=twin)  # asked again too soon: the same wait for both


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
@pytest.mark.usefixtures("cast")
def test_the_password_forms_do_not_tell_a_phone_or_a_resident_apart(url: str) -> None:
    def sign_in(username: str) -> Any:
        return Client().post(url, {"username": username, "password": "wrong-password"})

    assert_same_answer(sign_in)  # a phone typed as the user name
    resident_username = User.objects.get(phone=REGISTERED).username
    registered, unknown = _answer(sign_in, resident_username), _answer(sign_in, "nobody-here")
    assert registered[:2] == unknown[:2]


@pytest.mark.usefixtures("cast")
def test_a_petition_filed_with_a_contact_phone_answers_alike(territory: Territory) -> None:
    _api_key, raw_key = api_key_create(name="12345 热线")
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    code = category().pk

    def file(phone: str) -> Any:
        response = client.post("/api/v1/petitions/", {
            "category": code, "description": "路灯不亮", "building": territory.building1.pk,
            "contact_name": "王", "contact_phone": phone, "channel": "hotline_12345",
        }, content_type="application/json")
        assert response.status_code == 201, response.content
        body = json.loads(response.content)
        response.content = json.dumps(_without_ids(body), sort_keys=True).encode()
        return response

    assert_same_answer(file)


@pytest.mark.usefixtures("cast")
def test_open311_answers_alike_for_a_registered_phone(territory: Territory) -> None:
    _api_key, raw_key = api_key_create(name="12345 热线")
    code = str(category().pk)

    def post(phone: str) -> Any:
        response = Client().post("/open311/v2/requests.json", {
            "api_key": raw_key, "service_code": code, "description": "噪音",
            "address_id": str(territory.building1.pk), "phone": phone,
            "email": "resident@example.org", "first_name": "秀英", "last_name": "王",
        })
        assert response.status_code == 201, response.content
        response.content = json.dumps(_without_ids(json.loads(response.content))).encode()
        return response

    assert_same_answer(post)


# Fields that differ between any two new petitions: their ids, numbers, tokens and times.
ROW_FIELDS = re.compile(r"(^|_)(id|pk|number|token|at|url)$|^(created|updated|submitted)")


def _without_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_ids(item) for key, item in value.items()
                if not ROW_FIELDS.search(key)}
    if isinstance(value, list):
        return [_without_ids(item) for item in value]
    return value
