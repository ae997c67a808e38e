"""How the petition pages show a petition: the 7135 clock, the answers, the 公示 row, the stats.

Display only: each helper turns what selectors read into what a template prints (labels,
percentages, anonymised text). Who may see it is decided before, in rules and selectors.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from petitions import policy, selectors
from petitions.models import Petition, PetitionEvent, Tier

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


def public_row(petition: Petition) -> PublicRow:
    """Anonymised: no names, phones or rooms; the building at most; the text only if public."""
    place = str(petition.building) if petition.building_id is not None else _("辖区内")
    description = (public_text(petition.description) if petition.is_public
                   else _("（诉求人未同意公开诉求内容）"))
    return PublicRow(category=petition.category.name, place=place, description=description,
                     resolution=public_text(petition.resolution),
                     submitted_at=petition.submitted_at, resolved_at=petition.resolved_at,
                     resolved_on_time=petition.resolved_on_time,
                     tier=petition.get_resolved_tier_display() or petition.get_tier_display())



def clock_rows(petitions: Iterable[Petition]) -> list[tuple[Petition, Clock]]:
    now = timezone.now()
    return [(petition, clock_for(petition, now)) for petition in petitions]


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
