"""FilterSets of the party organisation (the territory's are in territory.filters)."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from django_filters.filterset import FilterSet

from core.filters import IdFilter
from governance.models import OrgNode


class OrgNodeFilterSet(FilterSet):
    kind = django_filters.ChoiceFilter(choices=OrgNode.Kind.choices, label=_("类型"))
    compound = IdFilter(field_name="compound_id", label=_("小区"))

    class Meta:
        model = OrgNode
        fields = ["kind", "compound"]
