"""Abuse limits end to end, behind a proxy: what an attacker can change does not buy more tries.

Production sits behind one TLS proxy (NUM_PROXIES=1): the proxy appends the address it saw, so
only the right-most X-Forwarded-For entry is the client's; anything further left the client
wrote itself. Each test plays the attacker rotating what he controls (the forged entries, the
phone numbers, the usernames, a session cookie) and checks the limit holds, and that it stays
narrow: other people behind the same NAT address, or the same person elsewhere, are not hit.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.api.throttles import ApiKeyRateThrottle
from accounts.models import PhoneCode
from accounts.services import api_key_create

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.1"
NAT = "203.0.113.7"  # one carrier-grade NAT address shared by many people
ELSEWHERE = "198.51.100.20"
CODE_URL = reverse("api:auth-phone-code")
LOGIN = reverse("accounts:login")


def via_proxy(client_address: str, forged: str = "") -> dict[str, str]:
    """The request as the proxy forwards it; `forged` is what the client itself put in XFF."""
    chain = f"{forged}, {client_address}" if forged else client_address
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": chain}


@pytest.fixture
def one_proxy(settings):
    settings.NUM_PROXIES = 1


def ask_code(api: APIClient, phone: str, **meta: str) -> int:
    return api.post(CODE_URL, {"phone": phone}, format="json", **meta).status_code


# --- sign-in codes ------------------------------------------------------------------------------


def test_the_per_ip_code_limit_counts_the_proxys_entry_not_the_forged_ones(one_proxy, settings):
    settings.OTP_MAX_PER_IP_PER_HOUR = 3
    api = APIClient()
    statuses = [ask_code(api, f"1390000000{index}", **via_proxy(NAT, forged=f"6.6.6.{index}"))
                for index in range(4)]
    assert statuses == [200, 200, 200, 429]
    # Another forged prefix, even a list of them, changes nothing.
    assert ask_code(api, "13900000008", **via_proxy(NAT, forged="1.1.1.1, 2.2.2.2")) == 429
    assert set(PhoneCode.objects.values_list("requested_ip", flat=True)) == {NAT}
    # A different client address (the proxy's own entry) has its own allowance.
    assert ask_code(api, "13900000009", **via_proxy(ELSEWHERE)) == 200


def test_without_proxies_x_forwarded_for_is_ignored_for_codes(settings):
    settings.NUM_PROXIES = 0
    settings.OTP_MAX_PER_IP_PER_HOUR = 2
    api = APIClient()
    statuses = [ask_code(api, f"1390000000{index}", REMOTE_ADDR=NAT,
                         HTTP_X_FORWARDED_FOR=f"198.51.100.{index}") for index in range(3)]
    assert statuses == [200, 200, 429]
    assert set(PhoneCode.objects.values_list("requested_ip", flat=True)) == {NAT}


def test_the_per_phone_limit_holds_whatever_address_asks(one_proxy, settings):
    settings.OTP_MAX_PER_PHONE_PER_HOUR = 3
    api = APIClient()
    start = timezone.now()
    statuses = []
    for attempt in range(4):
        # A new real address each time, past the one-minute resend wait.
        with time_machine.travel(start + timedelta(minutes=2 * attempt), tick=False):
            statuses.append(ask_code(api, "13912345678", **via_proxy(f"198.51.100.{attempt}")))
    assert statuses == [200, 200, 200, 429]
    assert PhoneCode.objects.filter(phone="13912345678").count() == 3


def test_the_global_ceiling_holds_whatever_phone_and_address(one_proxy, settings):
    settings.OTP_MAX_GLOBAL_PER_HOUR = 3
    api = APIClient()
    statuses = [ask_code(api, f"1370000000{index}", **via_proxy(f"198.51.100.{index}"))
                for index in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = api.post(CODE_URL, {"phone": "13700000009"}, format="json",
                        **via_proxy("198.51.100.99"))
    assert response.json()["message"] == "系统繁忙，请稍后再试。"


def test_the_web_sign_in_page_uses_the_same_address(one_proxy, settings):
    settings.OTP_MAX_PER_IP_PER_HOUR = 1
    client = Client()
    phone_login = reverse("accounts:phone-login")
    client.post(phone_login, {"phone": "13900000001"}, **via_proxy(NAT, forged="6.6.6.1"))
    response = client.post(phone_login, {"phone": "13900000002"},
                           **via_proxy(NAT, forged="6.6.6.2"))
    assert response.status_code == 429
    assert "当前网络" in response.text


# --- staff password lockout (django-axes) -------------------------------------------------------


def fail_from(client: Client, username: str, address: str, times: int) -> int:
    status = 0
    for attempt in range(times):
        status = client.post(LOGIN, {"username": username, "password": "wrong"},
                             **via_proxy(address, forged=f"6.6.6.{attempt}")).status_code
    return status


def sign_in(username: str, address: str, forged: str = "") -> int:
    return Client().post(LOGIN, {"username": username, "password": "pass-1234"},
                         **via_proxy(address, forged=forged)).status_code


def test_a_guesser_behind_a_nat_locks_only_the_usernames_he_tried_from_there(
        one_proxy, settings, grid_worker, microgrid_worker, community_staff):
    limit = settings.AXES_FAILURE_LIMIT
    attacker = Client()
    # Rotating the forged entries on every try does not spread the failures over addresses.
    assert fail_from(attacker, "gridw", NAT, limit) == 429
    assert fail_from(attacker, "community", NAT, limit) == 429
    assert sign_in("gridw", NAT, forged="9.9.9.9") == 429
    # The same people from anywhere else, and everyone else behind the NAT, sign in as usual.
    assert sign_in("gridw", ELSEWHERE) == 302
    assert sign_in("community", ELSEWHERE) == 302
    assert sign_in("micro", NAT) == 302


def test_the_lock_behind_the_proxy_cools_off(one_proxy, settings, grid_worker):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail_from(Client(), "gridw", NAT, settings.AXES_FAILURE_LIMIT)
    with time_machine.travel(start + timedelta(minutes=14), tick=False):
        assert sign_in("gridw", NAT) == 429
    # That refused try restarted the 15 minutes.
    with time_machine.travel(start + timedelta(minutes=14 + 16), tick=False):
        assert sign_in("gridw", NAT) == 302


# --- API keys -------------------------------------------------------------------------------------


@pytest.fixture
def two_keys(territory, monkeypatch) -> tuple[str, str]:
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "3/min"})
    _first, first_key = api_key_create(name="12345 热线")
    _second, second_key = api_key_create(name="诉速办")
    return first_key, second_key


def keyed(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    return client


@pytest.mark.parametrize("path", ["/api/v1/petitions/", "/api/v1/me/", "/api/v1/areas/"])
def test_every_api_endpoint_throttles_each_key_on_its_own(one_proxy, two_keys, path):
    first_key, second_key = two_keys
    first = keyed(first_key)
    statuses = [first.get(path, **via_proxy(NAT)).status_code for _ in range(4)]
    assert statuses[:3] == [200] * 3
    assert statuses[3] == 429
    # The other key, from the very same address, still has its whole allowance.
    second = keyed(second_key)
    assert [second.get(path, **via_proxy(NAT)).status_code for _ in range(3)] == [200] * 3


def test_a_key_cannot_escape_its_limit_by_address_or_by_adding_a_session(
        one_proxy, two_keys, grid_worker):
    first_key, _second_key = two_keys
    client = keyed(first_key)
    for index in range(3):
        assert client.get("/api/v1/me/", **via_proxy(f"198.51.100.{index}")).status_code == 200
    assert client.get("/api/v1/me/", **via_proxy(ELSEWHERE, forged="1.1.1.1")).status_code == 429
    # A staff session cookie alongside the key: the key still decides, and it is spent.
    client.force_login(grid_worker)
    assert client.get("/api/v1/me/").status_code == 429
    assert client.get("/api/v1/petitions/").status_code == 429


def test_the_anonymous_api_throttle_ignores_a_forged_x_forwarded_for(territory, monkeypatch):
    # DRF's own per-IP identification (REST_FRAMEWORK["NUM_PROXIES"], the same NUM_PROXIES
    # variable, 0 here) on the one public API list.
    from rest_framework.throttling import AnonRateThrottle

    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/min"})
    api = APIClient()
    statuses = [api.get("/api/v1/party-members/public/", REMOTE_ADDR=NAT,
                        HTTP_X_FORWARDED_FOR=f"198.51.100.{index}").status_code
                for index in range(3)]
    assert statuses == [200, 200, 429]
