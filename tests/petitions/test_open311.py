"""Open311 GeoReport v2 at /open311/v2/: shapes in XML and JSON, keys, errors, windows, privacy."""

from __future__ import annotations

import io
import json
import logging
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.services import api_key_create
from petitions import services
from petitions.api.open311 import XML_ITEMS, render, request_token
from petitions.models import Category, Petition
from tests.petitions.factories import category, resolve_after_visit, submit

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


def street_key_client(territory) -> Client:
    """A client whose key's scope is the whole street: it reads every request whole."""
    _api_key, raw_key = api_key_create(name="街道平台", scope_area=territory.street)
    return key_client(raw_key)


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
    # Created at once: the id and no token (tests/petitions/test_open311_media.py).
    assert body == [{"service_request_id": str(petition.pk), "service_notice": "",
                     "account_id": None}]
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


def _publish(petition, microgrid_worker, grid_worker):
    """Resolved and verified: on the 公示 page, and so readable without a key."""
    resolve_after_visit(petition_id=petition.pk, actor=microgrid_worker,
                        resolution="已处理")
    return services.petition_verify(petition_id=petition.pk, actor=grid_worker)


def _public_and_private(resident_user):
    public = submit(resident_user, description="公开的诉求", is_public=True,
                    location_text="东门花坛")
    private = submit(resident_user, description="不公开的诉求", location_text="我家门口")
    return public, private


def test_keyless_gets_hide_the_description_and_address_of_non_public_requests(
        territory, resident_user, microgrid_worker, grid_worker):
    public, private = _public_and_private(resident_user)
    private = _publish(private, microgrid_worker, grid_worker)
    _publish(public, microgrid_worker, grid_worker)
    status, body = get_json(Client(), "requests")
    assert status == 200
    rows = {row["service_request_id"]: row for row in body}
    assert rows[str(public.pk)]["description"] == "公开的诉求"
    # The 公示 page's place: the building, never the free-text location.
    assert rows[str(public.pk)]["address"] == str(territory.building1)
    hidden = rows[str(private.pk)]
    assert hidden["description"] is None and hidden["address"] == str(territory.building1)
    assert hidden["status"] == "closed"
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
    status, _keyless = get_json(Client(), f"requests/{request_id}")
    assert status == 404  # open: not on the 公示 page
    _status, keyed = keyed_json(f"requests/{request_id}", raw_key)
    assert keyed[0]["description"] == "私密描述"
    assert keyed[0]["address_id"] == str(territory.building1.pk)


def test_a_wrong_key_on_a_get_is_403(territory):
    status, body = keyed_json("requests", "abcd.nope")
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
    resolve_after_visit(petition_id=second.pk, actor=microgrid_worker, resolution="好了")
    client = street_key_client(territory)
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
    client = street_key_client(territory)
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
                                                             microgrid_worker, grid_worker):
    client = Client()
    for _index in range(3):
        _publish(submit(resident_user, is_public=True, building=territory.building1),
                 microgrid_worker, grid_worker)
    few = _open311_list_queries(client)
    for _index in range(12):
        _publish(submit(resident_user, building=territory.building1), microgrid_worker,
                 grid_worker)
    many = _open311_list_queries(client)
    assert few == many == 1


def test_xml_escapes_markup_and_drops_control_characters(territory, resident_user):
    submit(resident_user, is_public=True, description="<b>a & b</b>\x01 ]]> 完")
    response = street_key_client(territory).get(f"{BASE}/requests.xml")
    assert b"&lt;b&gt;a &amp; b&lt;/b&gt;" in response.content
    root = parse_xml(response.content)
    assert root.find("request/description").text == "<b>a & b</b> ]]> 完"


# --- tokens and updates ----------------------------------------------------------------------


def _element_tree_xml(tag: str, value: object) -> ET.Element:
    """The XML as the endpoint wrote it with ElementTree before it wrote the text itself."""
    element = ET.Element(tag)
    if isinstance(value, dict):
        for key, child in value.items():
            element.append(_element_tree_xml(key, child))
    elif isinstance(value, list):
        for child in value:
            element.append(_element_tree_xml(XML_ITEMS.get(tag, "item"), child))
    elif value is not None:
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        element.text = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", text)
    return element


def test_the_xml_is_written_as_element_tree_wrote_it():
    payload = [
        {"service_request_id": "7", "description": "<b>a & b</b>\x01\x0b ]]> 完\r\n\t末",
         "status_notes": "", "zipcode": None, "lat": 31.5, "long": -0.000001, "order": 3,
         "required": True, "variable": False, "attributes": [], "metadata": {},
         "values": [{"key": "1", "name": "\x02"}, {"key": "2", "name": "二"}]},
        {"service_request_id": "8"},
    ]
    expected = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(
        _element_tree_xml("service_requests", payload), encoding="unicode")
    assert render("xml", "service_requests", payload).content.decode() == expected
    assert "<zipcode />" in expected and "<attributes />" in expected  # the short empty form


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
    resolve_after_visit(petition_id=int(request_id), actor=microgrid_worker,
                        resolution="已修好")
    submit(resident_user)  # someone else's: never listed
    status, body = keyed_json("servicerequestupdates", raw_key)
    assert status == 200
    assert {row["service_request_id"] for row in body} == {request_id}
    assert [row["kind"] for row in body] == ["submitted", "dispatched", "checked_in", "resolved"]
    assert body[-1]["status"] == "closed" and body[-1]["description"] == "已修好"
    status, root = get_xml(key_client(raw_key), "servicerequestupdates")
    assert root.tag == "service_request_updates"
    assert len(root.findall("request_update")) == 4
    status, body = get_json(Client(), "servicerequestupdates")
    assert status == 403


