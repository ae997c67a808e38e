"""The report's figures: a fixed handful of aggregate queries over one street and period,
whatever the number of petitions (GROUP BY and conditional counts in the database, never a
loop over rows). The rates are petitions' own definitions (petitions.selectors.rate_aggregates),
so the report and the stats page cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Substr
from django.utils import timezone

from core.media import MediaGrant
from core.types import AnyUser
from deliberation.models import Topic
from petitions.models import OPEN_STATES, Petition, PetitionState
from petitions.selectors import rate_aggregates, rates_row
from reports import rules
from reports.models import MonthlyReport
from territory.models import Area
from volunteers.models import HoursEntry

# The report lists petitions by number, category, place down to the building, tier, state and
# deadlines: never a name, a phone or the resident's own words.
LIST_COLUMNS = ("id", "category__name", "building__compound__name", "building__number",
                "area__name", "tier", "state", "submitted_at", "due_at", "supervised_at")
TOP_PAIRS = 10
RECURRING = 2  # a building × category pair counts as recurring from this many petitions


@dataclass(frozen=True)
class ReportFigures:
    street: Area
    start: date
    end: date  # exclusive
    by_channel: list[tuple[str, int]]
    by_category: list[tuple[str, int]]
    by_community: list[tuple[str, int]]
    counts: dict[str, int]  # rate_aggregates' numerators and denominators
    rates: dict[str, Any]  # rates_row of the counts
    overdue: list[dict[str, Any]]
    supervised: list[dict[str, Any]]
    top_pairs: list[dict[str, Any]]
    topics_closed: int
    volunteer_hours: Decimal


def period_end(start: date, kind: str) -> date:
    """The first day after a month's or a quarter's period."""
    months = 3 if kind == MonthlyReport.Kind.QUARTER else 1
    index = start.month - 1 + months
    return date(start.year + index // 12, index % 12 + 1, 1)


def _moment(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def _street_petitions(street: Area) -> QuerySet[Petition]:
    return Petition.objects.filter(origin_path__startswith=street.path).exclude(
        state=PetitionState.REJECTED)


def report_figures(*, street: Area, start: date, kind: str) -> ReportFigures:
    """Everything the workbook shows for `street` from `start` over a month or a quarter."""
    end = period_end(start, kind)
    since, until = _moment(start), _moment(end)
    street_petitions = _street_petitions(street)
    received = street_petitions.filter(submitted_at__gte=since, submitted_at__lt=until)
    channel_labels = dict(Petition.Channel.choices)
    by_channel = [(str(channel_labels.get(row["channel"], row["channel"])), row["n"])
                  for row in received.values("channel").annotate(n=Count("id"))
                  .order_by("-n", "channel")]
    by_category = [(row["category__name"], row["n"])
                   for row in received.values("category__name").annotate(n=Count("id"))
                   .order_by("-n", "category__name")]
    counts = received.aggregate(**rate_aggregates())
    return ReportFigures(
        street=street, start=start, end=end, by_channel=by_channel, by_category=by_category,
        by_community=_by_community(street, received),
        counts=counts, rates=rates_row({"period": start, **counts}),
        overdue=_overdue(street_petitions, until), supervised=list(
            street_petitions.filter(supervised=True, supervised_at__gte=since,
                                    supervised_at__lt=until)
            .values(*LIST_COLUMNS).order_by("supervised_at", "id")),
        top_pairs=[dict(pair) for pair in
            received.filter(building__isnull=False)
            .values("building__compound__name", "building__number", "category__name")
            .annotate(n=Count("id")).filter(n__gte=RECURRING)
            .order_by("-n", "building__compound__name", "building__number",
                      "category__name")[:TOP_PAIRS]],
        topics_closed=Topic.objects.filter(
            compound__community__path__startswith=street.path, status=Topic.Status.CLOSED,
            closed_at__gte=since, closed_at__lt=until).count(),
        volunteer_hours=HoursEntry.objects.filter(
            volunteer__compound__community__path__startswith=street.path,
            status=HoursEntry.Status.APPROVED, served_on__gte=start, served_on__lt=end,
        ).aggregate(total=Sum("hours"))["total"] or Decimal(0),
    )


def _by_community(street: Area, received: QuerySet[Petition]) -> list[tuple[str, int]]:
    """Petitions per community: the community's path is the first two steps of the place's."""
    length = Area.steplen * (street.depth + 1)
    counts = {row["community"]: row["n"] for row in
              received.annotate(community=Substr("origin_path", 1, length))
              .values("community").annotate(n=Count("id"))}
    communities = Area.objects.filter(path__in=counts, kind=Area.Kind.COMMUNITY).order_by("path")
    names = {area.path: area.name for area in communities}
    return [(names.get(path, path), counts[path]) for path in sorted(counts)]


def _overdue(street_petitions: QuerySet[Petition], until: datetime) -> list[dict[str, Any]]:
    """Petitions past their deadline and not resolved when the period ended."""
    unresolved = (Q(resolved_at__isnull=True, state__in=OPEN_STATES)
                  | Q(resolved_at__gte=until))
    return list(street_petitions.filter(unresolved, submitted_at__lt=until, due_at__lt=until)
                .values(*LIST_COLUMNS).order_by("due_at", "id"))


def report_list_for_user(*, user: AnyUser) -> QuerySet[MonthlyReport]:
    """The kept reports of the streets the user may read (reports.rules.may_view)."""
    return (MonthlyReport.objects.filter(rules.visible_q(user))
            .select_related("scope", "generated_by").order_by("-period_start", "kind"))


def report_streets_for_generation(*, user: AnyUser) -> list[Area]:
    """The streets whose reports the user may (re)generate."""
    return [street for street in Area.objects.filter(kind=Area.Kind.STREET).order_by("path")
            if rules.may_generate(user, street)]


def report_get_for_media(*, user: AnyUser, name: str) -> MediaGrant | None:
    """A report's workbook (core.media), to whoever may read its street's reports. It holds
    counts and petition numbers, no person: not audited."""
    report = MonthlyReport.objects.filter(file=name).select_related("scope").first()
    if report is None or not rules.may_view(user, report.scope):
        return None
    return MediaGrant(obj=report, is_audited=False)
