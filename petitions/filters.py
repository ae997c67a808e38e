"""One FilterSet for the staff pages and the API (applied inside petitions.selectors).

The keyword search `q` finds a petition by its number (`#12` or `12`), by words of its text, or
by the whole contact phone: the last is an exact lookup over a protected field, so it is a reveal
(core.protected_lookups: the caller's reveal scope only, one audit row per match, throttled).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.filters import DateFilter, DateTimeFilter, IdFilter, KnownIdFilter
from core.protected_lookups import ProtectedLookupFilterSet, is_phone_term
from petitions.models import Category, Petition, PetitionState, Tier
from petitions.queues import late_q
from territory.models import Area

# A petition number in a search: `#` and digits, or digits too short to be a phone number.
MAX_ID_DIGITS = 15


def _search_digits(term: str) -> str:
    return "".join(character for character in term if character in "0123456789")


class PetitionFilter(ProtectedLookupFilterSet):
    # `q` is a whole-phone lookup only when its term is one (is_protected_lookup).
    protected_lookups: ClassVar[dict[str, str]] = {"q": "contact_phone"}
    # Below the holding area, so the staff where the matter is still find it after escalation.
    reveal_path_field = "origin_path"

    # Columns of the row itself: no join can repeat a row, so no DISTINCT (django-filter's
    # default for these), which would cost the workbench's counts a subquery.
    state = django_filters.MultipleChoiceFilter(label=_("状态"), choices=PetitionState.choices,
                                                distinct=False)
    tier = django_filters.MultipleChoiceFilter(label=_("层级"), choices=Tier.choices,
                                               distinct=False)
    size = django_filters.MultipleChoiceFilter(label=_("大小"), choices=Petition.Size.choices,
                                               distinct=False)
    channel = django_filters.MultipleChoiceFilter(label=_("渠道"), distinct=False,
                                                  choices=Petition.Channel.choices)
    category = KnownIdFilter(  # type: ignore[no-untyped-call]
        label=_("分类"), field_name="category_id",
        queryset=Category.objects.all())
    area = django_filters.ModelChoiceFilter(label=_("区域（含下级）"), queryset=Area.objects.all(),
                                            method="filter_area")
    building = IdFilter(label=_("楼栋"), field_name="building_id")
    # core's DateTimeFilter and DateFilter keep django-filter's untyped __init__
    # (untyped_calls_exclude covers django_filters' own classes, not our subclasses of them).
    submitted_after = DateTimeFilter(  # type: ignore[no-untyped-call]
        label=_("受理时间起"), field_name="submitted_at", lookup_expr="gte")
    submitted_before = DateTimeFilter(  # type: ignore[no-untyped-call]
        label=_("受理时间止"), field_name="submitted_at", lookup_expr="lt")
    submitted_until = DateFilter(  # type: ignore[no-untyped-call]
        label=_("受理日期止（含当日）"), method="filter_submitted_until")
    due_after = DateTimeFilter(  # type: ignore[no-untyped-call]
        label=_("时限起"), field_name="due_at", lookup_expr="gte")
    due_before = DateTimeFilter(  # type: ignore[no-untyped-call]
        label=_("时限止"), field_name="due_at", lookup_expr="lt")
    overdue = django_filters.BooleanFilter(label=_("已超时（到场或办结）"),
                                           method="filter_overdue")
    supervised = django_filters.BooleanFilter(label=_("督办"))
    q = django_filters.CharFilter(label=_("关键词"), method="filter_text")

    class Meta:
        model = Petition
        fields: list[str] = []

    def filter_area(self, queryset: QuerySet[Petition], name: str,
                    value: Area | None) -> QuerySet[Petition]:
        if value is None:
            return queryset
        return queryset.filter(Q(area_path__startswith=value.path)
                               | Q(origin_path__startswith=value.path))

    def filter_submitted_until(self, queryset: QuerySet[Petition], name: str,
                               value: date | None) -> QuerySet[Petition]:
        if value is None:
            return queryset
        # The whole local day: before the next midnight.
        end = datetime.combine(value + timedelta(days=1), time(0),
                               tzinfo=timezone.get_current_timezone())
        return queryset.filter(submitted_at__lt=end)

    def filter_overdue(self, queryset: QuerySet[Petition], name: str,
                       value: bool | None) -> QuerySet[Petition]:
        if value is None:
            return queryset
        late = late_q(timezone.now())
        return queryset.filter(late) if value else queryset.exclude(late)

    def is_protected_lookup(self, name: str, value: Any) -> bool:
        if name == "q":
            return is_search_phone(value or "")
        return super().is_protected_lookup(name, value)

    def filter_text(self, queryset: QuerySet[Petition], name: str,
                    value: str) -> QuerySet[Petition]:
        term = value.strip()
        if not term:
            return queryset
        if is_search_phone(term):
            return queryset.filter(contact_phone=_search_digits(term))
        number = term.removeprefix("#")
        if number.isascii() and number.isdigit() and len(number) <= MAX_ID_DIGITS:
            return queryset.filter(pk=int(number))
        return queryset.filter(Q(description__icontains=term)
                               | Q(location_text__icontains=term))


def is_search_phone(term: str) -> bool:
    """A search term that is a whole phone number, not a petition number (`#1234567` is one)."""
    term = term.strip()
    return not term.startswith("#") and is_phone_term(term)
