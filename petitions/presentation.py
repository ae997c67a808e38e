"""How the petition pages show a petition: the 7135 clock, the answers, the 公示 row, the stats.

Display only: each helper turns what selectors read into what a template prints (labels,
percentages, anonymised text). Who may see it is decided before, in rules and selectors.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.masking import mask_numbers_in
from core.memo import choice_labels
from petitions import policy, selectors
from petitions.cards import card_label
from petitions.models import OPEN_STATES, Petition, PetitionEvent, PetitionState, Tier
from territory.models import building_label

TIER_LABELS = dict(Tier.choices)


@dataclass(frozen=True)
class Clock:
    """The 7135 clock as the pages show it (the countdowns tick in static/js/petitions.js)."""

    is_open: bool
    tier: str
    due_at: datetime | None
    is_overdue: bool
    arrival_due_at: datetime | None
    arrived_at: datetime | None
    arrival_missed: bool

    @property
    def is_awaiting_arrival(self) -> bool:
        return self.is_open and self.arrived_at is None and self.arrival_due_at is not None


def clock_for(petition: Petition, now: datetime | None = None) -> Clock:
    moment = now or timezone.now()
    return Clock(is_open=petition.is_open, tier=petition.get_tier_display(),
                 due_at=petition.due_at, is_overdue=policy.is_overdue(petition, moment),
                 arrival_due_at=petition.arrival_due_at, arrived_at=petition.arrived_at,
                 arrival_missed=policy.is_arrival_missed(petition, moment))


def answer_rows(petition: Petition) -> list[tuple[str, str]]:
    """The answers to the category's extra questions, labelled by the questions."""
    labels = {str(item.get("key")): str(item.get("label"))
              for item in petition.category.extra_questions or [] if isinstance(item, dict)}
    return [(labels.get(key, key), str(value)) for key, value in (petition.answers or {}).items()]


def _actor_label(event: PetitionEvent, petition: Petition) -> str:
    return selectors.petition_event_actor_label(event=event, petition=petition) or ""


def timeline_rows(events: Iterable[PetitionEvent], petition: Petition) -> list[PetitionEvent]:
    """The timeline's events with the labels the page prints: the tier moved to, the actor."""
    timeline = list(events)
    for event in timeline:
        event.to_tier_label = TIER_LABELS.get(event.to_tier, "")
        event.actor_label = _actor_label(event, petition)
    return timeline


def public_text(text: str) -> str:
    """Digit runs (phones, room numbers) are starred on the public page."""
    return selectors.petition_public_text(text)


@dataclass(frozen=True)
class PublicRow:
    category: str
    place: str
    description: str
    resolution: str
    submitted_at: datetime
    resolved_at: datetime | None
    resolved_on_time: bool | None
    tier: str
    # 延期 granted in the round shown: how many requests and days (petitions/extensions.py).
    extensions: int = 0
    extension_days: int = 0


def public_row(petition: Petition, *, extended: tuple[int, int] = (0, 0)) -> PublicRow:
    """Anonymised: no names, phones or rooms; the building at most; the text only if public."""
    place = str(petition.building) if petition.building_id is not None else _("辖区内")
    description = (public_text(petition.description) if petition.is_public
                   else _("（诉求人未同意公开诉求内容）"))
    return PublicRow(category=petition.category.name, place=place, description=description,
                     resolution=public_text(petition.resolution),
                     submitted_at=petition.submitted_at, resolved_at=petition.resolved_at,
                     resolved_on_time=petition.resolved_on_time,
                     tier=petition.get_resolved_tier_display() or petition.get_tier_display(),
                     extensions=extended[0], extension_days=extended[1])



@dataclass(slots=True)  # not frozen: a frozen __init__ sets each of the 23 fields through
class WorkbenchRow:     # object.__setattr__ (50 rows: 2 % of the page's instructions)
    """One row of the workbench as it prints: every label, time and class worked out once here
    (workbench_rows_html places them). Times are in the current time zone: `*_iso` for the
    countdown's data-deadline, the others as 月-日 时:分."""

    url: str
    pk: int
    is_late: bool
    category: str
    description: str  # numbers masked (core.masking), cut to 40 characters
    reason: str  # the 待分派 reason, on that tab only
    place: str
    state: str
    state_label: str
    tier: str
    tier_label: str
    supervised: bool
    awaiting_arrival: bool
    arrival_due_iso: str  # empty unless someone is awaited on site
    arrival_due: str
    arrival_missed: bool
    is_open: bool
    due_iso: str  # empty unless the petition is open
    due: str
    is_overdue: bool
    resolved: str  # when it was resolved, for a closed clock
    awaiting_accept: bool = False  # 签收 (petitions/acceptance.py): held, open, not accepted
    card: str = ""  # 黄牌/红牌 of an open petition: "yellow", "red" or "" (petitions/cards.py)


