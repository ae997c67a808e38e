"""Who reads /metrics: a configured address (as core.ip resolves it behind our proxies) or the
bearer of METRICS_TOKEN; everyone else is refused, and nobody when neither is configured."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from tests.monitoring.conftest import TOKEN

pytestmark = pytest.mark.django_db
REPO = Path(__file__).resolve().parents[2]


def test_nobody_reads_the_metrics_when_neither_addresses_nor_a_token_are_configured(
        client, settings):
    settings.METRICS_ALLOWED_IPS, settings.METRICS_TOKEN = [], ""
    response = client.get("/metrics")
    assert response.status_code == 403
    assert b"portal_" not in response.content
    # An empty token configured is not a token everyone holds.
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_an_allowed_network_reads_the_metrics(client, settings):
    settings.METRICS_ALLOWED_IPS = ["10.1.0.0/16"]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.2.0.1").status_code == 403


def test_the_token_opens_the_metrics_from_anywhere_and_a_wrong_one_does_not(client, settings):
    settings.METRICS_ALLOWED_IPS, settings.METRICS_TOKEN = [], TOKEN
    ok = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert ok.status_code == 200
    assert ok["Content-Type"].startswith("text/plain")
    wrong = client.get("/metrics", REMOTE_ADDR="203.0.113.9",
                       HTTP_AUTHORIZATION=f"Bearer {TOKEN}x")
    assert wrong.status_code == 403
    basic = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION=f"Basic {TOKEN}")
    assert basic.status_code == 403


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw_not_one_the_client_wrote(
        client, settings):
    settings.NUM_PROXIES = 1
    settings.METRICS_ALLOWED_IPS = ["192.0.2.7"]
    through_proxy = client.get("/metrics", REMOTE_ADDR="172.18.0.5",
                               HTTP_X_FORWARDED_FOR="192.0.2.7")
    assert through_proxy.status_code == 200
    # The client wrote the allowed address itself; the proxy appended the real one.
    forged = client.get("/metrics", REMOTE_ADDR="172.18.0.5",
                        HTTP_X_FORWARDED_FOR="192.0.2.7, 198.51.100.9")
    assert forged.status_code == 403


def test_the_token_may_come_from_a_file_like_the_other_secrets(monkeypatch, tmp_path):
    secret = tmp_path / "metrics_token"
    secret.write_text("from-a-file\n", encoding="utf-8")
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("METRICS_TOKEN_FILE", str(secret))
    monkeypatch.setenv("METRICS_ALLOWED_IPS", "10.0.0.0/8,127.0.0.1")
    base = runpy.run_path(str(REPO / "config/settings/base.py"))
    assert base["METRICS_TOKEN"] == "from-a-file"
    assert base["METRICS_ALLOWED_IPS"] == ["10.0.0.0/8", "127.0.0.1"]


def test_only_get_is_answered(client, settings):
    settings.METRICS_TOKEN = TOKEN
    response = client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 405


def test_a_request_through_a_proxy_is_not_let_in_by_the_proxys_own_address(client, settings):
    """Behind two proxies (compose: the operator's, then nginx) a chain one entry short means the
    outer proxy did not append, or someone on the host reached nginx directly. core.ip then falls
    back to the peer, nginx itself: an allowed compose network (there for a Prometheus beside
    the web) must not open /metrics to whoever came through nginx."""
    settings.NUM_PROXIES = 2
    settings.METRICS_ALLOWED_IPS = ["172.18.0.0/16"]
    direct = client.get("/metrics", REMOTE_ADDR="172.18.0.9")
    assert direct.status_code == 200
    through_nginx = client.get("/metrics", REMOTE_ADDR="172.18.0.3",
                               HTTP_X_FORWARDED_FOR="172.18.0.1")
    assert through_nginx.status_code == 403
    whole_chain = client.get("/metrics", REMOTE_ADDR="172.18.0.3",
                             HTTP_X_FORWARDED_FOR="172.18.0.20, 172.18.0.1")
    assert whole_chain.status_code == 200
