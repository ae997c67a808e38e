"""Thin beat tasks: each calls one idempotent, set-based service."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from volunteers import services


@shared_task(name="volunteers.shift_reminders")
def shift_reminders_task() -> int:
    return services.shifts_send_reminders(now=timezone.now())


@shared_task(name="volunteers.wish_claims_expire")
def wish_claims_expire_task() -> int:
    return services.micro_wishes_expire_claims(now=timezone.now())


@shared_task(name="volunteers.care_visits_overdue")
def care_visits_overdue_task() -> dict[str, int]:
    return services.care_visits_flag_overdue(now=timezone.now())
