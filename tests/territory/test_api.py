"""Read API for the territory tree and buildings, and the schema of this app's endpoints."""

from __future__ import annotations

from django.urls import include, path, reverse
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from territory.models import Area
from tests.governance.factories import area_child


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_areas_within_a_community_are_its_subtree_in_constant_queries(
        territory, grid_worker, django_assert_max_num_queries):
    client = client_for(grid_worker)
    with django_assert_max_num_queries(1):
        response = client.get(reverse("api:governance-area-list"),
                              {"within": territory.community.pk})
    names = [row["name"] for row in response.json()["results"]]
    assert names == ["富春江路社区", "网格一", "微网格一", "微网格二"]
    # A deeper tree, more rows: still one query.
    for index in range(5):
        area_child(Area.objects.get(pk=territory.grid.pk), name=f"微网格{index + 3}",
                   kind=Area.Kind.MICROGRID)
    with django_assert_max_num_queries(1):
        response = client.get(reverse("api:governance-area-list"),
                              {"within": territory.community.pk, "kind": "microgrid"})
    assert len(response.json()["results"]) == 7


def test_an_unknown_area_in_within_gives_an_empty_list_and_a_bad_kind_a_400(territory,
                                                                           grid_worker):
    client = client_for(grid_worker)
    response = client.get(reverse("api:governance-area-list"), {"within": 987654})
    assert response.json()["results"] == []
    response = client.get(reverse("api:governance-area-list"), {"kind": "planet"})
    assert response.status_code == 400


def test_the_ancestors_of_a_micro_grid_are_listed_from_the_root(
        territory, grid_worker, django_assert_max_num_queries):
    client = client_for(grid_worker)
    with django_assert_max_num_queries(2):
        response = client.get(reverse("api:governance-area-ancestors",
                                      args=[territory.micro2.pk]))
    assert [row["kind"] for row in response.json()] == ["street", "community", "grid"]


def test_an_unknown_area_is_404(territory, grid_worker):
    client = client_for(grid_worker)
    assert client.get(reverse("api:governance-area-detail", args=[987654])).status_code == 404
    assert client.get(reverse("api:governance-area-ancestors", args=[987654])).status_code == 404


def test_buildings_are_listed_with_compound_and_micro_grid_without_n_plus_one(
        territory, outsider, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        response = client_for(outsider).get(reverse("api:governance-building-list"),
                                            {"within": territory.grid.pk})
    rows = response.json()["results"]
    assert {row["number"] for row in rows} == {"1", "2", "3"}
    assert rows[0]["compound"]["name"] == "长江瑞城"


def test_anonymous_users_cannot_read_the_territory(territory):
    assert APIClient().get(reverse("api:governance-area-list")).status_code in (401, 403)


def test_this_app_and_residents_produce_an_openapi_schema_without_warnings(db):
    patterns = [path("api/v1/", include(([
        path("", include("territory.api.urls")),
        path("", include("residents.api.urls")),
    ], "api"), namespace="api"))]
    GENERATOR_STATS.reset()
    schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)
    assert not GENERATOR_STATS, (GENERATOR_STATS._warn_cache, GENERATOR_STATS._error_cache)
    assert "/api/v1/party-members/public/" in schema["paths"]
    parameters = {parameter["name"] for parameter in
                  schema["paths"]["/api/v1/areas/"]["get"]["parameters"]}
    assert {"within", "kind", "cursor"} <= parameters
