"""The JS-SDK in WeChat's browser: the signed config, the location and the photos it brings to
the petition form, and nothing of it anywhere else."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.urls import reverse
from PIL import Image

from core import wechat
from petitions.models import PendingPhoto
from tests.accounts.test_wechat_api import WECHAT_UA

pytestmark = pytest.mark.django_db


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "green").save(buffer, "JPEG")
    return buffer.getvalue()


def test_the_config_is_signed_for_our_own_page(client, wechat_fake, resident_user):
    client.force_login(resident_user)
    page = "http://testserver/petitions/create/?building=1"
    config = client.get(reverse("accounts:wechat-jssdk"), {"url": page + "#top"}).json()
    assert config["appId"] == wechat_fake.app_id
    assert config["signature"] == wechat.jsapi_signature(
        ticket=cache.get(wechat.JSAPI_TICKET_KEY), noncestr=config["nonceStr"],
        timestamp=config["timestamp"], url=page)


def test_the_config_is_not_signed_for_another_site(client, wechat_fake, resident_user):
    client.force_login(resident_user)
    answer = client.get(reverse("accounts:wechat-jssdk"), {"url": "https://evil.test/"})
    assert answer.status_code == 400
    assert wechat_fake.ticket_fetches == 0


def test_without_wechat_configured_there_is_no_config(client, resident_user):
    client.force_login(resident_user)
    assert client.get(reverse("accounts:wechat-jssdk"),
                      {"url": "http://testserver/"}).status_code == 404


def test_the_sdk_loader_is_on_pages_in_wechat_only(client, wechat_fake, resident_user):
    client.force_login(resident_user)
    in_wechat = client.get(reverse("petitions:create"), HTTP_USER_AGENT=WECHAT_UA)
    assert b'id="wechat-sdk"' in in_wechat.content
    assert b"data-wechat-location" in in_wechat.content
    elsewhere = client.get(reverse("petitions:create"),
                           HTTP_USER_AGENT="Mozilla/5.0 (iPhone) Safari/604.1")
    assert b'id="wechat-sdk"' not in elsewhere.content


def test_coordinates_from_wechat_place_the_petition_without_a_building(
        client, wechat_fake, resident_user):
    from petitions.models import Petition
    from tests.petitions.factories import category

    client.force_login(resident_user)
    answer = client.post(reverse("petitions:create"), {
        "category": category().pk, "description": "路灯不亮", "latitude": "31.230416",
        "longitude": "121.473701"})
    assert answer.status_code == 302
    petition = Petition.objects.get()
    assert str(petition.latitude) == "31.230416"


def test_a_photo_taken_in_wechat_is_fetched_and_held_like_an_upload(
        client, wechat_fake, resident_user):
    wechat_fake.media["MEDIA-1"] = _jpeg()
    client.force_login(resident_user)
    answer = client.post(reverse("petitions:wechat-photo"), {"media_id": "MEDIA-1"}).json()
    held = PendingPhoto.objects.get(uploaded_by=resident_user)
    assert answer["token"] == held.token
    assert answer["thumbnail"].startswith("data:image/")


def test_an_unknown_media_id_holds_nothing(client, wechat_fake, resident_user):
    client.force_login(resident_user)
    answer = client.post(reverse("petitions:wechat-photo"), {"media_id": "gone"})
    assert answer.status_code == 502
    assert not PendingPhoto.objects.exists()


def test_a_signed_out_visitor_asking_for_the_config_gets_403_and_no_trip_to_wechat(
        client, wechat_fake):
    """wechat.js asks for the config on every page in WeChat, signed in or not: a redirect to
    the phone sign-in would send that background request on to WeChat's authorisation and
    overwrite the state of a sign-in the visitor has under way."""
    client.get(reverse("accounts:wechat-start"), HTTP_USER_AGENT=WECHAT_UA)
    state = client.session["accounts_wechat_state"]
    answer = client.get(reverse("accounts:wechat-jssdk"),
                        {"url": "http://testserver/petitions/create/"},
                        HTTP_USER_AGENT=WECHAT_UA, follow=True)
    assert answer.status_code == 403
    assert answer.redirect_chain == []
    assert client.session["accounts_wechat_state"] == state
    assert wechat_fake.ticket_fetches == 0
