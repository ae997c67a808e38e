"""The sign-in code limits hold when many requests arrive at once (PostgreSQL)."""

from __future__ import annotations

import os
import threading

import pytest
from django.db import connection

from accounts.models import PhoneCode
from accounts.services import phone_code_request
from core.exceptions import RateLimited

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                       reason="needs PostgreSQL"),
]

IP = "203.0.113.5"


def test_concurrent_requests_from_one_ip_never_exceed_the_limit(transactional_db, settings):
    settings.OTP_MAX_PER_IP_PER_HOUR = 3
    threads_count = 12
    barrier = threading.Barrier(threads_count)
    outcomes: list[str] = []

    def request_code(index: int) -> None:
        try:
            barrier.wait()
            phone_code_request(phone=f"139000000{index:02d}", ip=IP)
            outcomes.append("sent")
        except RateLimited:
            outcomes.append("limited")
        finally:
            connection.close()

    threads = [threading.Thread(target=request_code, args=(index,))
               for index in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Count-then-insert without the advisory lock lets several of these through at once.
    assert outcomes.count("sent") == 3
    assert PhoneCode.objects.filter(requested_ip=IP).count() == 3
