"""Thin beat tasks: each calls one idempotent, set-based service."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from volunteers.services import care, rosters, wishes


@shared_task(name="volunteers.shift_reminders")
def shift_reminders_task() -> int:
    return rosters.shifts_send_reminders(now=timezone.now())


@shared_task(name="volunteers.wish_claims_expire")
def wish_claims_expire_task() -> int:
    return wishes.micro_wishes_expire_claims(now=timezone.now())


@shared_task(name="volunteers.care_visits_overdue")
def care_visits_overdue_task() -> dict[str, int]:
    return care.care_visits_flag_overdue(now=timezone.now())
