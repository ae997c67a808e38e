"""Fixtures of the whole-site tests (the crawl and the access matrix)."""

from __future__ import annotations

import logging
from typing import Any

import pytest


@pytest.fixture
def crawl_settings(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    """Throttles have their own tests; the crawl wants every endpoint's real answer, not 429.
    Sessions in signed cookies and a quiet request logger keep a thousand requests fast."""
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "allow_request", lambda self, request, view: True)
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    request_logger = logging.getLogger("django.request")
    monkeypatch.setattr(request_logger, "level", logging.CRITICAL)
    # /readyz answers 200 only when beat was seen lately: as if it had just sent its heartbeat.
    from monitoring.heartbeat import beat_seen_stamp

    beat_seen_stamp()

