"""The report's figures: a fixed handful of aggregate queries over one area and period,
whatever the number of petitions (GROUP BY and conditional counts in the database, never a
loop over rows). The rates are petitions' own definitions (petitions.selectors.rate_aggregates),
so the report and the stats page cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Substr
from django.http import Http404, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts.models import User
from core.exceptions import ApplicationError, PermissionDeniedError
from core.media import MediaGrant
from core.types import AnyUser
from deliberation.models import Topic
from petitions.models import OPEN_STATES, Petition, PetitionState
from petitions.selectors import petition_list, rate_aggregates, rates_row, scope_building_list
from reports import rules
from reports.models import MonthlyReport
from territory.geo import boundary_parse
from territory.models import Area, Building
from volunteers.models import HoursEntry

# The report lists petitions by number, category, place down to the building, tier, state and
# deadlines: never a name, a phone or the resident's own words.
LIST_COLUMNS = ("id", "category__name", "building__compound__name", "building__number",
                "area__name", "tier", "state", "submitted_at", "due_at", "supervised_at")
TOP_PAIRS = 10
RECURRING = 2  # a building × category pair counts as recurring from this many petitions


@dataclass(frozen=True)
class Tally:
    """One line of an intake table: a code the machine reads, a label a person reads."""

    code: str
    label: str
    n: int


@dataclass(frozen=True)
class SubareaTally:
    """Petitions placed in one area one level below the report's area (None: placed at the
    report's area itself, in none of its children)."""

    area: Area | None
    n: int


@dataclass(frozen=True)
class ReportFigures:
    area: Area  # a street for the workbook; any area for the stats API
    start: date
    end: date  # exclusive
    by_channel: list[Tally]
    by_category: list[Tally]  # code: the category's id
    by_subarea: list[SubareaTally]  # a street's communities, a community's grids, …
    counts: dict[str, int]  # rate_aggregates' numerators and denominators
    rates: dict[str, Any]  # rates_row of the counts
    overdue: list[dict[str, Any]]
    supervised: list[dict[str, Any]]
    top_pairs: list[dict[str, Any]]
    topics_closed: int | None  # None below a community (COMPOUND_LEVELS)
    volunteer_hours: Decimal | None


