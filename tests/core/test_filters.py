"""core.filters.filterset_apply builds only the filters a query names, with the same outcome."""

from __future__ import annotations

import django_filters
import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.http import QueryDict

from core.filters import filterset_apply
from petitions.filters import PetitionFilter
from petitions.models import Petition


def _whole_filterset_sql(query: str) -> str:
    """What django-filter makes of the query with every declared filter built."""
    filterset = PetitionFilter(QueryDict(query), queryset=Petition.objects.all())
    assert filterset.is_valid()
    return str(filterset.qs.query)


@pytest.mark.django_db
@time_machine.travel("2026-05-06 09:30:00+08:00", tick=False)
@pytest.mark.parametrize("query", [
    "state=dispatched&state=on_site",
    "overdue=true&q=楼道&submitted_after=2026-05-01T00:00:00%2B08:00&cursor=abc",
    "tier=grid&supervised=false&page_size=5",
])
def test_the_named_filters_alone_filter_as_the_whole_filterset_does(query):
    narrowed = filterset_apply(PetitionFilter, QueryDict(query), Petition.objects.all())
    assert str(narrowed.query) == _whole_filterset_sql(query)


@pytest.mark.django_db
def test_a_query_that_names_no_filter_leaves_the_rows_as_they_are():
    rows = Petition.objects.filter(state="dispatched")
    assert filterset_apply(PetitionFilter, QueryDict("page_size=5&cursor=abc"), rows) is rows


@pytest.mark.django_db
def test_a_bad_value_is_refused_with_the_same_messages():
    query = QueryDict("state=nonsense&overdue=maybe&building=x")
    whole = PetitionFilter(query, queryset=Petition.objects.all())
    assert not whole.is_valid()
    with pytest.raises(ValidationError, match="nonsense") as refused:
        filterset_apply(PetitionFilter, query, Petition.objects.all())
    assert refused.value.message_dict == {
        field: [error["message"] for error in errors]
        for field, errors in whole.errors.get_json_data().items()}


class _RequiredStateFilter(django_filters.FilterSet):
    state = django_filters.CharFilter(required=True)
    tier = django_filters.CharFilter()

    class Meta:
        model = Petition
        fields: list[str] = []


@pytest.mark.django_db
def test_a_required_filter_is_still_required_when_the_query_omits_it():
    with pytest.raises(ValidationError, match="state") as refused:
        filterset_apply(_RequiredStateFilter, QueryDict("tier=grid"), Petition.objects.all())
    assert set(refused.value.message_dict) == {"state"}


@pytest.mark.django_db
def test_the_category_filter_narrows_by_id_without_a_query_once_the_ids_are_known(
        django_assert_num_queries):
    from petitions.models import Category

    lights = Category.objects.create(name="路灯")
    Category.objects.create(name="噪音")
    query = QueryDict(f"category={lights.pk}")
    rows = filterset_apply(PetitionFilter, query, Petition.objects.all())
    assert f'"category_id" = {lights.pk}' in str(rows.query)
    with django_assert_num_queries(0):  # the ids are remembered: no row fetched to compare
        filterset_apply(PetitionFilter, query, Petition.objects.all())


@pytest.mark.django_db
def test_the_category_filter_refuses_an_unknown_id_and_accepts_one_added_since():
    from petitions.models import Category

    Category.objects.create(name="路灯")
    filterset_apply(PetitionFilter, QueryDict("category=1"), Petition.objects.all())  # remembers
    with pytest.raises(ValidationError, match="选择一个有效的选项"):
        filterset_apply(PetitionFilter, QueryDict("category=999999"), Petition.objects.all())
    added = Category.objects.create(name="新增分类")  # after the ids were remembered
    rows = filterset_apply(PetitionFilter, QueryDict(f"category={added.pk}"),
                           Petition.objects.all())
    assert list(rows) == []
