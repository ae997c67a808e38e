"""Notifications' part of personal-data handling (run by the privacy app): the retention of
what this app and the sign-in machinery keep. (A person's inbox is exported by privacy itself:
this layer sits below accounts and cannot name the User.)"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from axes.models import AccessFailureLog, AccessLog
from django.contrib.sessions.models import Session

from core.retention import RetentionStep, rows_older_than
from notifications.models import Notification, OutboundMessage


def sign_in_logs_purge(now: datetime, periods: Mapping[str, timedelta]) -> int:
    """django-axes' staff sign-in logs, failures included."""
    cut_off = now - periods["sign_in_log"]
    # axes has no type stubs: name the counts' type.
    logs: int = AccessLog.objects.filter(attempt_time__lt=cut_off).delete()[0]
    failures: int = AccessFailureLog.objects.filter(attempt_time__lt=cut_off).delete()[0]
    return logs + failures


def sessions_purge(now: datetime, periods: Mapping[str, timedelta]) -> int:
    """Expired sessions (each has its own expiry: no period)."""
    return Session.objects.filter(expire_date__lt=now).delete()[0]


RETENTION_STEPS: dict[str, RetentionStep] = {
    "outbox": rows_older_than(OutboundMessage, "created_at", "outbox"),
    "notifications": rows_older_than(Notification, "created_at", "notification"),
    "sign_in_logs": sign_in_logs_purge,
    "sessions": sessions_purge,
}
