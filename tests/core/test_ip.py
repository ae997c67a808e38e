from __future__ import annotations

import pytest
from django.test import RequestFactory

from core.ip import client_ip


@pytest.fixture
def factory() -> RequestFactory:
    return RequestFactory()


def test_it_ignores_x_forwarded_for_entirely_without_proxies(factory, settings):
    settings.NUM_PROXIES = 0
    request = factory.get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_ip(request) == "10.0.0.9"


def test_it_takes_the_nth_address_from_the_right_behind_n_proxies(factory, settings):
    settings.NUM_PROXIES = 2
    # The client forged "6.6.6.6"; proxy 1 appended the real client, proxy 2 appended proxy 1.
    request = factory.get("/", REMOTE_ADDR="10.0.0.2",
                          HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7, 10.0.0.1")
    assert client_ip(request) == "203.0.113.7"


def test_it_takes_the_last_address_behind_one_proxy(factory, settings):
    settings.NUM_PROXIES = 1
    request = factory.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6,203.0.113.7")
    assert client_ip(request) == "203.0.113.7"


def test_it_falls_back_to_remote_addr_when_the_header_is_short_or_garbage(factory, settings):
    settings.NUM_PROXIES = 2
    short = factory.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    garbage = factory.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="x, not-an-ip, y")
    assert client_ip(short) == "10.0.0.1"
    assert client_ip(garbage) == "10.0.0.1"
