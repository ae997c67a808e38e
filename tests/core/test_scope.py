from __future__ import annotations

from core.scope import scope_filter
from governance.models import Area
from residents.models import Household


def test_a_grid_worker_sees_only_households_under_their_grid(territory, grid_worker):
    visible = scope_filter(Household.objects.all(), grid_worker, Household.SCOPE_PATH)
    assert set(visible.values_list("pk", flat=True)) == {
        territory.household1.pk, territory.household2.pk
    }


def test_a_subtree_is_one_query_whatever_the_depth(territory, django_assert_num_queries):
    with django_assert_num_queries(1):
        names = list(Area.objects.within(territory.community).values_list("name", flat=True))
    assert names == ["富春江路社区", "网格一", "微网格一", "微网格二"]


def test_ancestors_are_one_query(territory, django_assert_num_queries):
    micro = Area.objects.get(pk=territory.micro2.pk)
    with django_assert_num_queries(1):
        kinds = [area.kind for area in Area.objects.get_ancestors(micro)]
    assert kinds == ["street", "community", "grid"]