def period_end(start: date, kind: str) -> date:
    """The first day after a month's or a quarter's period."""
    months = 3 if kind == MonthlyReport.Kind.QUARTER else 1
    index = start.month - 1 + months
    return date(start.year + index // 12, index % 12 + 1, 1)


def _moment(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def _area_petitions(area: Area) -> QuerySet[Petition]:
    return Petition.objects.filter(origin_path__startswith=area.path).exclude(
        state__in=[PetitionState.REJECTED, PetitionState.MERGED])


def report_figures(*, area: Area, start: date, kind: str) -> ReportFigures:
    """Everything the workbook (and the stats API) shows for `area` (a street, a community,
    a grid: whatever lies under its path) from `start` over a month or a quarter."""
    end = period_end(start, kind)
    since, until = _moment(start), _moment(end)
    area_petitions = _area_petitions(area)
    received = area_petitions.filter(submitted_at__gte=since, submitted_at__lt=until)
    channel_labels = dict(Petition.Channel.choices)
    by_channel = [Tally(row["channel"], str(channel_labels.get(row["channel"], row["channel"])),
                        row["n"])
                  for row in received.values("channel").annotate(n=Count("id"))
                  .order_by("-n", "channel")]
    by_category = [Tally(str(row["category"]), row["category__name"], row["n"])
                   for row in received.values("category", "category__name")
                   .annotate(n=Count("id")).order_by("-n", "category__name", "category")]
    counts = received.aggregate(**rate_aggregates())
    return ReportFigures(
        area=area, start=start, end=end, by_channel=by_channel, by_category=by_category,
        by_subarea=_by_subarea(area, received),
        counts=counts, rates=rates_row({"period": start, **counts}),
        overdue=_overdue(area_petitions, until), supervised=list(
            area_petitions.filter(supervised=True, supervised_at__gte=since,
                                  supervised_at__lt=until)
            .values(*LIST_COLUMNS).order_by("supervised_at", "id")),
        top_pairs=[dict(pair) for pair in
            received.filter(building__isnull=False)
            .values("building__compound__name", "building__number", "category__name")
            .annotate(n=Count("id")).filter(n__gte=RECURRING)
            .order_by("-n", "building__compound__name", "building__number",
                      "category__name")[:TOP_PAIRS]],
        topics_closed=_topics_closed(area, since, until),
        volunteer_hours=_volunteer_hours(area, start, end),
    )


# Topics and volunteers belong to a compound, so to a community, not to a grid (a compound may
# span several grids): below a community they are not counted at all (None), rather than
# counted as the whole community's and added up twice by a dashboard summing its grids.
COMPOUND_LEVELS = frozenset({Area.Kind.STREET, Area.Kind.COMMUNITY})


def _topics_closed(area: Area, since: datetime, until: datetime) -> int | None:
    if area.kind not in COMPOUND_LEVELS:
        return None
    return Topic.objects.filter(
        compound__community__path__startswith=area.path, status=Topic.Status.CLOSED,
        closed_at__gte=since, closed_at__lt=until).count()


def _volunteer_hours(area: Area, start: date, end: date) -> Decimal | None:
    if area.kind not in COMPOUND_LEVELS:
        return None
    return HoursEntry.objects.filter(
        volunteer__compound__community__path__startswith=area.path,
        status=HoursEntry.Status.APPROVED, served_on__gte=start, served_on__lt=end,
    ).aggregate(total=Sum("hours"))["total"] or Decimal(0)


def _by_subarea(area: Area, received: QuerySet[Petition]) -> list[SubareaTally]:
    """Petitions per area one level below `area`: the child's path is the first depth + 1
    steps of the place's."""
    length = Area.steplen * (area.depth + 1)
    counts = {row["child"]: row["n"] for row in
              received.annotate(child=Substr("origin_path", 1, length))
              .values("child").annotate(n=Count("id"))}
    children = {child.path: child for child in
                Area.objects.filter(path__in=counts, depth=area.depth + 1).order_by("path")}
    return [SubareaTally(children.get(path), counts[path]) for path in sorted(counts)]


def _overdue(area_petitions: QuerySet[Petition], until: datetime) -> list[dict[str, Any]]:
    """Petitions past their deadline and not resolved when the period ended."""
    unresolved = (Q(resolved_at__isnull=True, state__in=OPEN_STATES)
                  | Q(resolved_at__gte=until))
    return list(area_petitions.filter(unresolved, submitted_at__lt=until, due_at__lt=until)
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


def stats_scope_for_user(*, user: AnyUser) -> str:
    """The path prefix of the areas whose figures `user` may read through the stats API;
    refused (403) to whoever may read none."""
    prefix = rules.stats_scope_path(user)
    if prefix is None:
        if isinstance(user, User) and user.role == User.Role.EXTERNAL_SYSTEM:
            raise PermissionDeniedError(_("该 API 密钥未设定管辖范围，不能读取统计数据。"))
        raise PermissionDeniedError(_("您无权查看统计数据。"))
    return prefix


def stats_area_for_user(*, user: AnyUser, area_id: int | None) -> Area:
    """The area whose figures the stats API gives `user`: the one asked for, or else the
    user's own scope area. An area that does not exist and one outside the user's scope are
    alike (404), so ids cannot be probed."""
    prefix = stats_scope_for_user(user=user)
    if area_id is None:
        area = user.scope_area if isinstance(user, User) else None
        if area is None:
            raise ApplicationError(_("请用 area 参数指定统计区域。"))
        return area
    found = Area.objects.filter(pk=area_id).first()
    if found is None or not found.path.startswith(prefix):
        raise Http404
    return found


# --- the one map (一张图) ----------------------------------------------------------------------

# The map's state filter: still running, or finished (resolved, checked, rated, closed, ...).
MAP_STATE_GROUPS: dict[str, frozenset[str]] = {
    "open": OPEN_STATES,
    "done": frozenset(PetitionState.values) - OPEN_STATES,
}
MAP_STATE_GROUP_CHOICES = [("open", _lazy("办理中")), ("done", _lazy("已办结或关闭"))]
# What a feature's geometry is made of when it has no usable outline.
BUILDING_COLUMNS = ("id", "number", "latitude", "longitude", "outline", "compound__id",
                    "compound__name", "compound__latitude", "compound__longitude",
                    "compound__outline")


@dataclass(frozen=True)
class MapFilters:
    date_from: date
    date_to: date  # inclusive
    tier: str = ""
    category: int | None = None
    state: str = ""  # a key of MAP_STATE_GROUPS, or "" for every state


def map_list_query(filters: MapFilters) -> QueryDict:
    """The PetitionFilter query the map counts with; its list links carry the same one, so a
    building's count and the rows its link opens cannot differ."""
    query = QueryDict(mutable=True)
    query["submitted_after"] = filters.date_from.isoformat()
    query["submitted_until"] = filters.date_to.isoformat()
    if filters.tier:
        query["tier"] = filters.tier
    if filters.category is not None:
        query["category"] = str(filters.category)
    if filters.state:
        query.setlist("state", sorted(MAP_STATE_GROUPS[filters.state]))
    return query


def map_geometry(outline: Any, latitude: Any, longitude: Any) -> dict[str, Any] | None:
    """A GeoJSON geometry: the outline when it is a valid (Multi)Polygon (territory.geo), else
    the point, else None (RFC 7946 §3.2: a feature without a location)."""
    if isinstance(outline, dict) and outline.get("type") == "Feature":
        outline = outline.get("geometry")
    if outline is not None:
        try:
            boundary_parse(outline)
        except ValidationError:
            pass  # saved around clean() (a script, a raw update): drawn as its point instead
        else:
            return {"type": outline["type"], "coordinates": outline["coordinates"]}
    if latitude is not None and longitude is not None:
        return {"type": "Point", "coordinates": [float(longitude), float(latitude)]}
    return None


def petition_map(*, user: User, filters: MapFilters) -> dict[str, Any]:
    """The one map's data for `user`: a GeoJSON FeatureCollection (RFC 7946) of the compounds
    and buildings in their scope, each building with its petition counts by category and state
    and the link to its list. Counts only, never a person.

    Three queries whatever the number of petitions: the buildings, the category filter's
    check, and one GROUP BY building, category and state over the petitions the user sees.
    """
    query = map_list_query(filters)
    buildings = list(scope_building_list(user=user).select_related(None)
                     .values(*BUILDING_COLUMNS).order_by("compound__name", "number_sort",
                                                         "number"))
    groups = (petition_list(user=user, filters=query).filter(building__isnull=False)
              .values("building_id", "category_id", "category__name", "state")
              .annotate(n=Count("id")).order_by("building_id", "category__name", "state"))
    counts: dict[int, list[dict[str, Any]]] = {}
    for group in groups:
        counts.setdefault(group["building_id"], []).append(dict(group))
    features = _compound_features(buildings, counts)
    features += [_building_feature(building, counts.get(building["id"], []), query)
                 for building in buildings]
    return {"type": "FeatureCollection", "features": features,
            "filters": {"date_from": filters.date_from.isoformat(),
                        "date_to": filters.date_to.isoformat(), "tier": filters.tier,
                        "category": filters.category, "state": filters.state}}


def area_map(*, area: Area, since: datetime, until: datetime) -> dict[str, Any]:
    """The big screen's map: petition_map's FeatureCollection for every building of `area`,
    counting the petitions placed there and received in [since, until) (不予受理 left out, as
    the screen counts), each building linking to the workbench's 全部 tab over the same days
    and states, so its count and the rows its link opens agree.
    Not per user: the screen's figures are the area's, cached for the minute (reports.screen).
    Two queries whatever the number of petitions."""
    buildings = list(Building.objects.filter(micro_grid__path__startswith=area.path)
                     .values(*BUILDING_COLUMNS).order_by("compound__name", "number_sort",
                                                         "number"))
    groups = (Petition.objects.filter(origin_path__startswith=area.path,
                                      submitted_at__gte=since, submitted_at__lt=until,
                                      building__isnull=False)
              .exclude(state__in=[PetitionState.REJECTED, PetitionState.MERGED])
              .values("building_id", "category_id", "category__name", "state")
              .annotate(n=Count("id")).order_by("building_id", "category__name", "state"))
    counts: dict[int, list[dict[str, Any]]] = {}
    for group in groups:
        counts.setdefault(group["building_id"], []).append(dict(group))
    query = QueryDict(mutable=True)
    query["submitted_after"] = timezone.localtime(since).date().isoformat()
    query["submitted_until"] = timezone.localtime(until).date().isoformat()
    query.setlist("state", [state for state in PetitionState.values
                            if state not in (PetitionState.REJECTED, PetitionState.MERGED)])
    features = _compound_features(buildings, counts)
    features += [_building_feature(building, counts.get(building["id"], []), query)
                 for building in buildings]
    return {"type": "FeatureCollection", "features": features}


def _building_feature(building: dict[str, Any], groups: list[dict[str, Any]],
                      query: QueryDict) -> dict[str, Any]:
    by_category: dict[int, dict[str, Any]] = {}
    by_state: dict[str, int] = {}
    for group in groups:
        item = by_category.setdefault(group["category_id"], {
            "id": group["category_id"], "name": group["category__name"], "count": 0})
        item["count"] += group["n"]
        by_state[group["state"]] = by_state.get(group["state"], 0) + group["n"]
    state_labels = dict(PetitionState.choices)
    list_query = query.copy()
    list_query["tab"] = "all"
    list_query["building"] = str(building["id"])
    name = f"{building['compound__name']} " + str(_("%(number)s号楼") % {
        "number": building["number"]})
    return {"type": "Feature", "id": f"building-{building['id']}",
            "geometry": map_geometry(building["outline"], building["latitude"],
                                     building["longitude"]),
            "properties": {
                "kind": "building", "id": building["id"], "name": name,
                "compound_id": building["compound__id"],
                "total": sum(by_state.values()),
                "open": sum(n for state, n in by_state.items() if state in OPEN_STATES),
                "by_category": sorted(by_category.values(),
                                      key=lambda item: (-item["count"], item["name"])),
                "by_state": [{"state": state, "label": str(state_labels.get(state, state)),
                              "count": n} for state, n in sorted(by_state.items())],
                "list_url": f"{reverse('petitions:staff-queue')}?{list_query.urlencode()}",
            }}


def _compound_features(buildings: list[dict[str, Any]],
                       counts: dict[int, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    compounds: dict[int, dict[str, Any]] = {}
    for building in buildings:
        compound = compounds.setdefault(building["compound__id"], {
            "type": "Feature", "id": f"compound-{building['compound__id']}",
            "geometry": map_geometry(building["compound__outline"],
                                     building["compound__latitude"],
                                     building["compound__longitude"]),
            "properties": {"kind": "compound", "id": building["compound__id"],
                           "name": building["compound__name"], "total": 0}})
        compound["properties"]["total"] += sum(
            group["n"] for group in counts.get(building["id"], []))
    return list(compounds.values())
