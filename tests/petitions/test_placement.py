"""Placement for every channel: addresses and coordinates become a building, and what cannot be
placed is accepted into the 待分派 queue of the caller's scope (never refused), then placed by a
dispatcher in one action and dispatched to the micro-grid worker under the 7135 clocks."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.http import Http404
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import api_key_create
from core.exceptions import ApplicationError, PermissionDeniedError
from notifications.models import Notification
from petitions import services
from petitions.dispatch_queue import (
    petition_dispatch_queue,
    petition_place,
    petition_placement_quality,
)
from petitions.models import Petition
from petitions.services import petitions_sweep
from territory.geo import offset, rectangle
from territory.models import CompoundAlias
from tests.accounts.factories import UserFactory
from tests.petitions.factories import category, submit

OPEN311 = "/open311/v2/requests.json"
API = "/api/v1/petitions/"
# Building 3 of the shared territory stands here; buildings 1 and 2 stand 100 m and 200 m south.
B3 = (35.9650, 120.1790)


@pytest.fixture
def located(territory):
    """The shared territory with coordinates, an alias and a worker on 微网格二 too."""
    for building, south in ((territory.building3, 0), (territory.building2, 100),
                            (territory.building1, 200)):
        lat, lng = offset(*B3, north_metres=-south, east_metres=0)
        building.latitude, building.longitude = Decimal(f"{lat:.6f}"), Decimal(f"{lng:.6f}")
        building.save(update_fields=["latitude", "longitude"])
    CompoundAlias.objects.create(compound=territory.compound, alias="富春江路88号")
    return territory


@pytest.fixture
def micro2_worker(territory):
    return UserFactory(username="micro2", role=User.Role.MICROGRID_WORKER,
                       scope_area=territory.micro2, display_name="赵微网格员")


def open311_post(raw_key: str, **form: str):
    form = {"api_key": raw_key, "service_code": str(category().pk), "description": "楼道灯不亮",
            **form}
    return Client().post(OPEN311, form)


def created(response) -> Petition:
    assert response.status_code == 201, response.content
    body = json.loads(response.content)
    pk = body[0]["service_request_id"] if isinstance(body, list) else body["id"]
    return Petition.objects.get(pk=pk)


def key_client(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    return client


# --- automatic placement at acceptance -------------------------------------------------------


def test_an_unscoped_open311_key_posting_an_address_gets_201_and_the_building(territory):
    _api_key, raw_key = api_key_create(name="12345 热线")
    petition = created(open311_post(raw_key, address_string="长江瑞城 3号楼 1单元 101"))
    assert petition.building_id == territory.building3.pk


@pytest.mark.parametrize("address", [
    "长江瑞城3号楼1单元101", "长江瑞城 3栋 1单元 101室", "长江瑞城三号楼一单元101",
    "富春江路88号长江瑞城3#楼", "长江瑞城３号楼１单元１０１", "长江瑞城3-1-101",
    "山东省青岛市黄岛区长江路街道长江瑞城小区3幢",
])
def test_open311_addresses_reach_the_micro_grid_worker_with_the_clocks_from_acceptance(
        located, frozen, micro2_worker, address):
    _api_key, raw_key = api_key_create(name="12345 热线")
    petition = created(open311_post(raw_key, address_string=address, channel="hotline_12345"))
    assert (petition.building_id, petition.placement) == (located.building3.pk, "address")
    assert (petition.state, petition.holder_id) == ("dispatched", micro2_worker.pk)
    assert petition.placed_at == petition.submitted_at == timezone.now()
    assert petition.arrival_due_at == timezone.now() + timedelta(minutes=7)
    assert petition.due_at == timezone.now() + timedelta(days=1)
    assert petition.location_text == address  # the worker still reads what the caller said


def test_coordinates_alone_find_the_nearest_building(located, frozen, micro2_worker):
    _api_key, raw_key = api_key_create(name="12345 热线")
    lat, lng = offset(*B3, north_metres=-90, east_metres=20)  # 10 m from building 2
    petition = created(open311_post(raw_key, lat=f"{lat:.6f}", long=f"{lng:.6f}"))
    assert (petition.building_id, petition.placement) == (located.building2.pk, "coordinates")
    assert petition.origin_path == located.micro1.path


def test_coordinates_inside_a_micro_grid_boundary_place_it_on_that_micro_grid(
        located, frozen, micro2_worker):
    lat, lng = offset(*B3, north_metres=0, east_metres=1000)  # no building within 150 m
    located.micro2.boundary = rectangle(south=lat - 0.001, west=lng - 0.001, north=lat + 0.001,
                                        east=lng + 0.001)
    located.micro2.save(update_fields=["boundary"])
    _api_key, raw_key = api_key_create(name="12345 热线")
    petition = created(open311_post(raw_key, lat=f"{lat:.6f}", long=f"{lng:.6f}"))
    assert (petition.building_id, petition.area_id, petition.placement) == (
        None, located.micro2.pk, "boundary")
    assert petition.holder_id == micro2_worker.pk
    outside = created(open311_post(raw_key, lat=f"{lat + 0.01:.6f}", long=f"{lng:.6f}"))
    assert outside.placement == "pending"


def test_coordinates_beyond_the_radius_wait_in_the_queue_with_the_reason(located, frozen,
                                                                         settings):
    settings.PLACEMENT_RADIUS_METRES = 50
    _api_key, raw_key = api_key_create(name="12345 热线")
    lat, lng = offset(*B3, north_metres=0, east_metres=80)
    petition = created(open311_post(raw_key, lat=f"{lat:.6f}", long=f"{lng:.6f}"))
    assert (petition.placement, petition.holder_id, petition.state) == ("pending", None,
                                                                        "submitted")
    assert petition.placement_reason == "坐标 50 米内没有楼栋，也不在任何微网格边界内。"


def test_an_unreadable_address_from_a_street_key_waits_in_the_streets_queue_not_on_a_clock(
        located, frozen, street_admin):
    # Before: the petition landed on the street with no holder and its arrival clock running.
    _api_key, raw_key = api_key_create(name="街道平台", scope_area=located.street)
    petition = created(open311_post(raw_key, address_string="东门外的路灯"))
    assert (petition.placement, petition.area_id, petition.holder_id) == (
        "pending", located.street.pk, None)
    assert petition.arrival_due_at is None  # the 7 minutes run from dispatch
    assert petition.due_at == timezone.now() + timedelta(days=1)  # the resolution clock runs
    assert "未能从地址识别" in petition.placement_reason
    assert list(petition_dispatch_queue(user=street_admin)) == [petition]
    assert Notification.objects.filter(user=street_admin, title__contains=str(petition.pk))


def test_a_recognised_compound_narrows_the_queue_to_its_community(located, frozen,
                                                                  community_staff):
    _api_key, raw_key = api_key_create(name="12345 热线")
    petition = created(open311_post(raw_key, address_string="长江瑞城20号楼"))
    assert (petition.placement, petition.area_id) == ("pending", located.community.pk)
    assert "没有 20 号楼" in petition.placement_reason
    assert list(petition_dispatch_queue(user=community_staff)) == [petition]
    assert Notification.objects.filter(user=community_staff).count() == 1


def test_a_scoped_key_places_only_inside_its_scope(located, frozen):
    # 9号楼 is 黄河小区's; a key scoped to 富春江路社区 never places there.
    _api_key, raw_key = api_key_create(name="社区平台", scope_area=located.community)
    petition = created(open311_post(raw_key, address_string="黄河小区9号楼"))
    assert (petition.placement, petition.area_id) == ("pending", located.community.pk)


def test_the_rest_api_accepts_an_unplaceable_request_with_201(located, frozen):
    _api_key, raw_key = api_key_create(name="诉速办")
    response = key_client(raw_key).post(API, {
        "category": category().pk, "description": "噪音扰民", "location_text": "某路某号",
        "channel": "susuban"}, format="json")
    petition = created(response)
    body = response.json()
    assert (body["placement"], body["holder"], body["state"]) == ("pending", None, "submitted")
    assert body["placement_reason"] == petition.placement_reason != ""


def test_the_rest_api_places_an_address_like_open311(located, frozen, micro2_worker):
    _api_key, raw_key = api_key_create(name="诉速办")
    response = key_client(raw_key).post(API, {
        "category": category().pk, "description": "噪音扰民",
        "location_text": "长江瑞城3栋1单元101室"}, format="json")
    assert created(response).building_id == located.building3.pk
    assert response.json()["holder"]["id"] == micro2_worker.pk


def test_staff_recording_a_walk_in_by_address_get_it_placed(located, frozen, community_staff,
                                                            microgrid_worker):
    petition = services.petition_submit(
        actor=community_staff, category=category(), description="电梯异响", channel="walk_in",
        location_text="长江瑞城1号楼2单元", contact_phone="13700000000")
    assert (petition.building_id, petition.holder_id) == (located.building1.pk,
                                                          microgrid_worker.pk)


def test_a_resident_without_a_home_is_not_refused(located, frozen):
    homeless = UserFactory(username="visitor", role=User.Role.RESIDENT, phone="13800009999")
    petition = submit(homeless, location_text="长江瑞城2号楼门口")
    assert petition.building_id == located.building2.pk


# --- the queue and placing by hand -----------------------------------------------------------


@pytest.fixture
def waiting(located, frozen):
    _api_key, raw_key = api_key_create(name="12345 热线")
    return created(open311_post(raw_key, address_string="长江瑞城 东门岗亭旁"))


def test_a_dispatcher_places_it_in_one_action_and_it_reaches_the_micro_grid_worker(
        located, waiting, frozen, community_staff, micro2_worker):
    accepted = waiting.submitted_at
    frozen.shift(timedelta(minutes=30))
    petition = petition_place(petition_id=waiting.pk, actor=community_staff,
                              building_id=located.building3.pk)
    assert (petition.state, petition.holder_id) == ("dispatched", micro2_worker.pk)
    assert (petition.placement, petition.placed_at) == ("hand", timezone.now())
    assert (petition.area_id, petition.origin_path) == (located.micro2.pk, located.micro2.path)
    assert petition.dispatched_at == timezone.now()
    # The arrival clock starts at dispatch; the resolution deadline still counts from acceptance.
    assert petition.arrival_due_at == timezone.now() + timedelta(minutes=7)
    assert petition.due_at == accepted + timedelta(days=1)
    kinds = list(petition.events.values_list("kind", flat=True))
    assert kinds == ["submitted", "placed", "dispatched"]
    assert "未能识别楼栋" in petition.events.get(kind="placed").note
    assert Notification.objects.filter(user=micro2_worker).exists()
    assert not petition_dispatch_queue(user=community_staff).exists()


def test_waiting_in_the_queue_records_no_missed_arrival_but_the_tier_clock_escalates(
        located, waiting, frozen, community_staff, micro2_worker, grid_worker):
    frozen.shift(timedelta(days=1, minutes=1))
    petitions_sweep(now=timezone.now())
    waiting.refresh_from_db()
    assert not waiting.arrival_missed
    assert waiting.tier == "grid"
    # Placed late: it goes to the tier it has reached, the grid's worker, with the grid deadline.
    petition = petition_place(petition_id=waiting.pk, actor=community_staff,
                              building_id=located.building3.pk)
    assert (petition.tier, petition.area_id, petition.holder_id) == (
        "grid", located.grid.pk, grid_worker.pk)
    assert petition.due_at == petition.grid_due_at


def test_placing_on_a_micro_grid_without_a_worker_keeps_it_in_the_queue_with_that_reason(
        located, waiting, community_staff):
    petition = petition_place(petition_id=waiting.pk, actor=community_staff,
                              area_id=located.micro2.pk)
    assert (petition.placement, petition.state, petition.holder_id) == ("hand", "submitted",
                                                                        None)
    assert "暂无承办人" in petition.placement_reason
    assert list(petition_dispatch_queue(user=community_staff)) == [petition]


@pytest.mark.parametrize(("target", "error"), [
    ({}, "请选择一个楼栋或一个网格"),
    ({"building_id": "b1", "area_id": "micro1"}, "请选择一个楼栋或一个网格"),
    ({"area_id": "grid"}, "请定位到楼栋或微网格"),
    ({"building_id": "other_building"}, "只能定位到您管辖的区域"),
    ({"building_id": 999999}, "楼栋不存在"),
])
def test_placing_refuses_a_bad_target_in_chinese(located, waiting, community_staff, target,
                                                 error):
    names = {"b1": located.building1.pk, "micro1": located.micro1.pk, "grid": located.grid.pk,
             "other_building": located.other_building.pk}
    arguments = {key: names.get(value, value) for key, value in target.items()}
    with pytest.raises(ApplicationError, match=re.escape(error)) as raised:
        petition_place(petition_id=waiting.pk, actor=community_staff, **arguments)
    assert error in raised.value.message
    waiting.refresh_from_db()
    assert (waiting.placement, waiting.holder_id) == ("pending", None)


def test_only_a_dispatcher_in_scope_places_and_only_what_waits(located, waiting,
                                                               microgrid_worker, outsider,
                                                               resident_user, community_staff):
    # The street's queue is not the community's: the community staff do not even see it.
    with pytest.raises(Http404):
        petition_place(petition_id=waiting.pk, actor=outsider, building_id=located.building3.pk)
    dispatched = submit(resident_user)
    with pytest.raises(PermissionDeniedError, match="只有社区或街道的派单人员可以定位"):
        petition_place(petition_id=dispatched.pk, actor=microgrid_worker,
                       building_id=located.building1.pk)
    with pytest.raises(ApplicationError, match="只有待分派的诉求可以定位"):
        petition_place(petition_id=dispatched.pk, actor=community_staff,
                       building_id=located.building1.pk)


def test_the_staff_page_lists_the_queue_and_places_with_one_post(
        located, waiting, frozen, community_staff, micro2_worker, microgrid_worker):
    client = Client()
    client.force_login(community_staff)
    page = client.get(reverse("petitions:staff-dispatch-queue"), follow=True)  # its tab
    assert page.status_code == 200
    assert [row["id"] for row in page.context["rows"]] == [waiting.pk]
    assert "未能识别楼栋" in page.content.decode()
    detail = client.get(reverse("petitions:staff-detail", args=[waiting.pk]))
    assert reverse("petitions:staff-place", args=[waiting.pk]) in detail.content.decode()
    response = client.post(reverse("petitions:staff-place", args=[waiting.pk]),
                           {"building": located.building3.pk, "note": "电话核实"})
    assert response.status_code == 302
    waiting.refresh_from_db()
    assert (waiting.holder_id, waiting.placement) == (micro2_worker.pk, "hand")
    # Micro-grid workers neither see the queue nor place.
    other = Client()
    other.force_login(microgrid_worker)
    assert other.get(reverse("petitions:staff-dispatch-queue")).status_code == 404


def test_the_queue_page_query_count_does_not_grow_with_rows(located, frozen, community_staff,
                                                            django_assert_max_num_queries):
    _api_key, raw_key = api_key_create(name="12345 热线")
    client = Client()
    client.force_login(community_staff)
    url = f"{reverse('petitions:staff-queue')}?tab=dispatch"
    for index in range(2):
        created(open311_post(raw_key, address_string=f"长江瑞城{20 + index}号楼"))
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    with_two = len(captured.captured_queries)  # now: the next request resets the log
    for index in range(8):
        created(open311_post(raw_key, address_string=f"长江瑞城{30 + index}号楼"))
    with django_assert_max_num_queries(with_two):
        response = client.get(url)
    assert len(response.context["rows"]) == 10


def test_the_api_place_action(located, waiting, community_staff, micro2_worker):
    client = APIClient()
    client.force_login(community_staff)
    response = client.post(f"{API}{waiting.pk}/place/", {"building": located.building3.pk},
                           format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["holder"]["id"], response.json()["placement"]) == (
        micro2_worker.pk, "hand")
    again = client.post(f"{API}{waiting.pk}/place/", {"building": located.building3.pk},
                        format="json")
    assert again.status_code == 400
    assert "只有待分派的诉求可以定位" in again.json()["message"]


def test_the_admin_shows_and_filters_the_queue(located, waiting, resident_user, street_admin,
                                               microgrid_worker):
    dispatched = submit(resident_user)  # to the micro-grid worker: not in the queue
    model_admin = site._registry[Petition]

    def listed(**query):
        request = RequestFactory().get("/admin/petitions/petition/", query)
        request.user = street_admin
        changelist = model_admin.get_changelist_instance(request)
        return [row.pk for row in changelist.get_queryset(request)]

    assert sorted(listed()) == sorted([waiting.pk, dispatched.pk])
    assert listed(dispatch_queue="yes") == [waiting.pk]
    assert listed(dispatch_queue="no") == [dispatched.pk]
    assert "placement_reason" in model_admin.list_display


# --- the quality report ----------------------------------------------------------------------


def test_the_quality_report_counts_how_petitions_were_placed_and_minutes_to_dispatch(
        located, frozen, resident_user, microgrid_worker, micro2_worker, community_staff):
    _api_key, raw_key = api_key_create(name="12345 热线")
    start = timezone.now()
    submit(resident_user)  # given: her home
    created(open311_post(raw_key, address_string="长江瑞城3号楼"))  # automatic
    waiting = created(open311_post(raw_key, address_string="长江瑞城 东门"))
    created(open311_post(raw_key, address_string="长江瑞城 西门"))  # still pending
    frozen.shift(timedelta(minutes=12))
    petition_place(petition_id=waiting.pk, actor=community_staff,
                   building_id=located.building3.pk)
    quality = petition_placement_quality(user=community_staff, start=start,
                                         end=timezone.now())
    assert (quality.total, quality.given, quality.automatic, quality.by_hand,
            quality.pending) == (4, 1, 1, 1, 1)
    assert quality.automatic_share == pytest.approx(1 / 3, abs=0.001)
    assert quality.minutes_to_dispatch == {"automatic": 0.0, "by_hand": 12.0, "all": 4.0}
    client = Client()
    client.force_login(community_staff)
    page = client.get(reverse("petitions:staff-queue"), {"tab": "dispatch"}).content.decode()
    assert "人工定位平均 12.0 分钟派单" in page
