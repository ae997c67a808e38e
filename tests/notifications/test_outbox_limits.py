"""The SMS outbox caps what one number receives (issue 10, item 5): past the hourly or daily
limit a message is kept as a suppressed row, never sent, never silently dropped."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from notifications.models import OutboundMessage
from notifications.services import outbox_deliver, sms_enqueue
from notifications.sms import LocmemSmsBackend

pytestmark = pytest.mark.django_db
START = datetime(2026, 11, 16, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PHONE = "13800001111"
OTHER = "13800002222"


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    LocmemSmsBackend.outbox.clear()
    yield
    LocmemSmsBackend.outbox.clear()


def _sent_to() -> list[str]:
    return sorted(message["phone"] for message in LocmemSmsBackend.outbox)


def test_sms_past_a_numbers_hourly_limit_are_kept_as_suppressed_and_never_sent(settings):
    settings.SMS_MAX_PER_RECIPIENT_PER_HOUR = 2
    with time_machine.travel(START, tick=False) as traveller:
        for number in range(3):
            sms_enqueue(phone=PHONE, body=f"第 {number + 1} 条")
        sms_enqueue(phone=OTHER, body="另一个号码")  # each number has its own count
        assert outbox_deliver() == 3
        assert _sent_to() == [PHONE, PHONE, OTHER]
        suppressed = OutboundMessage.objects.get(suppressed_at__isnull=False)
        assert suppressed.body == "第 3 条"
        assert suppressed.processed_at is None
        assert "每小时 2 条" in suppressed.last_error
        # An hour on, the number may be texted again; the suppressed row stays unsent.
        traveller.shift(timedelta(minutes=61))
        sms_enqueue(phone=PHONE, body="一小时后")
        assert outbox_deliver() == 1
        assert OutboundMessage.objects.filter(suppressed_at__isnull=False).count() == 1


def test_sms_past_a_numbers_daily_limit_wait_for_the_next_day(settings):
    settings.SMS_MAX_PER_RECIPIENT_PER_HOUR = 10
    settings.SMS_MAX_PER_RECIPIENT_PER_DAY = 3
    with time_machine.travel(START, tick=False) as traveller:
        for _hour in range(4):
            sms_enqueue(phone=PHONE, body="进度通知")
            traveller.shift(timedelta(hours=2))
        assert outbox_deliver() == 3
        assert OutboundMessage.objects.filter(suppressed_at__isnull=False).count() == 1
        traveller.shift(timedelta(hours=24))
        sms_enqueue(phone=PHONE, body="第二天")
        assert outbox_deliver() == 1


def test_the_limit_check_is_one_query_whatever_the_history(settings, django_assert_num_queries):
    settings.SMS_MAX_PER_RECIPIENT_PER_DAY = 1000
    settings.SMS_MAX_PER_RECIPIENT_PER_HOUR = 1000
    OutboundMessage.objects.bulk_create(
        [OutboundMessage(recipient=PHONE, body=f"旧消息 {index}") for index in range(50)])
    # One count over the recipient's last day, one insert.
    with django_assert_num_queries(2):
        sms_enqueue(phone=PHONE, body="新消息")
