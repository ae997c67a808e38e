"""One FilterSet for the staff pages and the API (applied inside petitions.selectors)."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.filters import DateTimeFilter
from governance.models import Area
from petitions import policy
from petitions.models import Category, Petition, PetitionState, Tier


class PetitionFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(label=_("状态"), choices=PetitionState.choices)
    tier = django_filters.MultipleChoiceFilter(label=_("层级"), choices=Tier.choices)
    size = django_filters.MultipleChoiceFilter(label=_("大小"), choices=Petition.Size.choices)
    channel = django_filters.MultipleChoiceFilter(label=_("渠道"),
                                                  choices=Petition.Channel.choices)
    category = django_filters.ModelChoiceFilter(label=_("分类"),
                                                queryset=Category.objects.all())
    area = django_filters.ModelChoiceFilter(label=_("区域（含下级）"), queryset=Area.objects.all(),
                                            method="filter_area")
    submitted_after = DateTimeFilter(label=_("受理时间起"), field_name="submitted_at",
                                     lookup_expr="gte")
    submitted_before = DateTimeFilter(label=_("受理时间止"), field_name="submitted_at",
                                      lookup_expr="lt")
    due_after = DateTimeFilter(label=_("时限起"), field_name="due_at", lookup_expr="gte")
    due_before = DateTimeFilter(label=_("时限止"), field_name="due_at", lookup_expr="lt")
    overdue = django_filters.BooleanFilter(label=_("已超时"), method="filter_overdue")
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

    def filter_overdue(self, queryset: QuerySet[Petition], name: str,
                       value: bool | None) -> QuerySet[Petition]:
        if value is None:
            return queryset
        overdue = policy.overdue_q(timezone.now())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def filter_text(self, queryset: QuerySet[Petition], name: str,
                    value: str) -> QuerySet[Petition]:
        value = value.strip()
        if not value:
            return queryset
        if value.lstrip("#").isdigit():
            return queryset.filter(pk=int(value.lstrip("#")))
        return queryset.filter(description__icontains=value)
