"""考核排名: fair rankings of a street's grids and workers by one of the three rates.

Fair means three things here.

1. Every rate comes with its sample size n and a Wilson 95 % score interval, and units are
   ranked by the interval's lower bound: 3 resolved of 3 (100 %, low 0.4385) ranks below 8 of
   10 (80 %, low 0.4902), because three petitions prove less than ten.
2. A unit with fewer than `settings.RANKING_MIN_SAMPLE` petitions in the rate's denominator is
   not ranked at all but listed apart (样本不足).
3. Petitions with an approved 申诉剔除 (petitions/assessment.py: misrouted, duplicate, beyond
   the street's remit) are left out, and how many were left out (and how many requests wait)
   is shown beside the ranking.

The rates are petitions' own (petitions.selectors.rate_aggregates and rates_row), over the
same petitions as the monthly report (the street's, submitted in the period, 不予受理 left
out), so the ranking, the report and the stats page cannot disagree.

Which unit a petition counts for:

- **grid**: the grid of the place (`origin_path`'s first three steps: street → community →
  grid). A petition placed no lower than its community (待分派 at community level) has no grid
  and counts for none.
- **worker**, for 办结率 and 满意率: who resolved it (`resolved_by`), or while it is unresolved,
  who holds it now (`holder`): the person answerable for it being done, or not yet done. A
  rating judges the resolution, so it counts for the resolver too.
- **worker**, for 响应率: the holder. Each dispatch sets `dispatched_at` and restarts the
  arrival clock for the holder it names, and only the holder checks in (petition_check_in), so
  the row's arrival facts are the holder's. (An escalation moves the holder without a new
  dispatch; the row keeps no earlier holder, and reading the timeline for each petition would
  cost a query per petition, so an escalated petition's arrival counts for whoever holds it.)
  A petition whose 签收 timed out (`accept_overdue_at`) counts for no worker's 响应率: the delay
  is the dispatch's (petitions/acceptance.py).

Every function reads in a fixed number of queries whatever the number of petitions, grids or
workers (GROUP BY and conditional counts in the database): `grid_ranking` and
`worker_ranking` three each.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _lazy

from accounts.models import User
from core.types import AnyUser
from petitions.acceptance import worker_response_q
from petitions.assessment import approved_exclusion_exists, exclusion_counts
from petitions.models import Petition, PetitionCard, PetitionState
from petitions.selectors import rate_aggregates, rates_row
from reports import rules
from territory.models import Area

Z95 = 1.959963984540054  # the standard normal's 97.5th percentile: a two-sided 95 % interval
RateName = Literal["resolution", "response", "satisfaction"]
# Each rate: its label and the numerator among rate_aggregates' counts (the denominator is the
# sample rates_row names).
RATES: dict[str, tuple[Any, str]] = {
    "resolution": (_lazy("办结率"), "resolved"),
    "response": (_lazy("响应率"), "arrived_on_time"),
    "satisfaction": (_lazy("满意率"), "satisfied"),
}
DEFAULT_RATE: RateName = "resolution"
CARD_COUNTS = frozenset({"yellow_cards", "red_cards"})


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion: `successes` of `n` at confidence `z`.

    With p = successes / n:

        centre = (p + z² / 2n) / (1 + z² / n)
        half   = z / (1 + z² / n) · √( p(1 − p) / n + z² / 4n² )
        (low, high) = (centre − half, centre + half)

    Unlike p ± z·√(p(1−p)/n) it stays inside [0, 1] and does not shrink to a point at
    p = 0 or 1 (3 of 3 gives 0.4385–1, not 1–1). With n = 0 nothing is known: (0, 1).
    """
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= n:
        raise ValueError("successes must lie between 0 and n")
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


@dataclass(frozen=True)
class RankingRow:
    """One grid or worker: `key` is the grid's area path or the worker's user id; `path` the
    grid's path, or the worker's scope area path (who may see the row: reports.rules)."""

    key: str | int
    name: str
    path: str
    successes: int
    n: int
    rate: float | None  # successes / n, rounded as rates_row rounds it; None when n = 0
    low: float
    high: float
    rank: int | None = None  # 1 = best; None for a unit listed apart
    # 黄牌/红牌 (petitions/cards.py): how many of the unit's petitions got one this round.
    yellow_cards: int = 0
    red_cards: int = 0

    @property
    def percent(self) -> str:
        return _percent(self.rate)


