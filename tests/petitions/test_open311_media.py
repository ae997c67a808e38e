"""Open311 fixes (issue 11, item 9): a POST answers `service_request_id` (never a token beside
it, as GeoReport v2 says: a token only when the id is not yet known), and `media_url` carries
the first photo of a request whose description is public, at a URL a keyless client can open."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from django.test import Client

from accounts.services import api_key_create
from petitions import services
from petitions.api.open311 import request_token
from petitions.models import Petition
from tests.petitions.factories import category, photo, resolve_after_visit, submit

pytestmark = pytest.mark.django_db
BASE = "/open311/v2"


@pytest.fixture
def hotline(territory):
    _api_key, raw_key = api_key_create(name="12345 热线")
    return raw_key


def parse_xml(content: bytes) -> ET.Element:
    return ET.fromstring(content)  # noqa: S314 - our own response, not untrusted input


def key_client(raw_key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")


def published(resident, worker, verifier, **fields) -> Petition:
    """Submitted (with whatever photos), resolved after a visit and verified: on the 公示 list."""
    petition = submit(resident, **fields)
    resolve_after_visit(petition_id=petition.pk, actor=worker, resolution="已清理",
                        photos=[photo("after.jpg", color="green")])
    return services.petition_verify(petition_id=petition.pk, actor=verifier)


def media_url_of(client: Client, petition: Petition, fmt: str = "json") -> str | None:
    response = client.get(f"{BASE}/requests/{petition.pk}.{fmt}")
    assert response.status_code == 200, response.content
    if fmt == "xml":
        return parse_xml(response.content).find("request/media_url").text
    return json.loads(response.content)[0]["media_url"]


# --- POST: service_request_id, not a token beside it -----------------------------------------


def test_a_post_answers_the_service_request_id_without_a_token_in_json(territory, hotline):
    response = key_client(hotline).post(f"{BASE}/requests.json", {
        "service_code": str(category().pk), "description": "路灯不亮",
        "address_string": "长江瑞城 1号楼"})
    assert response.status_code == 201, response.content
    petition = Petition.objects.get()
    assert json.loads(response.content) == [
        {"service_request_id": str(petition.pk), "service_notice": "", "account_id": None}]


def test_a_post_answers_the_service_request_id_without_a_token_in_xml(territory, hotline):
    response = key_client(hotline).post(f"{BASE}/requests.xml", {
        "service_code": str(category().pk), "description": "路灯不亮",
        "address_string": "长江瑞城 1号楼"})
    assert response.status_code == 201, response.content
    root = parse_xml(response.content)
    assert root.tag == "service_requests"
    request = root.find("request")
    assert request.find("service_request_id").text == str(Petition.objects.get().pk)
    assert request.find("token") is None


def test_a_token_handed_out_before_still_leads_to_its_request(territory, resident_user):
    petition = submit(resident_user)
    token = request_token(petition.pk)
    response = Client().get(f"{BASE}/tokens/{token}.json")
    assert response.status_code == 200
    assert json.loads(response.content) == [
        {"service_request_id": str(petition.pk), "token": token}]


# --- media_url -------------------------------------------------------------------------------


def test_media_url_is_the_first_photo_of_a_public_request_and_opens_without_a_key(
        frozen, territory, resident_user, microgrid_worker, grid_worker):
    petition = published(resident_user, microgrid_worker, grid_worker, is_public=True,
                         photos=[photo("first.jpg", color="red"),
                                 photo("second.jpg", color="blue")])
    first = petition.photos.order_by("id").first()
    url = media_url_of(Client(), petition)
    assert url is not None and url.startswith("http://testserver/")
    assert media_url_of(Client(), petition, "xml") == url
    assert media_url_of(key_client(api_key_create(name="外部")[1]), petition) == url
    listed = json.loads(Client().get(f"{BASE}/requests.json").content)
    assert [row["media_url"] for row in listed] == [url]

    response = Client().get(urlsplit(url).path)  # no session, no key
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    served = b"".join(response.streaming_content)
    with first.image.open("rb") as stored:
        stored.seek(0)  # the in-memory test storage shares one position between opens
        assert served == stored.read()


def test_media_url_is_absent_for_a_request_whose_description_is_private(
        frozen, territory, resident_user, microgrid_worker, grid_worker, street_admin):
    petition = published(resident_user, microgrid_worker, grid_worker, is_public=False,
                         photos=[photo()])
    assert media_url_of(Client(), petition) is None
    _api_key, raw_key = api_key_create(name="街道平台", scope_area=territory.street)
    assert media_url_of(key_client(raw_key), petition) is None  # whole text, still no photo
    assert Client().get(f"/petitions/public/{petition.pk}/photo/").status_code == 404


def test_a_public_request_not_yet_on_the_notice_has_no_media_url_and_no_open_photo(
        frozen, territory, resident_user, microgrid_worker):
    petition = submit(resident_user, is_public=True, photos=[photo()])
    _api_key, raw_key = api_key_create(name="街道平台", scope_area=territory.street)
    assert media_url_of(key_client(raw_key), petition) is None
    assert Client().get(f"/petitions/public/{petition.pk}/photo/").status_code == 404


def test_only_the_residents_own_photo_is_published_never_a_staff_photo(
        frozen, territory, resident_user, microgrid_worker, grid_worker):
    # No photo at submission: the worker's result photo (and any note's) stays unpublished.
    petition = published(resident_user, microgrid_worker, grid_worker, is_public=True)
    assert petition.photos.exists()
    assert media_url_of(Client(), petition) is None
    assert Client().get(f"/petitions/public/{petition.pk}/photo/").status_code == 404


def test_the_public_photo_of_an_unknown_petition_is_a_404(territory):
    assert Client().get("/petitions/public/999999/photo/").status_code == 404
