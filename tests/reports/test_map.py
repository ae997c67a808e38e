"""The one map (一张图): outlines checked in the admin's clean(), the data endpoint's GeoJSON
(RFC 7946, checked by a small structural checker below), its counts per building computed by
hand for a fixed month, the filters, the scope, the constant number of queries, and the list
each building opens."""

from __future__ import annotations

import copy
import re
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config.settings.base import tile_source
from petitions.models import Petition, PetitionState, Tier
from reports.selectors import map_geometry
from territory.geo import rectangle
from tests.petitions.factories import category, submit

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
DATA_URL = reverse("reports:map-data")
PAGE_URL = reverse("reports:map")
QUEUE_URL = reverse("petitions:staff-queue")
BOX = rectangle(south=35.9675, west=120.1860, north=35.9676, east=120.1867)


# --- a structural RFC 7946 checker -----------------------------------------------------------


def check_position(position: Any) -> None:
    assert isinstance(position, list) and len(position) in (2, 3), position
    assert all(isinstance(number, int | float) and not isinstance(number, bool)
               for number in position), position
    lng, lat = position[:2]
    assert -180 <= lng <= 180 and -90 <= lat <= 90, f"not [lng, lat]: {position}"


def check_polygon(rings: Any) -> None:
    assert isinstance(rings, list) and rings
    for ring in rings:
        assert isinstance(ring, list) and len(ring) >= 4, "a linear ring has 4 positions or more"
        for position in ring:
            check_position(position)
        assert ring[0] == ring[-1], "a linear ring is closed"


def check_geometry(geometry: Any) -> None:
    if geometry is None:  # §3.2: an unlocated feature
        return
    assert isinstance(geometry, dict)
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "Point":
        check_position(coordinates)
    elif kind == "Polygon":
        check_polygon(coordinates)
    elif kind == "MultiPolygon":
        assert isinstance(coordinates, list) and coordinates
        for polygon in coordinates:
            check_polygon(polygon)
    else:
        raise AssertionError(f"unexpected geometry type {kind!r}")


def check_feature_collection(document: Any) -> None:
    assert isinstance(document, dict) and document["type"] == "FeatureCollection"
    assert isinstance(document["features"], list)
    for feature in document["features"]:
        assert feature["type"] == "Feature"
        assert "geometry" in feature and "properties" in feature
        assert isinstance(feature["properties"], dict)
        assert isinstance(feature.get("id", ""), str | int)
        check_geometry(feature["geometry"])


# --- the data --------------------------------------------------------------------------------


