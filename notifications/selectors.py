"""Reads of the inbox."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from core.queries import count_plain
from notifications.models import Notification


def notification_list(*, user_id: int, limit: int = 100) -> QuerySet[Notification]:
    return Notification.objects.filter(user_id=user_id)[:limit]


def notification_unread_count(*, user_id: int) -> int:
    # Every page's header asks it: count_plain, count()'s SQL at half its CPU.
    return count_plain(Notification.objects.filter(user_id=user_id, read_at__isnull=True))


def notification_get_for_user(*, user_id: int, notification_id: int) -> Notification:
    """The user's own message; anybody else's is not found."""
    notification = Notification.objects.filter(user_id=user_id, pk=notification_id).first()
    if notification is None:
        raise Http404
    return notification