def test_updates_name_an_internal_step_without_its_staff_note(territory, hotline,
                                                              microgrid_worker):
    _system, raw_key = hotline
    created = post_request(Client(), api_key=raw_key, service_code=str(category().pk),
                           description="电梯坏了", address_id=str(territory.building1.pk))
    request_id = int(json.loads(created.content)[0]["service_request_id"])
    services.petition_return(petition_id=request_id, actor=microgrid_worker,
                             reason="不属于本微网格")
    _status, body = keyed_json("servicerequestupdates", raw_key)
    descriptions = {row["kind"]: row["description"] for row in body}
    assert descriptions["returned"] == "退回"
    assert descriptions["dispatched"] == "派单"  # not the staff's "自动派单"


def test_a_wrong_method_is_a_405_errors_list(territory):
    response = Client().post(f"{BASE}/services.json")
    assert response.status_code == 405
    assert json.loads(response.content)[0]["code"] == 405


def test_inactive_categories_are_not_services(territory):
    Category.objects.filter(name="其他").update(is_active=False)
    _status, body = get_json(Client(), "services")
    assert "其他" not in {row["service_name"] for row in body}


def test_a_key_is_throttled_with_an_errors_list(territory, hotline, monkeypatch):
    # The buckets are this test's own (tests/conftest.py); never cache.clear(): on Redis it
    # flushes the database the other worker's tests share.
    from accounts.api.throttles import ApiKeyRateThrottle

    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "1/min"})
    _system, raw_key = hotline
    assert keyed_json("services", raw_key)[0] == 200
    status, body = keyed_json("services", raw_key)
    assert status == 429 and body[0]["code"] == 429


# --- issue 10: privacy holes -----------------------------------------------------------------


def _open_and_published(resident_user, territory, microgrid_worker, grid_worker):
    """Two public petitions with a phone and a room in their text: one still open, one verified
    (so on the 公示 page)."""
    fields = {"is_public": True, "description": "3单元502室漏水，电话13912345678",
              "building": territory.building1, "location_text": "1号楼3单元502室",
              "latitude": Decimal("31.230416"), "longitude": Decimal("121.473701")}
    still_open = submit(resident_user, **fields)
    published = submit(resident_user, **fields)
    resolve_after_visit(petition_id=published.pk, actor=microgrid_worker,
                        resolution="已修好，回访13912345678")
    services.petition_verify(petition_id=published.pk, actor=grid_worker)
    return still_open, published


def test_keyless_callers_get_only_what_the_public_notice_shows(territory, resident_user,
                                                               microgrid_worker, grid_worker):
    still_open, published = _open_and_published(resident_user, territory, microgrid_worker,
                                                grid_worker)
    client = Client()
    status, body = get_json(client, f"requests/{still_open.pk}")
    assert status == 404
    status, root = get_xml(client, f"requests/{still_open.pk}")
    assert status == 404 and root.tag == "errors"
    _status, body = get_json(client, "requests")
    assert [row["service_request_id"] for row in body] == [str(published.pk)]
    _status, body = get_json(client, f"requests/{published.pk}")
    [row] = body
    # As public_row: digit runs starred, the building at most, no coordinates.
    assert row["description"] == "3单元***室漏水，电话***********"
    assert row["status_notes"] == "已修好，回访***********"
    assert row["address"] == str(territory.building1)
    assert (row["address_id"], row["lat"], row["long"]) == (None, None, None)
    _status, root = get_xml(client, "requests", service_request_id=f"{still_open.pk},"
                                                                   f"{published.pk}")
    text = ET.tostring(root, encoding="unicode")
    assert "502" not in text and "13912345678" not in text
    assert [node.text for node in root.findall("request/service_request_id")] == [
        str(published.pk)]


