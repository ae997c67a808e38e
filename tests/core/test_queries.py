"""core.queries: aggregate() and count() at half the CPU, with the same SQL and figures."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, Max, Q, QuerySet
from django.test.utils import CaptureQueriesContext

from core.queries import aggregate_plain, count_plain
from notifications.models import Notification
from notifications.services import notifications_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def inbox(resident_user, grid_worker) -> dict[str, Any]:
    """Three messages for the resident (one read), one for the worker."""
    for title in ("您的诉求已受理", "您的诉求已办结", "请评价"):
        notifications_create(user_ids=[resident_user.pk], title=title)
    notifications_create(user_ids=[grid_worker.pk], title="新派单：井盖松动")
    Notification.objects.filter(title="请评价").update(read_at="2026-11-16T09:00:00+08:00")
    return {"resident": resident_user.pk, "worker": grid_worker.pk}


def _both(run_plain: Any, run_django: Any) -> tuple[Any, Any, list[str], list[str]]:
    with CaptureQueriesContext(connection) as plain_sql:
        plain = run_plain()
    with CaptureQueriesContext(connection) as django_sql:
        expected = run_django()
    return (plain, expected, [query["sql"] for query in plain_sql.captured_queries],
            [query["sql"] for query in django_sql.captured_queries])


def querysets(inbox: dict[str, Any]) -> list[QuerySet[Notification]]:
    mine = Notification.objects.filter(user_id=inbox["resident"])
    return [
        Notification.objects.all(),
        mine,
        mine.filter(read_at__isnull=True).order_by("-id").select_related("user"),
        Notification.objects.filter(pk__in=[]),  # matches nothing: no query at all
        mine.distinct(),  # these three need aggregate()'s subquery: they go through it
        mine.order_by("id")[:2],
        mine.annotate(n=Count("id")),
    ]


def test_the_figures_and_the_sql_are_aggregates_own(inbox):
    aggregates = {
        "unread": Count("id", filter=Q(read_at__isnull=True)),
        "read": Count("id", filter=Q(read_at__isnull=False)),
        "latest": Max("id"),
    }
    figures = []
    for queryset in querysets(inbox):
        plain, expected, plain_sql, django_sql = _both(
            lambda queryset=queryset: aggregate_plain(queryset, **aggregates),
            lambda queryset=queryset: queryset.aggregate(**aggregates))
        assert plain == expected, queryset.query
        assert plain_sql == django_sql
        figures.append((plain["unread"], plain["read"]))
    # By hand: 4 messages, 1 read; the resident's 3; unread, newest first; none; the same 3
    # distinct; the first 2 (both unread); per message (one row each).
    assert figures == [(3, 1), (2, 1), (2, 0), (0, 0), (2, 1), (2, 0), (2, 1)]
    # A filter that can match nothing, as covers_q gives a user with no scope: 0, as aggregate().
    nothing = {"none": Count("id", filter=Q(pk__in=[])), "unread": aggregates["unread"]}
    assert aggregate_plain(Notification.objects.all(), **nothing) == {"none": 0, "unread": 3}
    assert aggregate_plain(Notification.objects.none(), latest=Max("id")) == {"latest": None}


def test_the_count_and_its_sql_are_counts_own(inbox):
    counts = []
    for queryset in querysets(inbox):
        plain, expected, plain_sql, django_sql = _both(
            lambda queryset=queryset: count_plain(queryset), queryset.count)
        assert plain == expected
        assert plain_sql == django_sql
        counts.append(plain)
    assert counts == [4, 3, 2, 0, 3, 2, 3]
    fetched = Notification.objects.filter(user_id=inbox["worker"])
    list(fetched)
    with CaptureQueriesContext(connection) as queries:
        assert count_plain(fetched) == 1  # rows already read: counted without a query
    assert not queries.captured_queries
