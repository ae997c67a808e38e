"""core.queries: statements compiled once, giving what the ORM gives."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from core.queries import instance_by_pk, values_by_ids
from petitions.models import Petition
from tests.petitions.factories import submit

pytestmark = pytest.mark.django_db

FIELDS = ("id", "state", "due_at", "supervised", "category__name", "building__number",
          "building__compound__name", "area__name")


def test_values_by_ids_gives_the_orms_values_in_the_order_asked(resident_user, territory):
    petitions = [submit(resident_user, building=building) for building in
                 (territory.building1, territory.building2, territory.building3)]
    ids = [petitions[2].pk, 999_999, petitions[0].pk, petitions[1].pk, petitions[0].pk]
    expected = {row["id"]: row for row in Petition.objects.filter(pk__in=ids).values(*FIELDS)}
    for _round in range(2):  # compiled, then reused
        rows = values_by_ids(Petition, FIELDS, ids)
        assert [row["id"] for row in rows] == [petitions[2].pk, petitions[0].pk, petitions[1].pk]
        assert rows == [expected[row["id"]] for row in rows]
    assert rows[0]["due_at"].tzinfo is not None  # converted as the ORM converts
    assert values_by_ids(Petition, FIELDS, []) == []


def test_instance_by_pk_gives_the_orms_user_with_their_scope_area_in_one_query(grid_worker,
                                                                              resident_user):
    for user in (grid_worker, resident_user, grid_worker):  # with a scope area, without
        expected = User.objects.select_related("scope_area").get(pk=user.pk)
        with CaptureQueriesContext(connection) as queries:
            loaded = instance_by_pk(User, str(user.pk), select_related=("scope_area",))
            scope = loaded.scope_area  # cached on it: no second query
        assert len(queries.captured_queries) == 1
        assert loaded is not None and loaded._state.adding is False
        assert {field.attname: getattr(loaded, field.attname) for field in User._meta.fields} \
            == {field.attname: getattr(expected, field.attname) for field in User._meta.fields}
        assert scope == expected.scope_area
        if scope is not None:
            assert scope.path == expected.scope_area.path
    assert instance_by_pk(User, 999_999, select_related=("scope_area",)) is None
    assert instance_by_pk(User, "not-an-id", select_related=("scope_area",)) is None
