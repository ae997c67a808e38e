"""The big screen (大屏) of a street's or a community's command room: today's intake, the open
petitions by tier, overdue, 督办, this month's three rates, the newest petitions.

Cost. `screen_figure_counts` is four queries whatever the number of petitions (conditional
aggregates in the database; the newest ten read backwards along the submitted_at index).
`screen_figures` keeps the result in Django's cache for the minute, per area, so twenty screens
refreshing once a minute cost one computation a minute. At the turn of the minute the first
request takes a short lock (`cache.add`) and computes; the others meanwhile get the previous
minute's figures (a minute old at most) instead of computing them again. Only when there is no
previous minute (a cold cache) may two screens compute the same minute twice: accepted.

What is cached holds codes (tier, state, channel), never labels: `screen_display` labels them in
the reader's language after the cache. No person: a petition is its number, time, category,
place down to the building, tier, state and a masked excerpt of its text.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.masking import mask_name, mask_numbers_in
from core.types import AnyUser
from petitions import policy
from petitions.models import OPEN_STATES, Petition, PetitionState, Tier, choice_label
from petitions.presentation import percent
from petitions.selectors import petition_public_text, rate_aggregates, rates_row
from reports import rankings, rules
from reports.selectors import area_map
from territory.models import Area

CACHE_SECONDS = 120  # this minute's entry must outlive it: the next minute's lock serves it
LOCK_SECONDS = 30
NEWEST = 10
EXCERPT_LENGTH = 30
NEWEST_COLUMNS = ("id", "submitted_at", "category__name", "building__compound__name",
                  "building__number", "tier", "state", "description", "contact_name")


# --- whose screen -------------------------------------------------------------------------------


def screen_area_list(*, user: AnyUser) -> list[Area]:
    """The areas whose screen the user may open (reports.rules.screen_areas_q), widest first."""
    return list(Area.objects.filter(rules.screen_areas_q(user)).order_by("path"))


def screen_area_get(*, areas: list[Area], area_id: str | None) -> Area:
    """The area asked for (?area=) among `areas` (screen_area_list), or the widest of them;
    Http404 for anything else (a bad or foreign id is never looked up)."""
    if not areas:
        raise Http404(_("页面不存在。"))
    if area_id is None or area_id == "":
        return areas[0]
    for area in areas:
        if str(area.pk) == area_id:
            return area
    raise Http404(_("页面不存在。"))


# --- the figures --------------------------------------------------------------------------------


def _area_petitions(area: Area) -> QuerySet[Petition]:
    """Where the matter is (origin_path), as the report counts it; refused ones count nowhere."""
    return Petition.objects.filter(origin_path__startswith=area.path).exclude(
        state__in=[PetitionState.REJECTED, PetitionState.MERGED])


def _local_midnight(moment: datetime) -> datetime:
    return datetime.combine(timezone.localtime(moment).date(), time(0),
                            tzinfo=timezone.get_current_timezone())


def _open_counts(area: Area, now: datetime) -> dict[str, int]:
    counts = {f"tier_{tier}": Count("id", filter=Q(tier=tier)) for tier in Tier.values}
    return Petition.objects.filter(origin_path__startswith=area.path,
                                   state__in=OPEN_STATES).aggregate(
        total=Count("id"), overdue=Count("id", filter=policy.late_q("due_at", now)),
        supervised=Count("id", filter=Q(supervised=True)), **counts)


def excerpt(description: str, contact_name: str) -> str:
    """A short excerpt a wall may show: phone and ID numbers masked (core.masking), then every
    run of three digits or more starred as on the 公示 page (rooms), the contact's own name
    masked where the text repeats it — and only then cut, so a cut never leaves a number whole
    that the masking would have caught."""
    text = petition_public_text(mask_numbers_in(" ".join(description.split())))
    if len(contact_name) >= 2:
        text = text.replace(contact_name, mask_name(contact_name))
    return text if len(text) <= EXCERPT_LENGTH else text[:EXCERPT_LENGTH] + "…"


def _newest(area: Area) -> list[dict[str, Any]]:
    rows = _area_petitions(area).values(*NEWEST_COLUMNS).order_by("-submitted_at", "-id")
    return [{"id": row["id"], "submitted_at": row["submitted_at"],
             "category": row["category__name"], "compound": row["building__compound__name"],
             "building": row["building__number"], "tier": row["tier"], "state": row["state"],
             "excerpt": excerpt(row["description"], row["contact_name"])}
            for row in rows[:NEWEST]]


RANKING_ROWS = 8


def _ranking(area: Area, month: date, now: datetime) -> dict[str, Any]:
    """This month's grid ranking by 办结率 (reports.rankings: Wilson lower bound, 样本不足
    apart, 申诉剔除 left out) — the street's, narrowed to the area's grids with their places in
    the street kept. Three queries (four when the area is below its street)."""
    street = area if area.depth == 1 else Area.objects.get(path=area.path[:Area.steplen])
    ranking = rankings.grid_ranking(street=street, start=month,
                                    end=timezone.localdate(now) + timedelta(days=1))
    return {"rows": [{"rank": row.rank, "name": row.name, "rate": row.rate, "n": row.n}
                     for row in ranking.rows if row.path.startswith(area.path)][:RANKING_ROWS],
            "apart": sum(1 for row in ranking.apart if row.path.startswith(area.path)),
            "median": ranking.median, "excluded": ranking.excluded}


def screen_figure_counts(*, area: Area, now: datetime) -> dict[str, Any]:
    """The screen's figures for `area` at `now`, computed (seven queries, eight below a
    street: today's intake by channel, the open petitions, this month's rates, the newest ten,
    and the ranking's)."""
    today = _local_midnight(now)
    month = today.replace(day=1)
    petitions = _area_petitions(area)
    by_channel = dict(petitions.filter(submitted_at__gte=today, submitted_at__lte=now)
                      .values_list("channel").annotate(n=Count("id")).order_by())
    month_counts = petitions.filter(submitted_at__gte=month, submitted_at__lte=now).aggregate(
        **rate_aggregates())
    return {
        "as_of": now,
        "today": {"total": sum(by_channel.values()),
                  "by_channel": sorted(by_channel.items(), key=lambda pair: (-pair[1], pair[0]))},
        "open": _open_counts(area, now),
        "month": rates_row({"period": month.date(), **month_counts}),
        "newest": _newest(area),
        "ranking": _ranking(area, month.date(), now),
    }


