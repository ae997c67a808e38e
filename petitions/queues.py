"""The two clocks of a petition as SQL conditions, for the queues and the filters.

A petition runs two clocks at once: the arrival clock (someone on site within 7 minutes of
dispatch, `arrival_due_at`, until `arrived_at` is stamped) and the resolution clock of its tier
(`due_at`). A queue that watched only `due_at` listed a petition with four minutes left to
arrive after one due next week, and called nothing late that nobody had reached. These
conditions look at both, with the one boundary of petitions/policy.py (a deadline is missed
once now is past it: `late_q`), so the 已超时 tab holds exactly what the sweep acts on.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Case, DateTimeField, F, Q, When

from petitions.models import OPEN_STATES
from petitions.policy import late_q as deadline_late_q
from petitions.policy import on_time_q

# 即将超时: a deadline of either clock falls within this span (an awaiting arrival always does).
DUE_SOON_WITHIN = timedelta(hours=4)
_OPEN = sorted(OPEN_STATES)


def awaiting_arrival_q() -> Q:
    """Open, its arrival clock running, nobody on site yet (views.Clock.is_awaiting_arrival)."""
    return Q(state__in=_OPEN, arrived_at__isnull=True, arrival_due_at__isnull=False)


def late_q(now: datetime) -> Q:
    """Open and past a deadline: its resolution deadline, or its arrival deadline with nobody
    on site."""
    return (Q(state__in=_OPEN) & deadline_late_q("due_at", now)
            | (awaiting_arrival_q() & deadline_late_q("arrival_due_at", now)))


def due_soon_q(now: datetime, *, within: timedelta = DUE_SOON_WITHIN) -> Q:
    """Open, late on neither clock, and a deadline of either within `within`."""
    horizon = now + within
    not_late = on_time_q("due_at", now) & ~(awaiting_arrival_q()
                                            & deadline_late_q("arrival_due_at", now))
    soon = Q(due_at__lte=horizon) | (awaiting_arrival_q() & Q(arrival_due_at__lte=horizon))
    return Q(state__in=_OPEN) & not_late & soon


def next_deadline() -> Case:
    """The nearer of the two deadlines: the arrival one while it runs, else the resolution one.

    A CASE rather than LEAST: LEAST returns NULL on SQLite when an argument is NULL (a petition
    with no arrival clock), where PostgreSQL would skip it.
    """
    return Case(
        When(awaiting_arrival_q() & Q(arrival_due_at__lt=F("due_at")),
             then=F("arrival_due_at")),
        default=F("due_at"), output_field=DateTimeField())
