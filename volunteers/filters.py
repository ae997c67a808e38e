"""FilterSets shared by the staff dashboard and the API (applied inside selectors)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django_filters.filterset import FilterSet

from core.filters import IdFilter, IsoDateTimeFilter
from volunteers.models import (
    Activity,
    CareFile,
    HoursEntry,
    MicroWish,
    ProxyService,
    Shift,
    Volunteer,
)


class ActivityFilter(FilterSet):
    # core's IsoDateTimeFilter keeps django-filter's untyped __init__ (untyped_calls_exclude
    # covers django_filters' own classes, not our subclasses of them).
    starts_after = IsoDateTimeFilter(  # type: ignore[no-untyped-call]
        field_name="starts_at", lookup_expr="gte")
    starts_before = IsoDateTimeFilter(  # type: ignore[no-untyped-call]
        field_name="starts_at", lookup_expr="lt")

    class Meta:
        model = Activity
        fields = ["kind", "status", "team", "compound"]


class HoursEntryFilter(FilterSet):
    year = django_filters.NumberFilter(field_name="served_on", lookup_expr="year",
                                       min_value=1, max_value=9999)

    class Meta:
        model = HoursEntry
        fields = ["status", "source", "volunteer", "activity"]


class VolunteerFilter(FilterSet):
    team = IdFilter(field_name="memberships__team")
    is_party_member = django_filters.BooleanFilter(field_name="party_member",
                                                   lookup_expr="isnull", exclude=True)

    class Meta:
        model = Volunteer
        fields = ["identity", "compound", "is_active"]


class ShiftFilter(FilterSet):
    date_from = django_filters.DateFilter(field_name="starts_at", lookup_expr="date__gte")
    date_to = django_filters.DateFilter(field_name="starts_at", lookup_expr="date__lte")

    class Meta:
        model = Shift
        fields = ["post", "status", "volunteer"]


class MicroWishFilter(FilterSet):
    class Meta:
        model = MicroWish
        fields = ["status", "compound"]


class ProxyServiceFilter(FilterSet):
    class Meta:
        model = ProxyService
        fields = ["status", "kind", "compound", "assignee"]


class CareFileFilter(FilterSet):
    is_overdue = django_filters.BooleanFilter(field_name="missed_count", method="filter_overdue")

    class Meta:
        model = CareFile
        fields = ["category", "risk", "frequency", "is_active"]

    def filter_overdue(self, queryset: QuerySet[CareFile], name: str,
                       value: bool) -> QuerySet[CareFile]:
        return queryset.filter(missed_count__gt=0) if value else queryset.filter(missed_count=0)