def _cache_key(area: Area, minute: int, part: str = "figures") -> str:
    return f"reports:screen:{part}:{area.pk}:{minute}"


def _cached(area: Area, now: datetime, part: str,
            compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`compute()` at most once a minute per area and part (the module's docstring)."""
    minute = int(now.timestamp()) // 60
    key = _cache_key(area, minute, part)
    figures: dict[str, Any] | None = cache.get(key)
    if figures is not None:
        return figures
    if not cache.add(f"{key}:lock", True, LOCK_SECONDS):
        previous: dict[str, Any] | None = cache.get(_cache_key(area, minute - 1, part))
        if previous is not None:
            return previous
    figures = compute()
    cache.set(key, figures, CACHE_SECONDS)
    return figures


def screen_figures(*, area: Area, now: datetime) -> dict[str, Any]:
    """screen_figure_counts, computed at most once a minute per area (the module's docstring)."""
    return _cached(area, now, "figures", lambda: screen_figure_counts(area=area, now=now))


def screen_map(*, area: Area, now: datetime) -> dict[str, Any]:
    """The screen's map (reports.selectors.area_map: this month's petitions per building of
    the area, two queries), computed at most once a minute per area and language (its building
    names are labelled: 3号楼)."""
    since = _local_midnight(now).replace(day=1)
    return _cached(area, now, f"map-{translation.get_language()}",
                   lambda: area_map(area=area, since=since, until=now))


# --- what the page and its JSON show ------------------------------------------------------------


def _place(row: dict[str, Any]) -> str:
    if row["compound"] is None:
        return _("辖区内")
    return f"{row['compound']} " + _("%(number)s号楼") % {"number": row["building"]}


def _rate(month: dict[str, Any], name: str, label: str) -> dict[str, Any]:
    rate = month[f"{name}_rate"]
    return {"key": name, "label": label, "text": percent(rate),
            "percent": None if rate is None else round(rate * 100, 1),
            "sample": month[f"{name}_sample"]}


def screen_display(figures: dict[str, Any]) -> dict[str, Any]:
    """The cached figures as the page and /reports/screen/data/ show them: labelled in the
    active language, times in local time."""
    open_counts = figures["open"]
    month = figures["month"]
    as_of = timezone.localtime(figures["as_of"])
    return {
        "as_of": as_of.strftime("%H:%M"),
        "as_of_iso": as_of.isoformat(),
        "today": {"total": figures["today"]["total"],
                  "channels": [{"label": choice_label(Petition.Channel, channel), "count": n}
                               for channel, n in figures["today"]["by_channel"]]},
        "open": {"total": open_counts["total"], "overdue": open_counts["overdue"],
                 "supervised": open_counts["supervised"],
                 "tiers": [{"key": tier.value, "label": str(tier.label),
                            "count": open_counts[f"tier_{tier.value}"]} for tier in Tier]},
        "month": {"label": _("%(year)s年%(month)s月") % {"year": month["period"].year,
                                                          "month": month["period"].month},
                  "submitted": month["submitted"],
                  "rates": [_rate(month, "response", _("响应率")),
                            _rate(month, "resolution", _("办结率")),
                            _rate(month, "satisfaction", _("满意率"))]},
        "newest": [{"id": row["id"],
                    "time": timezone.localtime(row["submitted_at"]).strftime("%m-%d %H:%M"),
                    "category": row["category"], "place": _place(row),
                    "tier": choice_label(Tier, row["tier"]),
                    "state": choice_label(PetitionState, row["state"]),
                    "excerpt": row["excerpt"]} for row in figures["newest"]],
        "ranking": {"rows": [{"rank": row["rank"], "name": row["name"],
                              "text": percent(row["rate"]), "sample": row["n"]}
                             for row in figures["ranking"]["rows"]],
                    "median": percent(figures["ranking"]["median"]),
                    "apart": figures["ranking"]["apart"],
                    "excluded": figures["ranking"]["excluded"]},
    }
