"""Thin tasks: each calls one service; safe to run twice or concurrently."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from reports.services import reports_generate_due


@shared_task(name="reports.generate_due", acks_late=True, ignore_result=True)
def reports_generate_due_task() -> int:
    return reports_generate_due(today=timezone.localdate())
