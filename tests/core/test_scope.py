from __future__ import annotations

import pytest

from accounts.models import User
from core.scope import path_in_scope, scope_filter, scope_path
from residents.models import Household, Resident
from residents.rules import personal_data_path, register_path, visibility_path
from residents.selectors import household_list, resident_list
from territory.models import Area
from tests.accounts.factories import UserFactory
from tests.governance.factories import area_child
from tests.residents.factories import residents_populate


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


# --- constant query counts, personal-data scope, external systems ---------------------------

def deepen(parent: Area, levels: int) -> Area:
    """Grow a chain under `parent` (kinds are not checked here: only the paths matter)."""
    node = parent
    for level in range(levels):
        node = area_child(Area.objects.get(pk=node.pk), name=f"层{level}", kind=Area.Kind.GRID)
    return node


@pytest.mark.parametrize("levels", [0, 3, 8])
def test_a_subtree_and_the_ancestors_stay_one_query_at_any_depth(territory, levels,
                                                                 django_assert_num_queries):
    deepest = deepen(territory.micro1, levels)
    with django_assert_num_queries(1):
        assert len(list(Area.objects.within(territory.street))) == 8 + levels
    with django_assert_num_queries(1):
        assert len(list(Area.objects.get_ancestors(deepest))) == deepest.depth - 1


@pytest.mark.parametrize("per_household", [1, 5])
def test_a_scoped_resident_list_is_one_query_whatever_the_rows(territory, grid_worker,
                                                               per_household,
                                                               django_assert_num_queries):
    residents_populate([territory.household1, territory.household2, territory.other_household],
                       per_household=per_household)
    grid_worker = User.objects.get(pk=grid_worker.pk)  # the scope area is not cached yet
    with django_assert_num_queries(2):  # the scope area, then the list
        rows = list(resident_list(user=grid_worker))
    assert len(rows) == 2 * per_household
    assert {row.area_path[:12] for row in rows} == {territory.grid.path}


def test_scope_covers_the_subtree_only(territory, microgrid_worker, community_staff, outsider):
    household_path = territory.household1.building.micro_grid.path
    assert path_in_scope(microgrid_worker, household_path)
    assert path_in_scope(community_staff, household_path)
    assert not path_in_scope(outsider, household_path)
    assert not path_in_scope(microgrid_worker, territory.micro2.path)


def test_residents_and_anonymous_users_have_no_scope(territory, resident_user):
    from django.contrib.auth.models import AnonymousUser

    for user in (resident_user, AnonymousUser(), None):
        assert scope_path(user) is None
        assert personal_data_path(user) is None
        assert visibility_path(user) is None
        assert not resident_list(user=user).exists()


def test_a_resident_sees_only_their_own_household(territory, resident_user):
    assert list(household_list(user=resident_user)) == [territory.household1]


def test_an_external_system_lists_and_reads_personal_data_only_in_scope(territory):
    # Until issue 10 (item 9) a scoped key listed its whole street.
    system = UserFactory(username="hotline", role=User.Role.EXTERNAL_SYSTEM,
                         scope_area=territory.community)
    assert visibility_path(system) == register_path(system) == territory.community.path
    assert personal_data_path(system) == territory.community.path
    unscoped = UserFactory(username="dashboard", role=User.Role.EXTERNAL_SYSTEM)
    assert visibility_path(unscoped) == ""  # households (addresses) street-wide, for placement
    assert register_path(unscoped) is None  # and no resident
    assert personal_data_path(unscoped) is None
    assert Resident.objects.count() == 0


def test_a_superuser_without_a_scope_area_reads_everything(territory):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    assert personal_data_path(root) == ""
    assert visibility_path(root) == ""