# A pk no row has: reversed once, then each row's pk takes its place (a reverse() per row costs
# more than the rest of the row).
_PK_MARK = 987654321


def _local(moment: datetime | None, zone: tzinfo) -> tuple[str, str]:
    """The ISO moment and 月-日 时:分 of `moment` in ZONE (the current time zone, looked up
    once a page: each lookup reads a context-local), as `date:'c'` and `date:"m-d H:i"` print
    it; two empty strings for None."""
    if moment is None:
        return "", ""
    local = timezone.localtime(moment, zone)
    # Not strftime (nor f"{local:%m-%d}", the same call), which goes through the C library
    # and builds a time tuple: 100 times a page it was 4 % of the page's instructions.
    return (local.isoformat(),
            f"{local.month:02d}-{local.day:02d} {local.hour:02d}:{local.minute:02d}")


def _truncated(text: str, length: int) -> str:
    """`text|truncatechars:length`: Truncator only for the long ones (it asks gettext for its
    ellipsis on every call)."""
    text = unicodedata.normalize("NFC", text)
    return text if len(text) <= length else Truncator(text).chars(length)


# What workbench_rows reads: the list's values(), no model built (50 Petitions with their
# category, area, building and compound cost more to build than the rest of the rows).
WORKBENCH_ROW_FIELDS = (
    "id", "state", "tier", "description", "supervised", "due_at", "arrival_due_at", "arrived_at",
    "arrival_missed", "resolved_at", "location_text", "placement_reason", "building_id",
    "category__name", "area__name", "building__number", "building__compound__name",
    "holder_id", "accepted_at", "yellow_card_at", "red_card_at",
)


def workbench_rows(petitions: Iterable[Mapping[str, Any]], *, tab: str,
                   now: datetime | None = None) -> list[WorkbenchRow]:
    """The workbench's rows from `values(*WORKBENCH_ROW_FIELDS)`. The clocks are policy's;
    each label is translated once a call, not once a row."""
    moment = now or timezone.now()
    zone = timezone.get_current_timezone()
    detail = reverse("petitions:staff-detail", args=[_PK_MARK])
    states, tiers = choice_labels(PetitionState), choice_labels(Tier)
    buildings: dict[int, str] = {}
    rows = []
    for petition in petitions:
        state, building_id = petition["state"], petition["building_id"]
        is_open = state in OPEN_STATES
        awaiting = (is_open and petition["arrived_at"] is None
                    and petition["arrival_due_at"] is not None)
        is_overdue = policy.state_is_overdue(state=state, due_at=petition["due_at"], now=moment)
        arrival_missed = policy.state_is_arrival_missed(
            state=state, arrival_missed=petition["arrival_missed"],
            arrived_at=petition["arrived_at"], arrival_due_at=petition["arrival_due_at"],
            now=moment)
        if building_id is not None:
            if building_id not in buildings:
                buildings[building_id] = building_label(
                    compound_name=petition["building__compound__name"],
                    number=petition["building__number"])
            place = buildings[building_id]
        else:
            place = petition["area__name"]
            if petition["location_text"]:
                # Typed by the resident: numbers masked, as in the description.
                where = _truncated(mask_numbers_in(petition["location_text"]), 30)
                place = f"{place} · {where}"
        arrival = _local(petition["arrival_due_at"], zone) if awaiting else ("", "")
        due = _local(petition["due_at"], zone) if is_open else ("", "")
        rows.append(WorkbenchRow(
            url=detail.replace(str(_PK_MARK), str(petition["id"])), pk=petition["id"],
            is_late=is_overdue or (awaiting and arrival_missed),
            category=petition["category__name"],
            description=_truncated(mask_numbers_in(petition["description"] or ""), 40),
            reason=petition["placement_reason"] if tab == "dispatch" else "",
            place=place, state=state, state_label=states.get(state, state),
            tier=petition["tier"], tier_label=tiers.get(petition["tier"], petition["tier"]),
            supervised=petition["supervised"], awaiting_arrival=awaiting,
            arrival_due_iso=arrival[0], arrival_due=arrival[1], arrival_missed=arrival_missed,
            is_open=is_open, due_iso=due[0], due=due[1], is_overdue=is_overdue,
            resolved="" if is_open else _local(petition["resolved_at"], zone)[1],
            awaiting_accept=(is_open and petition["holder_id"] is not None
                             and petition["accepted_at"] is None),
            card=card_label(petition.get("yellow_card_at"), petition.get("red_card_at"))
            if is_open else ""))
    return rows


