"""Thin, idempotent beat tasks; each calls one set-based service."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from deliberation.services.lists import list_reviews_remind
from deliberation.services.participation import sessions_notify_upcoming, topics_review_remind
from deliberation.services.sessions import sessions_schedule_monthly
from deliberation.services.surveys import surveys_generate_quarterly
from deliberation.services.topics import action_items_remind


@shared_task(name="deliberation.sessions_schedule_monthly")
def sessions_schedule_monthly_task() -> int:
    return sessions_schedule_monthly(today=timezone.localdate())


@shared_task(name="deliberation.action_items_remind")
def action_items_remind_task() -> int:
    return action_items_remind(now=timezone.now())


@shared_task(name="deliberation.surveys_generate_quarterly")
def surveys_generate_quarterly_task() -> int:
    return surveys_generate_quarterly(today=timezone.localdate())


@shared_task(name="deliberation.list_reviews_remind")
def list_reviews_remind_task() -> int:
    return list_reviews_remind(today=timezone.localdate())


@shared_task(name="deliberation.sessions_notify_upcoming")
def sessions_notify_upcoming_task() -> int:
    return sessions_notify_upcoming(now=timezone.now())


@shared_task(name="deliberation.topics_review_remind")
def topics_review_remind_task() -> int:
    return topics_review_remind(today=timezone.localdate())
