"""Open311 GeoReport v2 at /open311/v2/: shapes in XML and JSON, keys, errors, windows, privacy."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.services import api_key_create
from petitions import services
from petitions.api.open311 import request_token
from petitions.models import Category, Petition
from tests.petitions.factories import category, submit

BASE = "/open311/v2"


@pytest.fixture
def hotline(territory):
    api_key, raw_key = api_key_create(name="12345 热线")
    return api_key.user, raw_key


def parse_xml(content: bytes) -> ET.Element:
    return ET.fromstring(content)  # noqa: S314 - our own response, not untrusted input


def get_json(client: Client, path: str, **params) -> tuple[int, object]:
    response = client.get(f"{BASE}/{path}.json", params)
    assert response["Content-Type"].startswith("application/json")
    return response.status_code, json.loads(response.content)


def get_xml(client: Client, path: str, **params) -> tuple[int, ET.Element]:
    response = client.get(f"{BASE}/{path}.xml", params)
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return response.status_code, parse_xml(response.content)


def post_request(client: Client, fmt: str = "json", **form):
    return client.post(f"{BASE}/requests.{fmt}", form)


# --- discovery and services ------------------------------------------------------------------


def test_discovery_lists_the_endpoint_in_both_formats(territory):
    status, body = get_json(Client(), "discovery")
    assert status == 200
    assert body["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    status, root = get_xml(Client(), "discovery")
    assert root.tag == "discovery"
    formats = [node.text for node in root.findall("endpoints/endpoint/formats/format")]
    assert formats == ["text/xml", "application/json"]


def test_categories_are_services_with_string_codes(territory):
    status, body = get_json(Client(), "services")
    assert status == 200
    first = body[0]
    assert isinstance(first["service_code"], str)
    assert {row["service_name"] for row in body} >= {"环境卫生", "物业设施"}
    status, root = get_xml(Client(), "services")
    assert root.tag == "services"
    assert len(root.findall("service")) == len(body)
    assert root.find("service/metadata").text in ("true", "false")


def test_a_service_definition_has_the_extra_questions_as_attributes(territory):
    facility = category("物业设施")
    status, body = get_json(Client(), f"services/{facility.pk}")
    assert status == 200
    assert body["service_code"] == str(facility.pk)
    assert body["attributes"][0]["code"] == "facility"
    assert body["attributes"][0]["required"] is True
    status, root = get_xml(Client(), f"services/{facility.pk}")
    assert root.tag == "service_definition"
    assert root.find("attributes/attribute/code").text == "facility"
    assert root.find("attributes/attribute/required").text == "true"


def test_an_unknown_service_is_a_404_errors_list(territory):
    status, body = get_json(Client(), "services/99999")
    assert status == 404
    assert body == [{"code": 404, "description": "服务代码 99999 不存在。"}]
    status, root = get_xml(Client(), "services/nope")
    assert status == 404
    assert root.tag == "errors"
    assert root.find("error/code").text == "404"
    assert "nope" in root.find("error/description").text


def test_an_unknown_path_or_format_is_a_404_errors_list(territory):
    response = Client().get(f"{BASE}/requests.csv")
    assert response.status_code == 404
    assert parse_xml(response.content).tag == "errors"


# --- POST requests ---------------------------------------------------------------------------


def test_posting_without_or_with_a_wrong_key_is_403(territory):
    code = str(category().pk)
    for form in ({}, {"api_key": "abcd1234.wrong"}):
        response = post_request(Client(), "xml", service_code=code, description="x",
                                address_string="1号楼", **form)
        assert response.status_code == 403
        root = parse_xml(response.content)
        assert root.find("error/code").text == "403"
    assert not Petition.objects.exists()


def test_a_post_creates_through_the_submit_service(territory, hotline, microgrid_worker):
    system, raw_key = hotline
    response = post_request(
        Client(), api_key=raw_key, service_code=str(category().pk), description="垃圾桶满了",
        lat="31.230416", long="121.473701", address_id=str(territory.building1.pk),
        address_string="长江瑞城1号楼", first_name="秀英", last_name="王", phone="13900000001",
        media_url="https://example.org/a.jpg", **{"attribute[spot]": "东门"})
    assert response.status_code == 201, response.content
    body = json.loads(response.content)
    petition = Petition.objects.get()
    assert body == [{"service_request_id": str(petition.pk), "token": request_token(petition.pk),
                     "service_notice": "", "account_id": None}]
    assert petition.external_system == system
    assert petition.channel == "api"
    assert petition.contact_name == "王秀英"
    assert petition.building == territory.building1
    assert petition.answers == {"spot": "东门", "media_url": "https://example.org/a.jpg"}
    assert str(petition.latitude) == "31.230416"
    assert petition.state == "dispatched"  # placed and dispatched like any other submission


def test_a_post_retried_with_the_same_external_ref_returns_the_first_request(territory,
                                                                           hotline):
    _system, raw_key = hotline
    form = {"api_key": raw_key, "service_code": str(category().pk), "description": "噪音",
            "address_id": str(territory.building1.pk), "external_ref": "12345-77",
            "channel": "hotline_12345"}
    first = post_request(Client(), **form)
    second = post_request(Client(), **form)
    assert (first.status_code, second.status_code) == (201, 200)
    assert json.loads(first.content) == json.loads(second.content)
    assert Petition.objects.get().channel == "hotline_12345"


def test_a_retry_that_starts_before_its_original_is_stored_still_gets_200(territory, hotline):
    # The load bench's race: the retry's request starts no later than the original writes its
    # row. A stopped clock makes that exact: both requests see the same instant.
    _system, raw_key = hotline
    form = {"api_key": raw_key, "service_code": str(category().pk), "description": "噪音",
            "address_id": str(territory.building1.pk), "external_ref": "12345-78",
            "channel": "hotline_12345"}
    with time_machine.travel(timezone.now(), tick=False):
        first = post_request(Client(), **form)
        second = post_request(Client(), **form)
    assert (first.status_code, second.status_code) == (201, 200)
    assert json.loads(first.content) == json.loads(second.content)
    assert Petition.objects.filter(external_ref="12345-78").count() == 1


@pytest.mark.parametrize(("form", "fragment"), [
    ({"service_code": "99999"}, "服务代码"),
    ({"service_code": None, "lat": "31.2"}, "lat 与 long"),
    ({"service_code": None, "lat": "abc", "long": "121"}, "有效的坐标"),
    ({"service_code": None, "address_id": "99999"}, "address_id"),
    ({"service_code": None}, "lat/long、address_string 或 address_id"),
    ({"service_code": "facility"}, "attribute[facility]"),
    ({"service_code": None, "address_string": "1号楼", "description": ""}, "请填写诉求内容"),
    ({"service_code": None, "address_string": "1号楼", "channel": "walk_in"}, "channel"),
])
def test_a_bad_post_is_a_400_errors_list_in_chinese(territory, hotline, form, fragment):
    _system, raw_key = hotline
    form = dict(form)
    if form["service_code"] is None:
        form["service_code"] = str(category().pk)
    elif form["service_code"] == "facility":
        form.update(service_code=str(category("物业设施").pk), address_string="1号楼")
    form.setdefault("description", "描述")
    response = post_request(Client(), api_key=raw_key, **form)
    assert response.status_code == 400, response.content
    [error] = json.loads(response.content)
    assert error["code"] == 400
    assert fragment in error["description"]
    assert not Petition.objects.exists()


def test_a_key_without_a_scope_and_an_unknown_address_lands_in_the_streets_dispatch_queue(
        territory, hotline):
    _system, raw_key = hotline
    response = post_request(Client(), api_key=raw_key, service_code=str(category().pk),
                            description="x", address_string="某路某号")
    assert response.status_code == 201, response.content
    petition = Petition.objects.get()
    assert (petition.placement, petition.area_id, petition.holder_id) == (
        "pending", territory.street.pk, None)
    assert "未能从地址识别" in petition.placement_reason


def test_a_key_with_a_scope_may_send_only_coordinates(territory):
    _api_key, raw_key = api_key_create(name="网格平台", scope_area=territory.micro1)
    response = post_request(Client(), api_key=raw_key, service_code=str(category().pk),
                            description="x", lat="31.2", long="121.4")
    assert response.status_code == 201, response.content
    assert Petition.objects.get().origin_path == territory.micro1.path


# --- GET requests ----------------------------------------------------------------------------


def _public_and_private(resident_user):
    public = submit(resident_user, description="公开的诉求", is_public=True,
                    location_text="东门花坛")
    private = submit(resident_user, description="不公开的诉求", location_text="我家门口")
    return public, private


def test_keyless_gets_hide_the_description_and_address_of_non_public_requests(
        territory, resident_user, microgrid_worker):
    public, private = _public_and_private(resident_user)
    status, body = get_json(Client(), "requests")
    assert status == 200
    rows = {row["service_request_id"]: row for row in body}
    assert rows[str(public.pk)]["description"] == "公开的诉求"
    assert rows[str(public.pk)]["address"] == "东门花坛"
    hidden = rows[str(private.pk)]
    assert hidden["description"] is None and hidden["address"] is None
    assert hidden["status"] == "open"
    assert hidden["service_name"] == "环境卫生"
    assert hidden["agency_responsible"] == "微网格一"
    assert hidden["requested_datetime"].endswith("+08:00")
    assert hidden["expected_datetime"] == timezone.localtime(private.due_at).isoformat(
        timespec="seconds")
    status, root = get_xml(Client(), f"requests/{private.pk}")
    assert root.tag == "service_requests"
    [row] = root.findall("request")
    assert row.find("service_request_id").text == str(private.pk)
    assert row.find("description").text is None
    assert "不公开" not in ET.tostring(root, encoding="unicode")


def test_the_key_that_submitted_a_request_sees_it_whole(territory, hotline):
    _system, raw_key = hotline
    response = post_request(Client(), api_key=raw_key, service_code=str(category().pk),
                            description="私密描述", address_id=str(territory.building1.pk))
    request_id = json.loads(response.content)[0]["service_request_id"]
    _status, keyless = get_json(Client(), f"requests/{request_id}")
    assert keyless[0]["description"] is None
    _status, keyed = get_json(Client(), f"requests/{request_id}", api_key=raw_key)
    assert keyed[0]["description"] == "私密描述"
    assert keyed[0]["address_id"] == str(territory.building1.pk)


def test_a_wrong_key_on_a_get_is_403(territory):
    status, body = get_json(Client(), "requests", api_key="abcd.nope")
    assert status == 403
    assert body[0]["code"] == 403


def test_an_unknown_request_is_a_404_errors_list(territory):
    status, body = get_json(Client(), "requests/424242")
    assert status == 404 and body[0]["code"] == 404
    status, root = get_xml(Client(), "requests/424242")
    assert status == 404 and root.find("error/code").text == "404"


def test_requests_are_filtered_by_id_code_and_status(territory, resident_user, microgrid_worker,
                                                     grid_worker):
    first = submit(resident_user)
    second = submit(resident_user, category=category("噪音扰民"))
    services.petition_resolve(petition_id=second.pk, actor=microgrid_worker, resolution="好了")
    client = Client()
    _status, body = get_json(client, "requests", service_request_id=f"{second.pk},x,{first.pk}")
    assert {row["service_request_id"] for row in body} == {str(first.pk), str(second.pk)}
    _status, body = get_json(client, "requests", service_code=str(category("噪音扰民").pk))
    assert [row["service_request_id"] for row in body] == [str(second.pk)]
    _status, body = get_json(client, "requests", status="closed")
    assert [row["service_request_id"] for row in body] == [str(second.pk)]
    assert body[0]["status"] == "closed"
    _status, body = get_json(client, "requests", status="open")
    assert [row["service_request_id"] for row in body] == [str(first.pk)]
    status, body = get_json(client, "requests", status="pending")
    assert status == 400 and "status" in body[0]["description"]


def test_the_default_window_is_the_last_90_days(territory, resident_user):
    with time_machine.travel(timezone.now() - timedelta(days=100), tick=False):
        old = submit(resident_user)
    recent = submit(resident_user)
    client = Client()
    _status, body = get_json(client, "requests")
    assert [row["service_request_id"] for row in body] == [str(recent.pk)]
    start = timezone.localtime(old.submitted_at - timedelta(hours=1)).isoformat()
    _status, body = get_json(client, "requests", start_date=start)
    assert [row["service_request_id"] for row in body] == [str(old.pk)]
    status, body = get_json(client, "requests", start_date=start,
                            end_date=timezone.localtime().isoformat())
    assert status == 400 and "90 天" in body[0]["description"]
    status, body = get_json(client, "requests", start_date="yesterday")
    assert status == 400 and "W3C" in body[0]["description"]


def _open311_list_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(f"{BASE}/requests.xml")
    assert response.status_code == 200
    return len(context.captured_queries)


def test_the_open311_list_query_count_does_not_grow_with_rows(territory, resident_user,
                                                             microgrid_worker):
    client = Client()
    for _index in range(3):
        submit(resident_user, is_public=True, building=territory.building1)
    few = _open311_list_queries(client)
    for _index in range(12):
        submit(resident_user, building=territory.building3)
    many = _open311_list_queries(client)
    assert few == many == 1


def test_xml_escapes_markup_and_drops_control_characters(territory, resident_user):
    submit(resident_user, is_public=True, description="<b>a & b</b>\x01 ]]> 完")
    response = Client().get(f"{BASE}/requests.xml")
    assert b"&lt;b&gt;a &amp; b&lt;/b&gt;" in response.content
    root = parse_xml(response.content)
    assert root.find("request/description").text == "<b>a & b</b> ]]> 完"


# --- tokens and updates ----------------------------------------------------------------------


def test_a_token_leads_to_its_request_and_a_forged_one_is_404(territory, resident_user):
    petition = submit(resident_user)
    token = request_token(petition.pk)
    status, body = get_json(Client(), f"tokens/{token}")
    assert status == 200
    assert body == [{"service_request_id": str(petition.pk), "token": token}]
    status, root = get_xml(Client(), f"tokens/{petition.pk}-0000000000000000")
    assert status == 404 and root.tag == "errors"


def test_updates_list_the_public_events_of_the_keys_own_requests(territory, hotline,
                                                                microgrid_worker,
                                                                resident_user):
    _system, raw_key = hotline
    created = post_request(Client(), api_key=raw_key, service_code=str(category().pk),
                           description="电梯坏了", address_id=str(territory.building1.pk))
    request_id = json.loads(created.content)[0]["service_request_id"]
    services.petition_add_note(petition_id=int(request_id), actor=microgrid_worker,
                               note="内部备注", is_internal=True)
    services.petition_resolve(petition_id=int(request_id), actor=microgrid_worker,
                              resolution="已修好")
    submit(resident_user)  # someone else's: never listed
    status, body = get_json(Client(), "servicerequestupdates", api_key=raw_key)
    assert status == 200
    assert {row["service_request_id"] for row in body} == {request_id}
    assert [row["kind"] for row in body] == ["submitted", "dispatched", "resolved"]
    assert body[-1]["status"] == "closed" and body[-1]["description"] == "已修好"
    status, root = get_xml(Client(), "servicerequestupdates", api_key=raw_key)
    assert root.tag == "service_request_updates"
    assert len(root.findall("request_update")) == 3
    status, body = get_json(Client(), "servicerequestupdates")
    assert status == 403


def test_a_wrong_method_is_a_405_errors_list(territory):
    response = Client().post(f"{BASE}/services.json")
    assert response.status_code == 405
    assert json.loads(response.content)[0]["code"] == 405


def test_inactive_categories_are_not_services(territory):
    Category.objects.filter(name="其他").update(is_active=False)
    _status, body = get_json(Client(), "services")
    assert "其他" not in {row["service_name"] for row in body}


def test_a_key_is_throttled_with_an_errors_list(territory, hotline, monkeypatch):
    from django.core.cache import cache

    from accounts.api.throttles import ApiKeyRateThrottle

    cache.clear()
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "1/min"})
    _system, raw_key = hotline
    assert get_json(Client(), "services", api_key=raw_key)[0] == 200
    status, body = get_json(Client(), "services", api_key=raw_key)
    assert status == 429 and body[0]["code"] == 429
    cache.clear()
