from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.throttling import SimpleRateThrottle

from notifications.sms import LocmemSmsBackend


@pytest.fixture(autouse=True)
def _fresh_outbox_and_throttles(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The SMS outbox and the throttle buckets are process-wide: start every test empty.

    Throttles get a private cache rather than cache.clear(), which on Redis would flush a
    database the Celery broker may share.
    """
    LocmemSmsBackend.outbox.clear()
    throttle_cache = LocMemCache("accounts-throttle-tests", {})
    throttle_cache.clear()
    monkeypatch.setattr(SimpleRateThrottle, "cache", throttle_cache)
    yield
    LocmemSmsBackend.outbox.clear()


def last_code(phone: str) -> str:
    """The code in the newest SMS sent to `phone`."""
    messages = [sms["message"] for sms in LocmemSmsBackend.outbox if sms["phone"] == phone]
    assert messages, f"no SMS was sent to {phone}"
    match = re.search(r"\b(\d{6})\b", messages[-1])
    assert match
    return match.group(1)
