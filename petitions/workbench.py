"""The staff workbench: every petition that waits for someone, in a queue of someone who can act.

Seven tabs over the petitions a user sees (petitions.rules), each shown to the roles that can
act on it, and an eighth, 全部, that lists them in every state (where the map's and the reports'
figures click through to):
- 待分派: accepted (or reopened), nobody holds it (placement failed, or no worker in the area):
  dispatchers;
- 我的待办: open petitions I hold;
- 待核查: resolved, in my scope, not resolved by me (a check of one's own work is no check):
  handler staff, who are also told when one arrives (petition_verifier_ids);
- 已退回: handed back by the holder (退单), waiting to be rerouted: dispatchers;
- 即将超时 / 已超时: either clock (petitions.queues);
- 督办: flagged for supervision and still open;
- 全部: every state, finished ones too; counted only while it is the open tab, and then only up
  to ALL_COUNT_CAP rows (shown "1,000+"): the finished majority is millions of rows in a few
  years, and no page may count them all.
The same PetitionFilter as the API narrows every tab; the counts of the seven tabs come from one
aggregate over the waiting rows (indexed by state), and each list is ordered by the nearer
deadline of the two clocks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, overload

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.queries import CountAtLeast, values_by_ids
from core.scope import EVERYTHING
from petitions import rules, selectors
from petitions.filters import PetitionFilter
from petitions.models import OPEN_STATES, Petition, PetitionState
from petitions.policy import STEP
from petitions.queues import DUE_SOON_WITHIN, due_soon_q, late_q, next_deadline

ALL_STAFF = frozenset(User.STAFF_ROLES)
# How many people hear that a resolution waits for its check (the nearest level first).
MAX_VERIFIERS = 10
COMMUNITY_DEPTH = 2
# 全部 counts at most this many rows (then shows "1,000+"); its pages reach the newest ones, and
# the filters (dates, state, building…) narrow it to the rest.
ALL_COUNT_CAP = 1000


@dataclass(frozen=True)
class Tab:
    key: str
    label: str | Promise
    roles: frozenset[str]


TABS: tuple[Tab, ...] = (
    Tab("dispatch", _("待分派"), frozenset(rules.DISPATCHER_ROLES)),
    Tab("mine", _("我的待办"), ALL_STAFF),
    Tab("verify", _("待核查"), frozenset(rules.HANDLER_ROLES)),
    Tab("returned", _("已退回"), frozenset(rules.DISPATCHER_ROLES)),
    Tab("due_soon", _("即将超时"), ALL_STAFF),
    Tab("overdue", _("已超时"), ALL_STAFF),
    Tab("supervised", _("督办"), ALL_STAFF),
    Tab("all", _("全部"), ALL_STAFF),
)
ALL_TAB = "all"
DEFAULT_TAB = "mine"
DISPATCHABLE_STATES = (PetitionState.SUBMITTED, PetitionState.REOPENED)
# What any tab may hold: a running clock, or a resolution waiting for its check.
WAITING_STATES = frozenset({*OPEN_STATES, PetitionState.RESOLVED})


@dataclass(frozen=True)
class TabCount:
    key: str
    label: str | Promise
    count: int | None  # None when the filters could not be applied


@dataclass(frozen=True)
class Workbench:
    tab: str
    tabs: list[TabCount]
    count: int
    rows: WorkbenchRows  # the tab's rows, the nearest deadline first, read a page at a time
    user: User
    now: datetime
    filtered: QuerySet[Petition] | None  # the user's petitions narrowed by the filters, if any

    @cached_property
    def visible(self) -> QuerySet[Petition]:
        """The user's petitions, narrowed by the filters (built only when asked, without them:
        the page itself reads the compiled statement)."""
        if self.filtered is not None:
            return self.filtered
        return selectors.petition_list(user=self.user, filters=None)

    @cached_property
    def petitions(self) -> QuerySet[Petition]:
        """The tab's rows as a queryset, in the same order (the exports)."""
        rows = self.visible
        if self.tab != ALL_TAB:
            rows = rows.filter(state__in=sorted(WAITING_STATES))
        rows = rows.filter(tab_q(key=self.tab, user=self.user, now=self.now))
        return (rows.order_by("-submitted_at", "-id") if self.tab == ALL_TAB else
                rows.annotate(next_deadline=next_deadline()).order_by("next_deadline", "id"))


def workbench_tabs(*, user: User) -> list[Tab]:
    return [tab for tab in TABS if user.is_superuser or user.role in tab.roles]


def workbench_tab(*, user: User, tab: str) -> str:
    """The tab asked for if the user has it, else the default (a stale or foreign link)."""
    keys = [item.key for item in workbench_tabs(user=user)]
    return tab if tab in keys else DEFAULT_TAB


