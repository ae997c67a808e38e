"""FilterSets shared by the API lists (and usable by the dashboard)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django_filters.filterset import FilterSet

from core.filters import IdFilter
from deliberation.models import ActionItem, Need, Project, Resource, Session, Survey, Topic


class SessionFilter(FilterSet):
    starts_after = django_filters.DateFilter(field_name="starts_at", lookup_expr="date__gte")
    starts_before = django_filters.DateFilter(field_name="starts_at", lookup_expr="date__lte")
    is_published = django_filters.BooleanFilter(field_name="published_at",
                                                lookup_expr="isnull", exclude=True)

    class Meta:
        model = Session
        fields = ["compound", "kind", "status", "mode"]


class TopicFilter(FilterSet):
    session = IdFilter(field_name="session_id")
    petition = IdFilter(field_name="petition_id")
    is_published = django_filters.BooleanFilter(field_name="published_at",
                                                lookup_expr="isnull", exclude=True)

    class Meta:
        model = Topic
        fields = ["compound", "status", "channel", "scale"]


class ActionItemFilter(FilterSet):
    is_overdue = django_filters.BooleanFilter(method="filter_overdue")
    topic = IdFilter(field_name="topic_id")

    class Meta:
        model = ActionItem
        fields = ["status"]

    def filter_overdue(self, queryset: QuerySet[ActionItem], name: str, value: bool
                       ) -> QuerySet[ActionItem]:
        overdue = {"status": ActionItem.Status.OPEN, "deadline__lt": timezone.localdate()}
        return queryset.filter(**overdue) if value else queryset.exclude(**overdue)


class NeedFilter(FilterSet):
    class Meta:
        model = Need
        fields = ["compound", "source", "status"]


class ResourceFilter(FilterSet):
    class Meta:
        model = Resource
        fields = ["compound", "kind"]


class ProjectFilter(FilterSet):
    class Meta:
        model = Project
        fields = ["compound", "kind", "status"]


class SurveyFilter(FilterSet):
    class Meta:
        model = Survey
        fields = ["compound", "year", "quarter"]
