"""territory.locator: the spellings of one address, coordinates, radius and boundaries."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from territory.addresses import AddressBook, chinese_number, normalize
from territory.geo import boundary_parse, haversine_metres, offset, rectangle
from territory.locator import Locator
from territory.models import Area, Building, Compound, CompoundAlias
from tests.governance.factories import area_child, area_root

CENTRE = (35.965, 120.179)


@pytest.fixture
def ruicheng(db):
    """长江瑞城: 15 buildings in five micro-grids (3 each, rows 80 m apart, buildings 50 m apart
    in a row) with an old name and a door number as aliases; and 黄河小区 (buildings 1–3) in
    another community."""
    street = area_root()
    community = area_child(street, name="富春江路社区", kind=Area.Kind.COMMUNITY)
    grid = area_child(community, name="网格一", kind=Area.Kind.GRID)
    micros = [area_child(grid, name=f"微网格{row + 1}", kind=Area.Kind.MICROGRID)
              for row in range(5)]
    other_community = area_child(street, name="黄河路社区", kind=Area.Kind.COMMUNITY)
    other_grid = area_child(other_community, name="黄河网格", kind=Area.Kind.GRID)
    other_micro = area_child(other_grid, name="黄河微网格", kind=Area.Kind.MICROGRID)
    compound = Compound.objects.create(name="长江瑞城", community=community,
                                       latitude=Decimal("35.965"), longitude=Decimal("120.179"))
    CompoundAlias.objects.create(compound=compound, alias="富春江路88号")
    CompoundAlias.objects.create(compound=compound, alias="瑞城花园")
    buildings = {}
    for index in range(15):
        row, column = divmod(index, 3)
        lat, lng = offset(*CENTRE, north_metres=80.0 * row, east_metres=50.0 * column)
        buildings[index + 1] = Building.objects.create(
            compound=compound, micro_grid=micros[row], number=str(index + 1),
            latitude=Decimal(f"{lat:.6f}"), longitude=Decimal(f"{lng:.6f}"))
    other = Compound.objects.create(name="黄河小区", community=other_community)
    for number in ("1", "2", "3"):
        Building.objects.create(compound=other, micro_grid=other_micro, number=number)
    return {"street": street, "community": community, "micros": micros, "compound": compound,
            "buildings": buildings, "other_community": other_community}


@pytest.mark.parametrize("address", [
    "长江瑞城7号楼1单元101",
    "长江瑞城 7栋 1单元 101室",
    "长江瑞城七号楼一单元101",
    "长江瑞城七号楼一单元一零一室",
    "长江瑞城７号楼１单元１０１",
    "长江瑞城7-1-101",
    "长江瑞城-7-1-101",
    "长江瑞城 7 号楼",
    "长江瑞城第7幢",
    "长江瑞城小区7号楼2单元1202",
    "富春江路88号长江瑞城7#楼",
    "富春江路88号7号楼",
    "瑞城花园7号楼1单元101",
    "山东省青岛市黄岛区长江路街道富春江路社区长江瑞城7号楼1单元101",
    "青岛市西海岸新区长江路街道长江瑞城（富春江路88号）7栋",
    "长江瑞城7號樓1單元101",
])
def test_every_spelling_of_one_address_finds_building_7(ruicheng, address):
    location = Locator.for_scope().locate(address=address)
    assert location.building_id == ruicheng["buildings"][7].pk, location.reason
    assert location.micro_grid_id == ruicheng["micros"][2].pk
    assert location.method == "address"


def test_unit_and_room_are_read_from_the_address(ruicheng):
    location = Locator.for_scope().locate(address="长江瑞城十五号楼二单元1202室")
    assert location.building_id == ruicheng["buildings"][15].pk
    assert (location.unit, location.room) == ("2", "1202")


def test_a_bare_building_number_is_placed_only_when_one_compound_has_it(ruicheng):
    # 7幢 exists only in 长江瑞城; 3号楼 exists in both compounds of the street.
    assert Locator.for_scope().locate(address="7幢1-101").building_id == ruicheng["buildings"][7].pk
    ambiguous = Locator.for_scope().locate(address="3号楼")
    assert ambiguous.building_id is None
    assert "对应多个小区" in ambiguous.reason
    # A key scoped to 富春江路社区 only chooses among its own compound: 3号楼 is then 长江瑞城's.
    scoped = Locator.for_scope(ruicheng["community"].path).locate(address="3号楼")
    assert scoped.building_id == ruicheng["buildings"][3].pk


def test_an_unknown_building_names_the_compound_and_its_community(ruicheng):
    location = Locator.for_scope().locate(address="长江瑞城20号楼")
    assert location.building_id is None
    assert location.community_id == ruicheng["community"].pk
    assert "没有 20 号楼" in location.reason


def test_an_unreadable_address_says_so(ruicheng):
    location = Locator.for_scope().locate(address="某路某号")
    assert (location.building_id, location.community_id) == (None, None)
    assert "未能从地址识别" in location.reason


def test_aliases_are_editable_rows_of_the_compound(ruicheng):
    # 3号楼 alone is ambiguous (both compounds have one): the new alias decides.
    assert Locator.for_scope().locate(address="瑞城新苑3号楼").building_id is None
    CompoundAlias.objects.create(compound=ruicheng["compound"], alias="瑞城新苑")
    found = Locator.for_scope().locate(address="瑞城新苑3号楼")
    assert found.building_id == ruicheng["buildings"][3].pk


# --- coordinates -----------------------------------------------------------------------------


def _near(building: Building, *, north: float = 0.0, east: float = 0.0) -> tuple[float, float]:
    return offset(float(building.latitude), float(building.longitude), north_metres=north,
                  east_metres=east)


def test_a_point_near_a_building_finds_it(ruicheng):
    lat, lng = _near(ruicheng["buildings"][8], north=12, east=-9)
    location = Locator.for_scope().locate(latitude=lat, longitude=lng)
    assert (location.building_id, location.method) == (ruicheng["buildings"][8].pk,
                                                       "coordinates")


def test_a_point_beyond_the_radius_is_not_placed_but_names_the_compound_nearby(ruicheng):
    lat, lng = _near(ruicheng["buildings"][3], east=170)
    location = Locator.for_scope(radius_metres=150).locate(latitude=lat, longitude=lng)
    assert location.building_id is None
    assert "150 米内没有楼栋" in location.reason
    assert location.community_id == ruicheng["community"].pk  # 长江瑞城's centre is 270 m away
    # With a larger radius the same point reaches building 3.
    wider = Locator.for_scope(radius_metres=200).locate(latitude=lat, longitude=lng)
    assert wider.building_id == ruicheng["buildings"][3].pk


def test_far_away_coordinates_name_nothing(ruicheng):
    location = Locator.for_scope().locate(latitude=31.2, longitude=121.4)
    assert (location.building_id, location.micro_grid_id, location.community_id) == (
        None, None, None)


def test_a_point_inside_a_micro_grid_boundary_is_placed_there_without_a_building(ruicheng):
    micro = ruicheng["micros"][4]
    west_lat, west_lng = _near(ruicheng["buildings"][13], east=-400)
    micro.boundary = rectangle(south=west_lat - 0.001, west=west_lng - 0.001,
                               north=west_lat + 0.001, east=west_lng + 0.001)
    micro.full_clean()
    micro.save(update_fields=["boundary"])
    inside = Locator.for_scope().locate(latitude=west_lat, longitude=west_lng)
    assert (inside.building_id, inside.micro_grid_id, inside.method) == (None, micro.pk,
                                                                         "boundary")
    outside = Locator.for_scope().locate(latitude=west_lat + 0.002, longitude=west_lng)
    assert outside.micro_grid_id is None


def test_inside_a_boundary_the_nearest_building_of_that_micro_grid_wins(ruicheng):
    # The point is 10 m from building 4 (微网格2) but inside 微网格1's boundary, which reaches
    # over the line: the street's boundary decides, then its own nearest building (1, 70 m).
    micro1 = ruicheng["micros"][0]
    lat, lng = _near(ruicheng["buildings"][4], north=-10)
    micro1.boundary = rectangle(south=lat - 0.002, west=lng - 0.002, north=lat + 0.0002,
                                east=lng + 0.002)
    micro1.save(update_fields=["boundary"])
    location = Locator.for_scope().locate(latitude=lat, longitude=lng)
    assert (location.building_id, location.micro_grid_id) == (ruicheng["buildings"][1].pk,
                                                               micro1.pk)


def test_an_address_wins_over_coordinates_and_coordinates_help_an_unreadable_address(ruicheng):
    lat, lng = _near(ruicheng["buildings"][8])
    both = Locator.for_scope().locate(address="长江瑞城7号楼", latitude=lat, longitude=lng)
    assert both.building_id == ruicheng["buildings"][7].pk
    helped = Locator.for_scope().locate(address="东门旁边", latitude=lat, longitude=lng)
    assert (helped.building_id, helped.method) == (ruicheng["buildings"][8].pk, "coordinates")


# --- pure parts ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "number"), [
    ("七", "7"), ("十五", "15"), ("二十三", "23"), ("一百零五", "105"), ("一零一", "101"),
    ("两", "2"),
])
def test_chinese_numerals_become_digits(text, number):
    assert chinese_number(text) == number


def test_normalising_folds_full_width_spaces_and_numerals():
    assert normalize(" 长江瑞城　７栋 一单元（101室） ") == "长江瑞城7栋1单元101室"


def test_a_compound_of_the_same_name_in_two_communities_needs_the_building_to_decide():
    book = AddressBook(compounds=[(1, "阳光花园", []), (2, "阳光花园", [])],
                       buildings=[(10, 1, "1"), (11, 1, "2"), (20, 2, "1")])
    assert book.match("阳光花园2号楼").building_id == 11
    assert book.match("阳光花园1号楼").building_id is None


def test_haversine_is_right_at_street_scale():
    lat, lng = offset(*CENTRE, north_metres=300, east_metres=400)
    assert haversine_metres(*CENTRE, lat, lng) == pytest.approx(500, abs=1)


@pytest.mark.parametrize(("geojson", "fragment"), [
    ({"type": "Point", "coordinates": [120, 35]}, "Polygon 或 MultiPolygon"),
    ({"type": "Polygon", "coordinates": [[[120, 35], [121, 35], [120, 35]]]}, "闭合"),
    ({"type": "Polygon", "coordinates": [[[35, 120], [35, 121], [36, 121], [35, 120]]]},
     "先经度后纬度"),
    ({"type": "Polygon", "coordinates": [[["a", 35], [121, 35], [121, 36], ["a", 35]]]},
     "数字对"),
])
def test_a_bad_boundary_is_refused_in_chinese(geojson, fragment):
    with pytest.raises(ValidationError, match=re.escape(fragment)) as raised:
        boundary_parse(geojson)
    assert fragment in " ".join(raised.value.messages)


def test_a_polygon_with_a_hole_and_a_multipolygon(db):
    outer = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]
    hole = [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]
    boundary = boundary_parse({"type": "Polygon", "coordinates": [outer, hole]})
    assert boundary.contains(2, 2)
    assert not boundary.contains(5, 5)
    assert not boundary.contains(11, 5)
    multi = boundary_parse({"type": "Feature", "geometry": {
        "type": "MultiPolygon", "coordinates": [[outer], [[[20, 20], [30, 20], [30, 30],
                                                           [20, 20]]]]}})
    assert multi.contains(5, 5)
    assert multi.contains(lat=22, lng=28)


def test_a_boundary_saved_around_the_check_is_skipped_not_a_500(ruicheng):
    Area.objects.filter(pk=ruicheng["micros"][0].pk).update(boundary={"type": "Point"})
    lat, lng = _near(ruicheng["buildings"][8])
    assert Locator.for_scope().locate(latitude=lat, longitude=lng).building_id == (
        ruicheng["buildings"][8].pk)


def test_the_locator_for_a_scope_loads_in_four_queries(ruicheng, django_assert_num_queries):
    with django_assert_num_queries(4):
        Locator.for_scope(ruicheng["micros"][2].path)


def test_a_micro_grid_scope_still_knows_its_compound_by_name(ruicheng):
    scoped = Locator.for_scope(ruicheng["micros"][2].path)
    assert scoped.locate(address="长江瑞城7号楼").building_id == ruicheng["buildings"][7].pk
    assert scoped.locate(address="长江瑞城1号楼").building_id is None  # 微网格1: out of scope


def test_the_admin_form_checks_a_micro_grids_boundary(ruicheng):
    micro = ruicheng["micros"][0]
    micro.boundary = {"type": "Polygon", "coordinates": []}
    with pytest.raises(ValidationError, match="多边形须包含至少一个环") as raised:
        micro.full_clean()
    assert "boundary" in raised.value.message_dict