def key_client(raw_key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")


def keyed_json(path: str, raw_key: str, **params) -> tuple[int, object]:
    return get_json(key_client(raw_key), path, **params)


def test_a_key_sees_requests_outside_its_scope_only_as_the_public_notice_does(
        territory, resident_user, microgrid_worker, grid_worker):
    still_open, published = _open_and_published(resident_user, territory, microgrid_worker,
                                                grid_worker)
    _api_key, elsewhere = api_key_create(name="黄河路社区平台",
                                         scope_area=territory.other_community)
    status, _body = keyed_json(f"requests/{still_open.pk}", elsewhere)
    assert status == 404
    _status, body = keyed_json("requests", elsewhere)
    assert [row["service_request_id"] for row in body] == [str(published.pk)]
    assert body[0]["description"] == "3单元***室漏水，电话***********"
    assert body[0]["lat"] is None
    # A key whose scope covers a request keeps the whole of it, open and not public.
    private = submit(resident_user, description="楼道灯坏了", building=territory.building1,
                     location_text="1号楼3单元502室", latitude=Decimal("31.230416"),
                     longitude=Decimal("121.473701"))
    _api_key, ours = api_key_create(name="富春江路社区平台", scope_area=territory.community)
    _status, body = keyed_json(f"requests/{private.pk}", ours)
    assert (body[0]["description"], body[0]["address"]) == ("楼道灯坏了", "1号楼3单元502室")
    assert body[0]["lat"] == 31.230416


OUT_OF_RANGE = ("9999-12-31T00:00:00+00:00", "9999-12-31T23:59:59-08:00",
                "0001-01-01T00:00:00+08:00", "0001-01-01")


@pytest.mark.parametrize("name", ["start_date", "end_date"])
@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_an_out_of_range_date_is_a_400_errors_list_not_a_500(territory, hotline, name, value):
    # Each of these overflowed Python's datetime once moved to UTC or widened by the window.
    _system, raw_key = hotline
    status, body = get_json(Client(), "requests", **{name: value})
    assert status == 400, body
    assert body[0]["code"] == 400 and "1900" in body[0]["description"]
    assert name in body[0]["description"]
    status, root = get_xml(Client(), "requests", **{name: value})
    assert status == 400 and root.find("error/code").text == "400"
    status, body = keyed_json("servicerequestupdates", raw_key, **{name: value})
    assert status == 400 and "1900" in body[0]["description"]


def test_a_key_in_the_query_string_is_refused_the_header_and_form_body_are_not(territory,
                                                                               hotline):
    # A query string lands in every access log on the way: the key would be readable there.
    _system, raw_key = hotline
    for path in ("requests", "requests/1", "servicerequestupdates", "services"):
        status, body = get_json(Client(), path, api_key=raw_key)
        assert status == 400, (path, body)
        assert "Authorization: Api-Key" in body[0]["description"]
        assert raw_key not in json.dumps(body)
    status, root = get_xml(Client(), "servicerequestupdates", api_key=raw_key)
    assert status == 400 and root.find("error/code").text == "400"
    form = {"service_code": str(category().pk), "description": "路灯不亮",
            "address_id": str(territory.building1.pk)}
    response = Client().post(f"{BASE}/requests.json?api_key={raw_key}", form)
    assert response.status_code == 400
    assert not Petition.objects.exists()
    assert keyed_json("servicerequestupdates", raw_key)[0] == 200
    assert post_request(Client(), api_key=raw_key, **form).status_code == 201


def _logged(emit) -> str:
    """What the configured console handlers (settings.LOGGING) print while `emit` runs."""
    handlers = [handler for name in ("django.server", "")
                for handler in logging.getLogger(name).handlers
                if type(handler) is logging.StreamHandler]
    assert handlers
    stream = io.StringIO()
    previous = [handler.setStream(stream) for handler in handlers]
    try:
        emit()
    finally:
        for handler, old in zip(handlers, previous, strict=True):
            handler.setStream(old)
    return stream.getvalue()


def test_the_server_access_logs_never_carry_a_key(territory, hotline):
    # runserver's access line (logger django.server) prints the query string; gunicorn's
    # (config/gunicorn.conf.py) leaves it out.
    _system, raw_key = hotline
    logged = _logged(lambda: (
        logging.getLogger("django.server").info(
            '"%s" %s %s',
            f"GET /open311/v2/requests.json?status=open&api_key={raw_key} HTTP/1.1", "400", "1"),
        logging.getLogger("django.request").warning(
            "Bad Request: %s", f"/open311/v2/requests.json?API_KEY={raw_key}")))
    assert "status=open" in logged and "api_key=" in logged
    assert raw_key not in logged and raw_key.split(".")[1] not in logged
    settings_file = Path(__file__).resolve().parents[2] / "config" / "gunicorn.conf.py"
    namespace: dict[str, object] = {}
    exec(settings_file.read_text(), namespace)  # noqa: S102 - our own settings file
    access_format = str(namespace["access_log_format"])
    assert "%(U)s" in access_format
    assert not {"%(r)s", "%(q)s", "%(f)s"} & set(re.findall(r"%\(\w+\)s", access_format))


def test_a_scoped_key_cannot_file_a_request_outside_its_scope(territory):
    _api_key, raw_key = api_key_create(name="富春江路社区平台", scope_area=territory.community)
    form = {"api_key": raw_key, "service_code": str(category().pk), "description": "路灯不亮"}
    for fmt in ("json", "xml"):
        response = post_request(Client(), fmt, address_id=str(territory.other_building.pk),
                                **form)
        assert response.status_code == 403, response.content
        description = (json.loads(response.content)[0]["description"] if fmt == "json"
                       else parse_xml(response.content).find("error/description").text)
        assert "富春江路社区" in description and "范围" in description
    assert not Petition.objects.exists()
    response = post_request(Client(), address_id=str(territory.building1.pk), **form)
    assert response.status_code == 201