def petition(when: datetime, *, building: Any, name: str = "环境卫生",
             state: str = PetitionState.DISPATCHED, **fields: Any) -> Petition:
    """A petition through the real service at `when`, then set to the facts the map reads."""
    with time_machine.travel(when, tick=False):
        created = submit(None, building=building, category=category(name),
                         contact_name="王阿姨", contact_phone="13800001111",
                         location_text="" if building else "富春江路口")
    Petition.objects.filter(pk=created.pk).update(state=state, **fields)
    return created


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def month(territory: Any, time_machine: Any) -> dict[str, Any]:
    """Eight petitions around November 2026; the clock stands on 20 November (so "this month"
    is 1–20 November). building1 has an outline, building2 a point, building3 neither."""
    t = territory
    t.compound.outline = rectangle(south=35.9670, west=120.1855, north=35.9682, east=120.1875)
    t.compound.save(update_fields=["outline"])
    t.building1.outline = BOX
    t.building1.save(update_fields=["outline"])
    t.building2.latitude, t.building2.longitude = Decimal("35.967800"), Decimal("120.186500")
    t.building2.save(update_fields=["latitude", "longitude"])
    ids = {
        1: petition(at(11, 3), building=t.building1),
        2: petition(at(11, 4), building=t.building1, state=PetitionState.CLOSED),
        3: petition(at(11, 5), building=t.building1, name="设施维修", tier=Tier.GRID),
        4: petition(at(11, 6), building=t.building2, name="设施维修",
                    state=PetitionState.RESOLVED),
        5: petition(at(11, 10), building=t.building3, state=PetitionState.SUBMITTED),
        6: petition(at(10, 28), building=t.building1),  # October's
        7: petition(at(11, 12), building=t.other_building),  # the other community
        8: petition(at(11, 8), building=None),  # placed on no building: on no building's count
    }
    time_machine.move_to(NOW, tick=False)
    return {number: created.pk for number, created in ids.items()}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def map_data(user: Any, params: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client_for(user).get(DATA_URL, params or {})
    assert response.status_code == 200, response.content.decode()
    assert response["Content-Type"] == "application/geo+json"
    document = response.json()
    check_feature_collection(document)
    return document


def by_name(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {feature["properties"]["name"]: feature for feature in document["features"]}


def totals(document: dict[str, Any]) -> dict[str, int]:
    return {feature["properties"]["name"]: feature["properties"]["total"]
            for feature in document["features"]}


# --- outlines --------------------------------------------------------------------------------


@pytest.mark.parametrize(("outline", "message"), [
    ({"type": "Polygon", "coordinates": [[[120.186, 35.9675], [120.1867, 35.9675],
                                          [120.1867, 35.9676], [120.186, 35.9676]]]},
     "首尾相同"),
    # [lat, lng] instead of [lng, lat]: 120 is no latitude.
    ({"type": "Polygon", "coordinates": [[[35.9675, 120.186], [35.9675, 120.1867],
                                          [35.9676, 120.1867], [35.9675, 120.186]]]},
     "先经度后纬度"),
    ({"type": "Point", "coordinates": [120.186, 35.9675]}, "Polygon 或 MultiPolygon"),
    ("not json", "Polygon 或 MultiPolygon"),
])
def test_a_bad_outline_is_refused_in_chinese_on_buildings_and_compounds(territory, outline,
                                                                         message):
    for place in (territory.building1, territory.compound):
        place.outline = outline
        with pytest.raises(ValidationError, match=re.escape(message)) as raised:
            place.full_clean()
        assert message in " ".join(raised.value.message_dict["outline"])


def test_a_polygon_or_multipolygon_outline_and_none_are_accepted(territory):
    for outline in (BOX, {"type": "MultiPolygon", "coordinates": [BOX["coordinates"]]}, None):
        territory.building1.outline = outline
        territory.building1.full_clean()
        territory.compound.outline = outline
        territory.compound.full_clean()


def test_the_admin_edits_the_outline_with_its_help(territory, street_admin):
    client = client_for(street_admin)
    page = client.get(reverse("admin:territory_building_change",
                              args=[territory.building1.pk])).content.decode()
    assert 'name="outline"' in page and "[经度, 纬度]" in page


def test_an_outline_saved_around_clean_is_drawn_as_its_point():
    point = {"type": "Point", "coordinates": [120.1865, 35.9678]}
    assert map_geometry({"type": "Polygon", "coordinates": [[[1, 2]]]},
                        Decimal("35.9678"), Decimal("120.1865")) == point
    assert map_geometry({"type": "Feature", "geometry": BOX}, None, None) == BOX
    assert map_geometry(None, None, None) is None


# --- the data endpoint -----------------------------------------------------------------------


def test_each_building_counts_this_months_petitions_by_category_and_state(month,
                                                                          street_admin):
    document = map_data(street_admin)
    features = by_name(document)
    # Compounds first (drawn beneath), then the buildings in the street admin's scope.
    assert [feature["properties"]["kind"] for feature in document["features"]] == [
        "compound", "compound", "building", "building", "building", "building"]
    assert totals(document) == {"长江瑞城": 5, "黄河小区": 1, "长江瑞城 1号楼": 3,
                                "长江瑞城 2号楼": 1, "长江瑞城 3号楼": 1, "黄河小区 9号楼": 1}
    first = features["长江瑞城 1号楼"]["properties"]
    assert first["open"] == 2
    assert [(item["name"], item["count"]) for item in first["by_category"]] == [
        ("环境卫生", 2), ("设施维修", 1)]
    assert {item["state"]: item["count"] for item in first["by_state"]} == {
        "dispatched": 2, "closed": 1}
    assert {item["label"] for item in first["by_state"]} == {"已派单", "已关闭"}
    assert features["长江瑞城 2号楼"]["properties"]["open"] == 0
    # The outline, else the point, else no location (still listed in the table).
    assert features["长江瑞城 1号楼"]["geometry"] == BOX
    assert features["长江瑞城 2号楼"]["geometry"] == {"type": "Point",
                                                    "coordinates": [120.1865, 35.9678]}
    assert features["长江瑞城 3号楼"]["geometry"] is None
    assert features["长江瑞城"]["geometry"]["type"] == "Polygon"
    assert document["filters"] == {"date_from": "2026-11-01", "date_to": "2026-11-20",
                                   "tier": "", "category": None, "state": ""}


def test_no_person_is_on_the_map(month, street_admin):
    body = client_for(street_admin).get(DATA_URL).content.decode()
    assert "王阿姨" not in body and "13800001111" not in body and "杂物" not in body


@pytest.mark.parametrize(("params", "expected"), [
    ({"category": "环境卫生"}, {"1": 2, "2": 0, "3": 1}),
    ({"state": "open"}, {"1": 2, "2": 0, "3": 1}),
    ({"state": "done"}, {"1": 1, "2": 1, "3": 0}),
    ({"tier": "grid"}, {"1": 1, "2": 0, "3": 0}),
    ({"date_from": "2026-10-01"}, {"1": 4, "2": 1, "3": 1}),
    ({"date_to": "2026-11-04"}, {"1": 2, "2": 0, "3": 0}),
    ({"date_from": "2026-10-01", "date_to": "2026-10-31"}, {"1": 1, "2": 0, "3": 0}),
])
def test_the_filters_narrow_the_counts(month, community_staff, params, expected):
    if "category" in params:
        params = {"category": category(params["category"]).pk}
    document = map_data(community_staff, params)
    assert totals(document) == {"长江瑞城": sum(expected.values()),
                                **{f"长江瑞城 {number}号楼": n for number, n in expected.items()}}


@pytest.mark.parametrize("params", [
    {"date_from": "2026-13-01"}, {"date_from": "0001-01-01"}, {"date_to": "9999-12-31"},
    {"date_from": "2026-11-10", "date_to": "2026-11-01"}, {"tier": "planet"},
    {"category": "abc"}, {"category": "99999999999999999999"}, {"state": "lost"},
])
def test_bad_filters_are_a_chinese_400_not_a_500(territory, street_admin, params):
    client = client_for(street_admin)
    response = client.get(DATA_URL, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and body["message"].startswith("筛选条件有误")
    page = client.get(PAGE_URL, params)
    assert page.status_code == 400 and "筛选条件有误" in page.content.decode()


def test_each_user_sees_only_the_buildings_of_their_scope(month, microgrid_worker, grid_worker,
                                                          outsider):
    assert totals(map_data(microgrid_worker)) == {"长江瑞城": 4, "长江瑞城 1号楼": 3,
                                                  "长江瑞城 2号楼": 1}
    assert set(totals(map_data(grid_worker))) == {"长江瑞城", "长江瑞城 1号楼", "长江瑞城 2号楼",
                                                  "长江瑞城 3号楼"}
    assert totals(map_data(outsider)) == {"黄河小区": 1, "黄河小区 9号楼": 1}


def test_only_staff_open_the_map(territory, resident_user):
    for url in (PAGE_URL, DATA_URL):
        assert client_for(resident_user).get(url).status_code == 404
        assert Client().get(url).status_code == 302  # to the sign-in page


def _copies(petition_id: int, count: int) -> None:
    stored = Petition.objects.get(pk=petition_id)
    rows = []
    for _index in range(count):
        row = copy.copy(stored)
        row.pk = None
        rows.append(row)
    Petition.objects.bulk_create(rows)


def test_the_data_costs_the_same_queries_as_the_petitions_double(month, street_admin):
    client = client_for(street_admin)
    params = {"category": category("环境卫生").pk}

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(DATA_URL, params)
        return len(captured.captured_queries), by_name(response.json())[
            "长江瑞城 1号楼"]["properties"]["total"]

    queries()  # the first request also remembers the categories' ids (the category filter)
    few, first_total = queries()
    for petition_id in month.values():
        _copies(petition_id, 1)
    assert queries() == (few, first_total * 2)
    # Session, user (with its scope), the categories of the form, the buildings, one GROUP BY.
    assert few == 5


# --- the page and its links ------------------------------------------------------------------


def test_the_page_carries_the_data_url_with_its_filters(month, street_admin):
    page = client_for(street_admin).get(PAGE_URL, {"state": "open"}).content.decode()
    # This month by default, written out so the date fields show it.
    assert ('data-petition-map data-src="/reports/map/data/?state=open&amp;'
            'date_from=2026-11-01&amp;date_to=2026-11-20"') in page
    assert 'name="date_from" value="2026-11-01"' in page
    assert "vendor/leaflet/leaflet.js" in page and "js/petition-map.js" in page
    assert "data-tile-url" not in page  # no tile server set: nothing leaves the intranet


def test_a_tile_server_is_added_to_the_page(month, street_admin, settings):
    settings.MAP_TILE_URL = "https://tiles.example.gov.cn/{z}/{x}/{y}.png"
    settings.MAP_TILE_ATTRIBUTION = "© 区规划局"
    page = client_for(street_admin).get(PAGE_URL).content.decode()
    assert 'data-tile-url="https://tiles.example.gov.cn/{z}/{x}/{y}.png"' in page
    assert 'data-tile-attribution="© 区规划局"' in page


def test_the_tile_servers_origin_is_what_the_csp_allows():
    assert tile_source("https://t0.tianditu.gov.cn/vec_w/wmts?tk=KEY") == (
        "https://t0.tianditu.gov.cn")
    assert tile_source("http://{s}.tiles.intranet/{z}/{x}/{y}.png") == "http://*.tiles.intranet"


def _rows(response: Any) -> set[int]:
    assert response.status_code == 200, response.content.decode()[:300]
    return {row["id"] for row in response.context["rows"]}


def test_a_buildings_link_opens_the_rows_it_counts(month, community_staff):
    client = client_for(community_staff)
    features = by_name(map_data(community_staff))
    link = features["长江瑞城 1号楼"]["properties"]["list_url"]
    assert link.startswith(f"{QUEUE_URL}?")
    assert _rows(client.get(link)) == {month[1], month[2], month[3]}
    narrowed = by_name(map_data(community_staff, {"state": "open", "tier": "microgrid"}))
    assert _rows(client.get(narrowed["长江瑞城 1号楼"]["properties"]["list_url"])) == {month[1]}
    assert _rows(client.get(features["长江瑞城 3号楼"]["properties"]["list_url"])) == {month[5]}
