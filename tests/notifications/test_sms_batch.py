"""sms_enqueue_many: the sweeps' SMS in bulk, under the same per-number limits and dedupe."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import OutboundMessage
from notifications.services import Sms, sms_enqueue, sms_enqueue_many

pytestmark = pytest.mark.django_db
START = datetime(2026, 11, 16, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PHONE = "13800001111"
OTHER = "13800002222"


def test_a_batch_cannot_carry_a_number_past_its_hourly_limit(settings):
    settings.SMS_MAX_PER_RECIPIENT_PER_HOUR = 3
    with time_machine.travel(START, tick=False):
        sms_enqueue(phone=PHONE, body="之前的一条")
        written = sms_enqueue_many(messages=[Sms(phone=PHONE, body=f"第 {n} 条") for n in
                                             range(4)] + [Sms(phone=OTHER, body="另一个号码")])
    assert written == 5
    sendable = OutboundMessage.objects.filter(suppressed_at__isnull=True)
    assert sendable.filter(recipient=PHONE).count() == 3  # the earlier one and two of the batch
    assert sendable.filter(recipient=OTHER).count() == 1
    suppressed = OutboundMessage.objects.filter(suppressed_at__isnull=False)
    assert sorted(suppressed.values_list("body", flat=True)) == ["第 2 条", "第 3 条"]
    assert all("每小时 3 条" in row.last_error for row in suppressed)


def test_a_message_already_queued_under_its_dedupe_key_is_skipped():
    first = sms_enqueue_many(messages=[Sms(phone=PHONE, body="派单", dedupe_key="k:1"),
                                       Sms(phone=PHONE, body="派单", dedupe_key="k:1")])
    again = sms_enqueue_many(messages=[Sms(phone=PHONE, body="派单", dedupe_key="k:1"),
                                       Sms(phone=OTHER, body="督办", dedupe_key="k:2")])
    assert (first, again) == (1, 1)
    assert OutboundMessage.objects.count() == 2


def test_a_batch_costs_three_queries_whatever_its_size():
    counts = []
    for size in (1, 40):
        messages = [Sms(phone=f"139{size:04d}{n:04d}", body="催办", dedupe_key=f"{size}:{n}")
                    for n in range(size)]
        with CaptureQueriesContext(connection) as context:
            sms_enqueue_many(messages=messages)
        counts.append(len(context.captured_queries))
    assert counts == [3, 3]