def tab_q(*, key: str, user: User, now: datetime) -> Q:
    """The condition of one tab, inside the petitions the user sees."""
    open_states = sorted(OPEN_STATES)
    conditions = {
        # A reopen goes back to its holder; with none left (an account removed) it waits here.
        "dispatch": lambda: Q(state__in=DISPATCHABLE_STATES, holder__isnull=True),
        "mine": lambda: Q(holder_id=user.pk, state__in=open_states),
        "verify": lambda: (Q(state=PetitionState.RESOLVED) & rules.covers_q(user)
                           & ~Q(resolved_by_id=user.pk)),
        "returned": lambda: Q(state=PetitionState.RETURNED),
        "due_soon": lambda: due_soon_q(now),
        "overdue": lambda: late_q(now),
        "supervised": lambda: Q(supervised=True, state__in=open_states),
        ALL_TAB: lambda: Q(),
    }
    return conditions[key]()


# The columns the tab conditions read: the counts select them from the visible rows.
_COUNT_COLUMNS = ("id", "state", "holder_id", "resolved_by_id", "area_path", "origin_path",
                  "supervised", "due_at", "arrival_due_at", "arrived_at")


# What _in writes into a statement as it is: the states are the code's own constants.
_SQL_WORD = re.compile(r"[a-z_]+")


def _in(column: str, values: Iterable[str]) -> tuple[str, list[Any]]:
    """`column IN ('a', 'b')` with the states written in, not passed as parameters: psycopg
    re-parses a statement of over 50 parameters on every call (the counts had 57: 2 % of the
    page's CPU), and each parameter is quoted in Python."""
    items = sorted(values)
    if not all(_SQL_WORD.fullmatch(item) for item in items):
        raise ValueError(f"workbench._in: not a state: {items!r}")
    quoted = ", ".join(f"'{item}'" for item in items)
    return f"{column} IN ({quoted})", []


def _tab_sql(key: str, *, user: User, now: datetime, db: str) -> tuple[str, list[Any]]:
    """tab_q(key) as SQL over the columns of _COUNT_COLUMNS, with its parameters: the same
    conditions written out, NULLs as the ORM treats them (a missing deadline is never late,
    never due). tests/petitions/test_workbench.py compares every tab's count with
    .filter(tab_q(…)).count() on SQLite and PostgreSQL."""
    connection = connections[db]
    ops = connection.ops
    at = ops.adapt_datetimefield_value
    open_in, open_params = _in("state", OPEN_STATES)
    awaiting = f"({open_in} AND arrived_at IS NULL AND arrival_due_at IS NOT NULL)"
    if key == "dispatch":
        sql, params = _in("state", DISPATCHABLE_STATES)
        return f"({sql} AND holder_id IS NULL)", params
    if key == "mine":
        return f"(holder_id = %s AND {open_in})", [user.pk, *open_params]
    if key == "verify":
        prefix = rules.visibility_prefix(user) if rules.is_staff(user) else None
        if prefix is None:
            return "(1 = 0)", []
        covers: tuple[str, list[Any]] = ("1 = 1", [])
        if prefix != EVERYTHING:
            like = connection.operators["startswith"]  # type: ignore[attr-defined]  # every backend has it; the stubs omit it
            pattern = f"{ops.prep_for_like_query(prefix)}%"
            covers = (f"(area_path {like} OR origin_path {like})", [pattern, pattern])
        not_mine = "(resolved_by_id IS NULL OR resolved_by_id <> %s)"
        return (f"(state = %s AND {covers[0]} AND {not_mine})",
                [PetitionState.RESOLVED, *covers[1], user.pk])
    if key == "returned":
        return "(state = %s)", [PetitionState.RETURNED]
    if key == "overdue":
        return (f"(({open_in} AND due_at < %s) OR ({awaiting} AND arrival_due_at < %s))",
                [*open_params, at(now), *open_params, at(now)])
    if key == "due_soon":
        horizon = at(now + DUE_SOON_WITHIN)
        return (f"({open_in} AND due_at >= %s AND NOT ({awaiting} AND arrival_due_at < %s)"
                f" AND (due_at <= %s OR ({awaiting} AND arrival_due_at <= %s)))",
                [*open_params, at(now), *open_params, at(now), horizon, *open_params, horizon])
    if key == "supervised":
        return f"(supervised = %s AND {open_in})", [True, *open_params]
    raise KeyError(key)


# The columns the tab conditions and the orders read, selected from the visible rows.
_VISIBLE_COLUMNS = (*_COUNT_COLUMNS, "submitted_at")