@dataclass(frozen=True)
class Ranking:
    """A street's ranking of one kind of unit by one rate over [start, end).

    `rows` are ranked (by `low` desc, then n desc, then name); `apart` are the units with
    n < `min_sample` (样本不足), by name; `median` is the median rate of the ranked rows (None
    when none is ranked); `excluded` / `pending` count the street's petitions of the period
    with an approved / a pending 申诉剔除."""

    kind: Literal["grid", "worker"]
    rate: str
    street: Area
    start: date
    end: date  # exclusive
    min_sample: int
    rows: list[RankingRow] = field(default_factory=list)
    apart: list[RankingRow] = field(default_factory=list)
    median: float | None = None
    excluded: int = 0
    pending: int = 0

    @property
    def median_percent(self) -> str:
        return _percent(self.median)

    @property
    def rate_label(self) -> str:
        return str(RATES[self.rate][0])


def _moment(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def month_period(month: date | None = None) -> tuple[date, date]:
    """[start, end) of `month`'s first day's whole month; without one, this month so far
    (to the end of today)."""
    today = timezone.localdate()
    if month is None:
        return today.replace(day=1), today + timedelta(days=1)
    index = month.month  # the next month, 0-based from January
    return month.replace(day=1), date(month.year + index // 12, index % 12 + 1, 1)


def _period_petitions(street: Area, start: date, end: date) -> QuerySet[Petition]:
    """The street's petitions submitted in [start, end), 不予受理 left out (as the report)."""
    return (Petition.objects.filter(origin_path__startswith=street.path,
                                    submitted_at__gte=_moment(start),
                                    submitted_at__lt=_moment(end))
            .exclude(state__in=[PetitionState.REJECTED, PetitionState.MERGED]))


def _aggregates() -> dict[str, Any]:
    """rate_aggregates and the cards, counted in the same grouped query (the card columns are
    the petition's own, stamped by the card sweep)."""
    return {**rate_aggregates(),
            "yellow_cards": Count("id", filter=Q(yellow_card_at__isnull=False)),
            "red_cards": Count("id", filter=Q(red_card_at__isnull=False))}


def _row(key: str | int, name: str, path: str, counts: Mapping[str, Any],
         rate: str) -> RankingRow:
    figures = rates_row({"period": None, **{key: value for key, value in counts.items()
                                            if key not in CARD_COUNTS}})
    successes, n = counts[RATES[rate][1]], figures[f"{rate}_sample"]
    low, high = wilson_interval(successes, n)
    return RankingRow(key=key, name=name, path=path, successes=successes, n=n,
                      rate=figures[f"{rate}_rate"], low=low, high=high,
                      yellow_cards=counts.get("yellow_cards", 0),
                      red_cards=counts.get("red_cards", 0))


def _rank(rows: Iterable[RankingRow], min_sample: int) -> tuple[list[RankingRow],
                                                                 list[RankingRow]]:
    rows = list(rows)
    enough = sorted((row for row in rows if row.n >= min_sample),
                    key=lambda row: (-row.low, -row.n, row.name))
    ranked = [replace(row, rank=place)
              for place, row in enumerate(enough, start=1)]
    apart = sorted((row for row in rows if row.n < min_sample), key=lambda row: row.name)
    return ranked, apart


def _ranking(*, kind: Literal["grid", "worker"], street: Area, start: date, end: date,
             rate: str, rows: Iterable[RankingRow], petitions: QuerySet[Petition],
             min_sample: int | None) -> Ranking:
    threshold = settings.RANKING_MIN_SAMPLE if min_sample is None else min_sample
    ranked, apart = _rank(rows, threshold)
    rates = [row.rate for row in ranked if row.rate is not None]
    counts = exclusion_counts(petitions)
    return Ranking(kind=kind, rate=rate, street=street, start=start, end=end,
                   min_sample=threshold, rows=ranked, apart=apart,
                   median=statistics.median(rates) if rates else None,
                   excluded=counts["approved"], pending=counts["pending"])


def _check_rate(rate: str) -> None:
    if rate not in RATES:
        raise ValueError(f"unknown rate {rate!r}: one of {', '.join(RATES)}")


def grid_ranking(*, street: Area, start: date, end: date, rate: str = DEFAULT_RATE,
                 min_sample: int | None = None) -> Ranking:
    """The street's grids ranked by `rate` ("resolution" | "response" | "satisfaction") over
    petitions submitted in [start, end). Every grid of the street has a row; one without
    enough petitions (min_sample, default settings.RANKING_MIN_SAMPLE) is listed apart.
    Three queries: the grids, the counts per grid, the exclusion counts."""
    _check_rate(rate)
    petitions = _period_petitions(street, start, end)
    grids = list(Area.objects.filter(kind=Area.Kind.GRID, path__startswith=street.path)
                 .values_list("path", "name"))
    length = Area.steplen * (street.depth + 2)  # street → community → grid
    counts = {row["unit"]: row for row in
              petitions.filter(~approved_exclusion_exists())
              .annotate(unit=Substr("origin_path", 1, length)).values("unit")
              .annotate(**_aggregates()).order_by()}
    empty = dict.fromkeys(_aggregates(), 0)
    rows = [_row(path, name, path, counts.get(path, empty), rate) for path, name in grids]
    return _ranking(kind="grid", street=street, start=start, end=end, rate=rate, rows=rows,
                    petitions=petitions, min_sample=min_sample)


def worker_ranking(*, street: Area, start: date, end: date, rate: str = DEFAULT_RATE,
                   min_sample: int | None = None) -> Ranking:
    """The workers the street's petitions of [start, end) count for (the module's docstring
    says which), ranked by `rate`; those under min_sample listed apart. Three queries: the
    counts per worker, the workers' names and scopes, the exclusion counts."""
    _check_rate(rate)
    petitions = _period_petitions(street, start, end)
    worker = F("holder") if rate == "response" else Coalesce("resolved_by", "holder")
    # 签收超时: a petition its worker never had in hand in time is the dispatch's delay, not
    # the worker's arrival (petitions/acceptance.py); the street's own rates still count it.
    counted = petitions.filter(worker_response_q()) if rate == "response" else petitions
    counts = {row["unit"]: row for row in
              counted.filter(~approved_exclusion_exists()).annotate(unit=worker)
              .filter(unit__isnull=False).values("unit")
              .annotate(**_aggregates()).order_by()}
    people = User.objects.filter(pk__in=list(counts)).values_list(
        "pk", "display_name", "username", "scope_area__path")
    rows = [_row(pk, display_name or username, scope or "", counts[pk], rate)
            for pk, display_name, username, scope in people]
    return _ranking(kind="worker", street=street, start=start, end=end, rate=rate, rows=rows,
                    petitions=petitions, min_sample=min_sample)


def ranking_for_user(ranking: Ranking, *, user: AnyUser) -> Ranking:
    """`ranking` as `user` may read it (reports.rules): the rows they may see, ranks and the
    street's median and exclusion counts unchanged (a grid worker sees where their grid stands
    in the street, not the other grids)."""
    if rules.sees_whole_street(user):
        return ranking
    if ranking.kind == "grid":
        prefix = rules.ranking_grid_prefix(user)

        def visible(row: RankingRow) -> bool:
            return prefix is not None and row.path.startswith(prefix)
    else:
        def visible(row: RankingRow) -> bool:
            return isinstance(row.key, int) and rules.sees_worker_row(user, row.key, row.path)
    return replace(ranking, rows=[row for row in ranking.rows if visible(row)],
                   apart=[row for row in ranking.apart if visible(row)])


def ranking_streets(*, user: AnyUser) -> QuerySet[Area]:
    """The streets whose rankings `user` may open, by path."""
    return Area.objects.filter(rules.ranking_streets_q(user), kind=Area.Kind.STREET,
                               depth=1).order_by("path")


def card_counts(petitions: QuerySet[Petition]) -> dict[int, dict[str, int]]:
    """{holder id: {yellow, red}}: the cards issued on `petitions`, counted for whoever held the
    petition when the card was issued (PetitionCard.holder). One query."""
    counts: dict[int, dict[str, int]] = {}
    for row in (PetitionCard.objects.filter(petition__in=petitions, holder__isnull=False)
                .values("holder_id").annotate(
                    yellow=Count("id", filter=Q(color=PetitionCard.Color.YELLOW)),
                    red=Count("id", filter=Q(color=PetitionCard.Color.RED))).order_by()):
        counts[row["holder_id"]] = {"yellow": row["yellow"], "red": row["red"]}
    return counts
