from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.core.cache import cache

from accounts.sms import LocmemSmsBackend


@pytest.fixture(autouse=True)
def _fresh_outbox_and_cache() -> Iterator[None]:
    """The SMS outbox and the throttle buckets are process-wide: start every test empty."""
    LocmemSmsBackend.outbox.clear()
    cache.clear()
    yield
    LocmemSmsBackend.outbox.clear()


def last_code(phone: str) -> str:
    """The code in the newest SMS sent to `phone`."""
    messages = [sms["message"] for sms in LocmemSmsBackend.outbox if sms["phone"] == phone]
    assert messages, f"no SMS was sent to {phone}"
    match = re.search(r"\b(\d{6})\b", messages[-1])
    assert match
    return match.group(1)
