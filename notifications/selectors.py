"""Reads of the inbox."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet
from django.http import Http404

from core.queries import CountAtLeast
from notifications.models import Notification


def notification_list(*, user_id: int, limit: int = 100) -> QuerySet[Notification]:
    return Notification.objects.filter(user_id=user_id)[:limit]


# The header's badge counts this far, then says "99+".
UNREAD_CAP = 99


def notification_unread_count(*, user_id: int) -> int:
    """The user's unread messages up to UNREAD_CAP (past it a CountAtLeast: "99+"). Every page's
    header asks it, so it is one statement written out (the ORM's count() cost 0.3 ms of CPU)
    that reads at most UNREAD_CAP + 1 rows of the (user, read_at) index, however full the
    inbox."""
    table = connection.ops.quote_name(Notification._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE user_id = %s"  # noqa: S608
                       " AND read_at IS NULL LIMIT %s) unread", [user_id, UNREAD_CAP + 1])
        (counted,) = cursor.fetchone()
    return CountAtLeast(counted) if counted > UNREAD_CAP else int(counted)


def notification_get_for_user(*, user_id: int, notification_id: int) -> Notification:
    """The user's own message; anybody else's is not found."""
    notification = Notification.objects.filter(user_id=user_id, pk=notification_id).first()
    if notification is None:
        raise Http404
    return notification