def _visible_sql(petitions: QuerySet[Petition]) -> tuple[str, list[Any]] | None:
    """The visible rows (scope and filters) as SQL, compiled by the ORM once a page; None when
    they can match nothing (a filter on an empty list)."""
    try:
        sql, params = (petitions.order_by().values(*_VISIBLE_COLUMNS).query
                       .get_compiler(petitions.db).as_sql())
    except EmptyResultSet:
        return None
    return sql, list(params)


# The statement of petition_list(user) without filters, by database and rules.visibility_key:
# the default page and every tab without filters compile it once, not on every request (building
# the queryset and compiling it cost a tenth of the page). Bounded: cleared past MAX_STATEMENTS.
_unfiltered: dict[tuple[str, tuple[object, ...] | None], tuple[str, list[Any]] | None] = {}
MAX_STATEMENTS = 4096


def _unfiltered_visible_sql(user: User, db: str) -> tuple[str, list[Any]] | None:
    key = (db, rules.visibility_key(user))
    if key not in _unfiltered:
        if len(_unfiltered) >= MAX_STATEMENTS:
            _unfiltered.clear()
        _unfiltered[key] = _visible_sql(
            selectors.petition_list(user=user, filters=None).using(db))
    statement = _unfiltered[key]
    return None if statement is None else (statement[0], list(statement[1]))


def _filters_given(filters: Mapping[str, Any] | None) -> bool:
    """Whether FILTERS hold any of PetitionFilter's (the tab and the page are not filters)."""
    return filters is not None and any(name in PetitionFilter.base_filters for name in filters)


def _waiting_sql() -> tuple[str, list[Any]]:
    return _in("state", WAITING_STATES)


def _fetch(db: str, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connections[db].cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def tab_counts(petitions: QuerySet[Petition], *, user: User, now: datetime,
               keys: list[str]) -> dict[str, int]:
    """The waiting rows of PETITIONS in each tab of KEYS, in one query:
    `SELECT COUNT(CASE WHEN <tab> THEN 1 END), … FROM (<the visible rows>) w WHERE <waiting>`.

    The ORM compiles only the visible rows (scope and filters); the seven tab conditions are
    written out (_tab_sql): building and compiling them as filtered Counts cost 1.2 ms of CPU a
    page, the SQL itself 0.16 ms. Both databases' planners flatten the derived table (the plan
    of the WHERE written inline: at 1,000,000 rows an Index Scan on state)."""
    return _counts(_visible_sql(petitions), db=petitions.db, user=user, now=now, keys=keys)


def _counts(visible: tuple[str, list[Any]] | None, *, db: str, user: User, now: datetime,
            keys: list[str]) -> dict[str, int]:
    if visible is None:
        return dict.fromkeys(keys, 0)
    columns, params = [], []
    for key in keys:
        sql, values = _tab_sql(key, user=user, now=now, db=db)
        columns.append(f"COUNT(CASE WHEN {sql} THEN 1 END)")
        params += values
    waiting, waiting_params = _waiting_sql()
    [row] = _fetch(db, f"SELECT {', '.join(columns)} FROM ({visible[0]}) w"  # noqa: S608
                   f" WHERE {waiting}", [*params, *visible[1], *waiting_params])
    return {key: int(value) for key, value in zip(keys, row, strict=True)}


def _count_up_to(visible: tuple[str, list[Any]] | None, *, db: str, cap: int) -> int:
    """The visible rows, counted no further than CAP: a COUNT over a LIMIT cap + 1, which stops
    reading once it has them (a CountAtLeast past the cap)."""
    if visible is None:
        return 0
    [(counted,)] = _fetch(db, f"SELECT COUNT(*) FROM (SELECT 1 FROM ({visible[0]}) w"  # noqa: S608
                          " LIMIT %s) c", [*visible[1], cap + 1])
    return CountAtLeast(counted) if counted > cap else int(counted)


class WorkbenchRows(Sequence[dict[str, Any]]):
    """A tab's rows for the pager: `total` rows, of which a slice reads one page in two
    queries — the page's ids, ordered, from the visible rows and the tab's condition written
    out (no join), then FIELDS of those ids (the joins for 50 rows, not for the whole tab: at
    1,000,000 petitions joining grid1's 2,001 open rows before the sort took 25 ms)."""

    def __init__(self, *, visible: tuple[str, list[Any]] | None, db: str, tab: str, user: User,
                 now: datetime, count: int, fields: Sequence[str]) -> None:
        self.visible, self.db, self.tab, self.user, self.now = visible, db, tab, user, now
        self.total, self.fields = count, tuple(fields)

    def __len__(self) -> int:
        return self.total

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, int):
            return self[index:index + 1][0]
        start, stop, step = index.indices(self.total)
        if step != 1:
            raise ValueError("WorkbenchRows: a page is a contiguous slice")
        return values_by_ids(Petition, self.fields,
                             self._ids(offset=start, limit=max(stop - start, 0)), using=self.db)

    def _ids(self, *, offset: int, limit: int) -> list[int]:
        if self.visible is None or not limit:
            return []
        sql, params = self.visible
        if self.tab == ALL_TAB:
            where, order = "1 = 1", "submitted_at DESC, id DESC"
            where_params: list[Any] = []
        else:
            waiting, waiting_params = _waiting_sql()
            condition, condition_params = _tab_sql(self.tab, user=self.user, now=self.now,
                                                   db=self.db)
            where, where_params = f"{waiting} AND {condition}", [*waiting_params,
                                                                 *condition_params]
            order, order_params = _next_deadline_sql()
            where_params += order_params
            order += ", id"
        return [pk for (pk,) in _fetch(
            self.db, f"SELECT id FROM ({sql}) w WHERE {where} ORDER BY {order}"  # noqa: S608
            " LIMIT %s OFFSET %s", [*params, *where_params, limit, offset])]


