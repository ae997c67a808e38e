"""Reading /metrics as Prometheus does, and a fake Alibaba SMS gateway for failed sends."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client, override_settings
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes.aliyun_sms import FakeAliyunSms, serve

TOKEN = "scrape-token-for-tests"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture(autouse=True)
def _own_heartbeat_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """On the services lane the cache is one Redis for every xdist worker: each test stamps and
    deletes heartbeat keys of its own, never another test's."""
    from monitoring import heartbeat

    suffix = uuid.uuid4().hex
    monkeypatch.setattr(heartbeat, "BEAT_KEY", f"{heartbeat.BEAT_KEY}:{suffix}")
    monkeypatch.setattr(heartbeat, "WORKER_KEY", f"{heartbeat.WORKER_KEY}:{suffix}")


@pytest.fixture
def scrape(settings: Any, client: Client) -> Callable[[], Samples]:
    """GET /metrics with the token, parsed into {(sample name, labels): value}."""
    settings.METRICS_TOKEN = TOKEN

    def read() -> Samples:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200, response.content
        return parse(response.content.decode())

    return read


@pytest.fixture
def gateway() -> Iterator[FakeAliyunSms]:
    fake = FakeAliyunSms()
    server = serve(fake)
    port = server.server_address[1]
    with override_settings(
        SMS_BACKEND="notifications.sms_aliyun.AliyunSmsBackend",
        ALIYUN_SMS_ACCESS_KEY_ID=fake.access_key_id,
        ALIYUN_SMS_ACCESS_KEY_SECRET=fake.access_key_secret,
        ALIYUN_SMS_SIGN_NAME=fake.sign_name,
        ALIYUN_SMS_TEMPLATES={"code": "SMS_100000001", "notice": "SMS_100000002"},
        ALIYUN_SMS_ENDPOINT=f"http://127.0.0.1:{port}/", ALIYUN_SMS_TIMEOUT=5.0,
    ):
        yield fake
    server.shutdown()
    server.server_close()
