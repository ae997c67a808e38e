"""The signed webhook outbox, delivered to a tiny local HTTP server (loopback only)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.utils import timezone

from petitions.models import WebhookDelivery
from petitions.webhooks import backoff, webhook_deliveries_send_due
from tests.petitions.factories import external_system, submit

pytestmark = pytest.mark.django_db


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[bytes, str]] = []
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((body, self.headers["X-Portal-Signature"]))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def receiver():
    _Receiver.received = []
    _Receiver.status = 200
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield _Receiver, f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()
    server.server_close()


def test_deliveries_are_signed_with_the_key_secret(receiver, territory, microgrid_worker):
    handler, url = receiver
    hotline = external_system(webhook_url=url, secret="topsecret")
    petition = submit(hotline, channel="hotline_12345", building=territory.building1,
                      external_ref="H-1")
    assert webhook_deliveries_send_due() == 2
    assert len(handler.received) == 2
    body, signature = handler.received[0]
    expected = hmac.new(b"topsecret", body, hashlib.sha256).hexdigest()
    assert signature == f"sha256={expected}"
    payload = json.loads(body)
    assert payload["service_request_id"] == str(petition.pk)
    assert payload["external_ref"] == "H-1"
    assert not WebhookDelivery.objects.filter(delivered_at__isnull=True).exists()
    assert webhook_deliveries_send_due() == 0  # delivered rows are never sent again


def test_a_failed_delivery_backs_off_exponentially_then_gives_up(receiver, territory):
    handler, url = receiver
    handler.status = 500
    hotline = external_system(webhook_url=url)
    submit(hotline, channel="hotline_12345", building=territory.building1)
    delivery = WebhookDelivery.objects.get()
    now = timezone.now()
    assert webhook_deliveries_send_due(now=now) == 0
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status) == (1, 500)
    assert delivery.next_attempt_at == now + timedelta(seconds=30)
    assert webhook_deliveries_send_due(now=now + timedelta(seconds=10)) == 0
    assert WebhookDelivery.objects.get().attempts == 1  # not due yet
    for attempt in range(2, WebhookDelivery.MAX_ATTEMPTS + 1):
        now = now + backoff(attempt - 1)
        webhook_deliveries_send_due(now=now)
    delivery.refresh_from_db()
    assert delivery.attempts == WebhookDelivery.MAX_ATTEMPTS
    assert delivery.given_up_at is not None
    assert len(handler.received) == WebhookDelivery.MAX_ATTEMPTS


def test_an_unreachable_endpoint_is_recorded_not_raised(territory):
    hotline = external_system(webhook_url="http://127.0.0.1:9/hook")
    submit(hotline, channel="hotline_12345", building=territory.building1)
    assert webhook_deliveries_send_due() == 0
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 1 and delivery.last_error


def test_backoff_doubles_and_is_capped():
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff(50) == timedelta(hours=6)