def workbench_row_labels() -> dict[str, str]:
    """The words the rows repeat, translated once a page."""
    return {"supervised": _("督办"), "arrival": _("到场"), "arrival_missed": _("到场超时"),
            "due": _("办结"), "overdue": _("已超期"), "resolved": _("办结于"),
            "awaiting_accept": _("待签收"), "yellow": _("黄牌"), "red": _("红牌")}


# The markup of one row, filled by workbench_rows_html. The page's one repeated fragment is
# written out here rather than in a template: 50 rows through Django's template engine cost
# ~13 ms of CPU (≈ 1,000 node renders and 300 `date` filters), this ~0.5 ms. The classes are
# workbench.css's; templates/petitions/staff/workbench.html holds the list around the rows.
_ROW = """
  <li class="wb-row{late}">
    <a class="wb-link" href="{url}">
      <span class="wb-id">#{pk}</span>
      <span class="wb-what"><span class="wb-category">{category}</span>
        <span class="wb-text">{description}</span>{reason}</span>
      <span class="wb-where">{place}</span>
      <span class="wb-state"><span class="badge state state-{state}">{state_label}</span>
        <span class="badge tier tier-{tier}">{tier_label}</span>{supervised}{card}</span>
      <span class="wb-clock">{clock}</span>
    </a>
  </li>"""
_REASON = """
        <span class="wb-reason">{}</span>"""
_SUPERVISED = """
        <span class="badge warn">{}</span>"""
_CARD = """
        <span class="badge {tone} card-{card}">{label}</span>"""
_DEADLINE = """
        <span class="wb-deadline">{label} <span class="countdown" data-deadline="{iso}">{at}</span>\
{late}</span>"""
_LATE = """ <span class="badge bad">{}</span>"""
_RESOLVED = """
        <span class="wb-deadline">{label} {at}</span>"""


def workbench_rows_html(rows: Iterable[WorkbenchRow]) -> SafeString:
    """The rows' <li>s, every value from the data escaped (html.escape, as Django's
    autoescape): the labels, categories and places repeat from row to row, so each distinct
    one is escaped once a page. The times (ISO and 月-日 时:分), the url and the id are
    written by workbench_rows from numbers, and are put in as they are."""
    return mark_safe("".join(_rows_markup(rows)))  # every value from the data is escaped


def _rows_markup(rows: Iterable[WorkbenchRow]) -> list[str]:
    """Each row's <li> (workbench_rows_html)."""
    labels = {key: html.escape(value) for key, value in workbench_row_labels().items()}
    escaped: dict[str, str] = {}

    def once(text: str) -> str:
        value = escaped.get(text)
        if value is None:
            value = escaped[text] = html.escape(text)
        return value

    parts = []
    for row in rows:
        clock = ""
        if row.awaiting_arrival:
            clock += _DEADLINE.format(
                label=labels["arrival"], iso=row.arrival_due_iso, at=row.arrival_due,
                late=_LATE.format(labels["arrival_missed"]) if row.arrival_missed else "")
        if row.is_open:
            clock += _DEADLINE.format(
                label=labels["due"], iso=row.due_iso, at=row.due,
                late=_LATE.format(labels["overdue"]) if row.is_overdue else "")
        elif row.resolved:
            clock += _RESOLVED.format(label=labels["resolved"], at=row.resolved)
        parts.append(_ROW.format(
            late=" is-late" if row.is_late else "", url=row.url, pk=row.pk,
            category=once(row.category), description=html.escape(row.description),
            reason=_REASON.format(html.escape(row.reason)) if row.reason else "",
            place=once(row.place), state=once(row.state), state_label=once(row.state_label),
            tier=once(row.tier), tier_label=once(row.tier_label),
            supervised=(_SUPERVISED.format(labels["supervised"]) if row.supervised else "")
            + (_SUPERVISED.format(labels["awaiting_accept"]) if row.awaiting_accept else ""),
            card=_CARD.format(tone="bad" if row.card == "red" else "warn", card=row.card,
                              label=labels[row.card]) if row.card else "",
            clock=clock))
    return parts