def _next_deadline_sql() -> tuple[str, list[Any]]:
    """queues.next_deadline() written out: the arrival deadline while someone is awaited on
    site and it comes first, else the resolution deadline."""
    open_in, open_params = _in("state", OPEN_STATES)
    return (f"CASE WHEN {open_in} AND arrived_at IS NULL AND arrival_due_at IS NOT NULL"
            " AND arrival_due_at < due_at THEN arrival_due_at ELSE due_at END", open_params)


def petition_workbench(*, user: User, tab: str, filters: Mapping[str, Any] | None,
                       now: datetime, all_count_cap: int | None = None,
                       fields: Sequence[str] = ("id",)) -> Workbench:
    """One tab's rows and every tab's count, all narrowed by the same filters.

    Bad filters raise ValidationError; a whole-phone search refused or over budget raises
    ApplicationError (selectors.petition_list). One query for the counts (the seven tabs hold
    open or resolved petitions only: the finished majority is left out before the counts scan
    the rest, the state column being indexed); on 全部 a second, its count up to
    ALL_COUNT_CAP (a CountAtLeast past it; the export asks for a cap of its own limit). The
    rows (FIELDS of each) are read a page at a time by the pager: Workbench.rows; the whole
    tab as a queryset, for the exports: Workbench.petitions.
    """
    tabs = workbench_tabs(user=user)
    tab = workbench_tab(user=user, tab=tab)
    filtered = None
    if _filters_given(filters):
        filtered = selectors.petition_list(user=user, filters=filters)
        db = filtered.db
        visible = _visible_sql(filtered)
    else:
        db = router.db_for_read(Petition)
        visible = _unfiltered_visible_sql(user, db)
    counts = _counts(visible, db=db, user=user, now=now,
                     keys=[item.key for item in tabs if item.key != ALL_TAB])
    if tab == ALL_TAB:
        cap = ALL_COUNT_CAP if all_count_cap is None else all_count_cap
        counts[ALL_TAB] = _count_up_to(visible, db=db, cap=cap)
    return Workbench(tab=tab, count=counts[tab], filtered=filtered, user=user, now=now,
                     rows=WorkbenchRows(visible=visible, db=db, tab=tab, user=user,
                                        now=now, count=counts[tab], fields=fields),
                     tabs=[TabCount(item.key, item.label, counts.get(item.key))
                           for item in tabs])


def workbench_tab_labels(*, user: User) -> list[TabCount]:
    """The tabs without counts: what the page shows when the filters could not be applied."""
    return [TabCount(item.key, item.label, None) for item in workbench_tabs(user=user)]


def petition_verifier_ids(*, petition: Petition, resolver_id: int | None) -> tuple[int, ...]:
    """Who is told that a resolution waits for 核查: the handler staff of the petition's
    community and grid (rules.is_handler_staff), else the street admins; never the resolver,
    who may not check their own work."""
    origin = petition.origin_path
    local_paths = [origin[:STEP * depth]
                   for depth in range(COMMUNITY_DEPTH, len(origin) // STEP + 1)]
    staff = User.objects.filter(is_active=True, role__in=sorted(rules.HANDLER_ROLES))
    if resolver_id is not None:
        staff = staff.exclude(pk=resolver_id)
    local = tuple(staff.filter(scope_area__path__in=local_paths).order_by("id")
                  .values_list("id", flat=True)[:MAX_VERIFIERS])
    if local:
        return local
    street = staff.filter(role=User.Role.STREET_ADMIN).filter(
        Q(scope_area__path=origin[:STEP]) | Q(scope_area__isnull=True))
    return tuple(street.order_by("id").values_list("id", flat=True)[:MAX_VERIFIERS])
