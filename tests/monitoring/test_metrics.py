"""/metrics after real work: the counters move by what the sweep, the outbox and the sign-in
service did, and the gauges read at scrape time say what is open and waiting."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.test import override_settings

from notifications.models import OutboundMessage
from notifications.services import outbox_deliver
from petitions import tasks
from petitions.tasks import petitions_sweep_task
from petitions.webhooks import webhook_deliveries_send_due
from tests.accounts.factories import UserFactory
from tests.monitoring.conftest import value
from tests.petitions.factories import external_system, submit

MONDAY_9AM = datetime(2026, 11, 16, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def frozen():
    with time_machine.travel(MONDAY_9AM, tick=False) as traveller:
        yield traveller


def test_a_sweep_escalating_three_petitions_moves_the_escalation_counter_by_three(
        frozen, scrape, resident_user, microgrid_worker, grid_worker):
    for _ in range(3):
        submit(resident_user)
    before = scrape()
    assert value(before, "portal_petitions_open", tier="microgrid") == 3
    frozen.shift(timedelta(days=1, seconds=30))
    overdue = scrape()
    # One day is the micro-grid's deadline: all three are 30 s past it.
    assert value(overdue, "portal_petitions_oldest_overdue_seconds", tier="microgrid") == 30

    # Nobody accepted or checked in either: both clocks (minutes) ran out for all three too.
    assert petitions_sweep_task() == {"escalated": 3, "supervised": 0, "arrivals_missed": 3,
                                      "accept_overdue": 3, "yellow_cards": 0, "red_cards": 0}

    after = scrape()
    assert (value(after, "portal_sweep_escalated_petitions_total")
            - value(before, "portal_sweep_escalated_petitions_total")) == 3
    assert (value(after, "portal_sweep_arrivals_missed_total")
            - value(before, "portal_sweep_arrivals_missed_total")) == 3
    assert (value(after, "portal_sweep_accept_overdue_total")
            - value(before, "portal_sweep_accept_overdue_total")) == 3
    assert (value(after, "portal_sweep_runs_total", outcome="success")
            - value(before, "portal_sweep_runs_total", outcome="success")) == 1
    assert value(after, "portal_sweep_supervised_petitions_total") == value(
        before, "portal_sweep_supervised_petitions_total")
    assert value(after, "portal_sweep_last_success_timestamp_seconds") == (
        MONDAY_9AM + timedelta(days=1, seconds=30)).timestamp()
    assert value(after, "portal_petitions_open", tier="grid") == 3
    assert value(after, "portal_petitions_open", tier="microgrid") == 0
    assert value(after, "portal_petitions_oldest_overdue_seconds", tier="grid") == 0


def test_a_sweep_past_the_street_deadline_counts_each_supervision_flag_once(
        frozen, scrape, resident_user, microgrid_worker, grid_worker, street_admin):
    submit(resident_user)
    submit(resident_user)
    frozen.shift(timedelta(days=5, seconds=10))
    before = scrape()
    petitions_sweep_task()
    petitions_sweep_task()  # nothing left to do: the counters stay
    after = scrape()
    assert (value(after, "portal_sweep_supervised_petitions_total")
            - value(before, "portal_sweep_supervised_petitions_total")) == 2
    assert (value(after, "portal_sweep_runs_total", outcome="success")
            - value(before, "portal_sweep_runs_total", outcome="success")) == 2
    # Still open at the street, past its deadline: what the OverdueBeyondStreetDeadline alert reads.
    assert value(after, "portal_petitions_oldest_overdue_seconds", tier="street") == 10


def test_a_failing_sweep_counts_a_failure_and_leaves_the_last_success_alone(
        frozen, scrape, monkeypatch, db):
    petitions_sweep_task()
    before = scrape()

    def broken(*, now):
        raise RuntimeError("database went away")

    monkeypatch.setattr(tasks, "petitions_sweep", broken)
    frozen.shift(timedelta(minutes=1))
    with pytest.raises(RuntimeError):
        petitions_sweep_task()
    after = scrape()
    assert (value(after, "portal_sweep_runs_total", outcome="failure")
            - value(before, "portal_sweep_runs_total", outcome="failure")) == 1
    assert value(after, "portal_sweep_last_success_timestamp_seconds") == MONDAY_9AM.timestamp()


def test_a_refused_sms_counts_a_failure_then_its_retry_a_retried_send(scrape, gateway, db):
    OutboundMessage.objects.create(recipient="13900000079", body="通知")
    before = scrape()
    assert value(before, "portal_outbox_depth", channel="sms") == 1

    with override_settings(ALIYUN_SMS_ACCESS_KEY_SECRET="not-the-secret"):
        assert outbox_deliver() == 0
    failed = scrape()
    assert (value(failed, "portal_outbox_failed_total", channel="sms")
            - value(before, "portal_outbox_failed_total", channel="sms")) == 1
    assert value(failed, "portal_outbox_depth", channel="sms") == 1

    assert outbox_deliver() == 1
    after = scrape()
    assert (value(after, "portal_outbox_sent_total", channel="sms")
            - value(before, "portal_outbox_sent_total", channel="sms")) == 1
    assert (value(after, "portal_outbox_retried_total", channel="sms")
            - value(before, "portal_outbox_retried_total", channel="sms")) == 1
    assert value(after, "portal_outbox_depth", channel="sms") == 0
    assert len(gateway.sent) == 1


def test_a_webhook_nobody_answers_counts_a_failed_delivery(
        frozen, scrape, territory, microgrid_worker):
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    system = external_system(webhook_url="http://127.0.0.1:9/hook")
    submit(system, channel="hotline_12345", building=territory.building1)
    before = scrape()
    assert value(before, "portal_outbox_depth", channel="webhook") >= 1
    frozen.shift(timedelta(minutes=1))
    webhook_deliveries_send_due()
    after = scrape()
    assert (value(after, "portal_outbox_failed_total", channel="webhook")
            - value(before, "portal_outbox_failed_total", channel="webhook")) >= 1
    assert value(after, "portal_outbox_sent_total", channel="webhook") == value(
        before, "portal_outbox_sent_total", channel="webhook")


def test_sign_in_code_requests_count_each_sent_code_and_each_429(scrape, client, db):
    before = scrape()
    first = client.post("/api/v1/auth/phone/code/", {"phone": "13812345678"},
                        content_type="application/json")
    again = client.post("/api/v1/auth/phone/code/", {"phone": "13812345678"},
                        content_type="application/json")
    assert (first.status_code, again.status_code) == (204, 429) or (
        first.status_code in (200, 201, 202, 204) and again.status_code == 429)
    after = scrape()
    for outcome in ("sent", "rate_limited"):
        assert (value(after, "portal_signin_code_requests_total", outcome=outcome)
                - value(before, "portal_signin_code_requests_total", outcome=outcome)) == 1


def test_requests_and_database_queries_are_counted_by_django_prometheus(scrape, db, settings):
    before, after = settings.PROMETHEUS_MIDDLEWARE  # off in the tests' settings, on everywhere else
    settings.MIDDLEWARE = [before, *settings.MIDDLEWARE, after]
    UserFactory(username="someone")
    samples = scrape()
    names = {name for name, _labels in samples}
    assert "django_http_requests_total_by_method_total" in names
    assert "django_db_execute_total" in names


def test_wechat_messages_count_as_sent_or_given_up_and_their_depth_is_scraped(
        scrape, wechat_fake, resident_user):
    from accounts.wechat import (
        ResidentMessage,
        resident_message_enqueue,
        wechat_bind,
        wechat_outbox_deliver,
    )

    def message(key: str) -> None:
        resident_message_enqueue(user_id=resident_user.pk, dedupe_key=key, message=ResidentMessage(
            template="petition_status", data={
                "first": "您的诉求有新进展", "keyword1": "#1", "keyword2": "已受理",
                "keyword3": "11-16 09:00", "remark": "点击查看详情"},
            sms_body="【有事您说话】您的诉求有新进展。", link="https://portal.test/p/1/"))

    wechat_bind(user=resident_user, openid=wechat_fake.browser_openid)
    message("ev:1")
    before = scrape()
    assert value(before, "portal_outbox_depth", channel="wechat") == 1
    assert wechat_outbox_deliver() == 1
    sent = scrape()
    assert (value(sent, "portal_outbox_sent_total", channel="wechat")
            - value(before, "portal_outbox_sent_total", channel="wechat")) == 1
    assert value(sent, "portal_outbox_depth", channel="wechat") == 0

    wechat_fake.unfollowed.add(wechat_fake.browser_openid)  # 43004: falls back to SMS
    message("ev:2")
    assert wechat_outbox_deliver() == 0
    after = scrape()
    for name in ("portal_outbox_failed_total", "portal_outbox_given_up_total"):
        assert value(after, name, channel="wechat") - value(sent, name, channel="wechat") == 1


def test_each_statement_and_each_failed_one_is_counted_by_the_database_wrapper(scrape, db):
    """core.dbbackends: the statements, their durations and their errors by exception type."""
    from django.db import DatabaseError, connection

    labels = {"alias": "default", "vendor": connection.vendor}
    before = scrape()
    with connection.cursor() as cursor:
        for _ in range(3):
            cursor.execute("SELECT 1")
        with pytest.raises(DatabaseError), transaction.atomic():
            cursor.execute("SELECT * FROM no_such_table")
    after = scrape()
    executed = (value(after, "django_db_execute_total", **labels)
                - value(before, "django_db_execute_total", **labels))
    assert executed >= 4  # the three, the failed one (and the scrape's own)
    assert (value(after, "django_db_query_duration_seconds_count", **labels)
            - value(before, "django_db_query_duration_seconds_count", **labels)) >= 4

    def errors(samples):  # every exception type's count (the driver names it)
        return sum(count for (name, label_set), count in samples.items()
                   if name == "django_db_errors_total" and dict(label_set)["alias"] == "default")

    assert errors(after) - errors(before) == 1