# The rows the workbench has drawn, in each process: a row's markup is made of its values, the
# side of each of its two deadlines the moment falls on (past one, the row is late), the tab
# (待分派 shows the reason), the language, the time zone and the site's URL prefix — the key
# holds all of them, so an entry is never stale, only unused. A page shows the same rows again
# and again (a worker reloading the queue, colleagues sharing a scope), and drawing 50 rows
# was half of the page's instructions. Past MAX_DRAWN_ROWS the memo starts over.
MAX_DRAWN_ROWS = 5000
_drawn: dict[tuple[Any, ...], tuple[str, datetime | None, datetime | None]] = {}


def _unchanged_between(petition: Mapping[str, Any],
                       moment: datetime) -> tuple[datetime | None, datetime | None]:
    """The span of moments around MOMENT with the same side of each deadline (policy.is_late:
    late once now > deadline): (after, until), either None for no bound."""
    deadlines = [petition.get(name) for name in ("due_at", "arrival_due_at")]
    passed = [deadline for deadline in deadlines if deadline is not None and moment > deadline]
    ahead = [deadline for deadline in deadlines if deadline is not None and moment <= deadline]
    return (max(passed) if passed else None), (min(ahead) if ahead else None)


def workbench_page_html(petitions: Sequence[Mapping[str, Any]], *, tab: str,
                        now: datetime | None = None) -> SafeString:
    """workbench_rows_html(workbench_rows(PETITIONS, tab=TAB, now=NOW)), each row drawn once
    and remembered (_drawn) for as long as it would be drawn the same."""
    moment = now or timezone.now()
    context = (tab == "dispatch", get_language(), timezone.get_current_timezone_name(),
               get_script_prefix())
    parts: list[str] = []
    missing: list[tuple[int, tuple[Any, ...], Mapping[str, Any]]] = []
    for petition in petitions:
        key = (*context, *petition.items())
        entry = _drawn.get(key)
        if entry is not None and (entry[1] is None or moment > entry[1]) and (
                entry[2] is None or moment <= entry[2]):
            parts.append(entry[0])
        else:
            missing.append((len(parts), key, petition))
            parts.append("")
    if missing:
        drawn = _rows_markup(workbench_rows([petition for _i, _k, petition in missing], tab=tab,
                                            now=moment))
        if len(_drawn) + len(missing) > MAX_DRAWN_ROWS:
            _drawn.clear()
        for (index, key, petition), markup in zip(missing, drawn, strict=True):
            parts[index] = markup
            _drawn[key] = (markup, *_unchanged_between(petition, moment))
    return mark_safe("".join(parts))  # each row escaped by _rows_markup


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.0f}%"


def stats_rows(rates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The table: each rate with its sample size next to it."""
    rows = []
    for item in rates:
        on_time = [(Tier(tier).label, percent(value["rate"]), value["sample"])
                   for tier, value in item["on_time_rate"].items()]
        rows.append({
            "period": item["period"], "submitted": item["submitted"],
            "response": (percent(item["response_rate"]), item["response_sample"]),
            "resolution": (percent(item["resolution_rate"]), item["resolution_sample"]),
            "satisfaction": (percent(item["satisfaction_rate"]), item["satisfaction_sample"]),
            "on_time": on_time,
        })
    return rows


def stats_chart(rates: list[dict[str, Any]], *, by: str = "week") -> dict[str, Any]:
    """The ECharts feed: every period's first day on a time axis (the chart places each point
    by its date), rates in percent or None where a period has no sample (a gap in the line),
    samples alongside for the tooltip."""
    def series(key: str) -> list[float | None]:
        return [None if item[key] is None else round(item[key] * 100, 1) for item in rates]

    chart: dict[str, Any] = {
        "axis": "time", "by": by,
        "periods": [item["period"].isoformat() for item in rates],
        "series": [
            {"name": _("响应率"), "data": series("response_rate"),
             "samples": [item["response_sample"] for item in rates]},
            {"name": _("办结率"), "data": series("resolution_rate"),
             "samples": [item["resolution_sample"] for item in rates]},
            {"name": _("满意率"), "data": series("satisfaction_rate"),
             "samples": [item["satisfaction_sample"] for item in rates]},
        ],
    }
    for tier in Tier:
        chart["series"].append({
            "name": _("按时办结率（%(tier)s）") % {"tier": tier.label},
            "data": [None if item["on_time_rate"][tier.value]["rate"] is None
                     else round(item["on_time_rate"][tier.value]["rate"] * 100, 1)
                     for item in rates],
            "samples": [item["on_time_rate"][tier.value]["sample"] for item in rates],
        })
    return chart
