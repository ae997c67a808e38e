"""A workbench tab as a table for a spreadsheet: the columns a clerk works from, one query.

The rows are the tab's own queryset (petitions.workbench, narrowed by the page's filters), read
with `.values()` so the file costs one query whatever its length. Contact names and phones are
masked unless the exporter asks for them whole and may reveal them (rules.reveal_contact_q, row
by row, the rule of the staff page's reveal button); the caller audits the rows revealed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import BooleanField, Case, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.masking import mask_name, mask_phone
from petitions import rules
from petitions.models import Petition, PetitionState, Tier, choice_label
from petitions.queues import late_q

# Past this many rows a file takes longer to build than a request may: narrow the filters.
EXPORT_ROW_LIMIT = 50_000
CONTACT_FIELDS = ("contact_name", "contact_phone")
_VALUES = (
    "id", "submitted_at", "category__name", "channel", "state", "tier", "area__name",
    "building__compound__name", "building__number", "unit_number", "location_text",
    "description", "holder__display_name", "holder__username", "arrival_due_at", "due_at",
    "resolved_at", "rating", *CONTACT_FIELDS,
)


@dataclass(frozen=True)
class PetitionExport:
    header: list[str]
    rows: list[list[Any]]
    revealed: int  # rows whose contact is written whole


def export_header() -> list[str]:
    return [_("编号"), _("受理时间"), _("分类"), _("渠道"), _("状态"), _("层级"), _("承办区域"),
            _("小区"), _("楼栋"), _("单元"), _("位置描述"), _("诉求内容"), _("承办人"),
            _("到场时限"), _("办结时限"), _("是否超时"), _("办结时间"), _("评价"), _("联系人"),
            _("联系电话")]


def petition_export(*, user: User, petitions: QuerySet[Petition], reveal: bool,
                    now: datetime) -> PetitionExport:
    """`petitions` (a workbench tab's rows, in its order) as the export's rows."""
    revealable = (Case(When(rules.reveal_contact_q(user), then=Value(True)), default=Value(False),
                       output_field=BooleanField())
                  if reveal else Value(False, output_field=BooleanField()))
    values = petitions.annotate(
        export_late=Case(When(late_q(now), then=Value(True)), default=Value(False),
                         output_field=BooleanField()),
        export_revealable=revealable,
    ).values(*_VALUES, "export_late", "export_revealable")
    rows, revealed = [], 0
    for item in values:
        whole = item["export_revealable"] and any(item[name] for name in CONTACT_FIELDS)
        revealed += bool(whole)
        rows.append(_row(item, whole=whole))
    return PetitionExport(header=export_header(), rows=rows, revealed=revealed)


def _row(item: dict[str, Any], *, whole: bool) -> list[Any]:
    holder = item["holder__display_name"] or item["holder__username"] or ""
    name, phone = item["contact_name"] or "", item["contact_phone"] or ""
    return [
        item["id"], _when(item["submitted_at"]), item["category__name"],
        choice_label(Petition.Channel, item["channel"]), choice_label(PetitionState, item["state"]),
        choice_label(Tier, item["tier"]), item["area__name"],
        item["building__compound__name"] or "", item["building__number"] or "",
        item["unit_number"], item["location_text"], item["description"], holder,
        _when(item["arrival_due_at"]), _when(item["due_at"]),
        _("是") if item["export_late"] else _("否"), _when(item["resolved_at"]),
        choice_label(Petition.Rating, item["rating"]) if item["rating"] else "",
        name if whole else mask_name(name), phone if whole else mask_phone(phone),
    ]


def _when(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def export_query_items(query: Sequence[tuple[str, list[str]]]) -> list[tuple[str, str]]:
    """The page's query as the export form's hidden fields: every filter, not the page."""
    return [(name, value) for name, values in query if name not in ("page", "contact")
            for value in values if value != ""]
