"""Petition photos at /media/ (issue 12, item 1): opened by those who may see the petition where
the pages show it, audited when staff open a resident's photo, and by anyone only for the one
photo the 公示 publishes (the rule of /petitions/public/<pk>/photo/)."""

from __future__ import annotations

import re

import pytest
from django.test import Client, override_settings

from core.models import AuditEvent
from petitions import services
from petitions.models import Petition, PetitionPhoto
from tests.media_helpers import client_as, media_views
from tests.petitions.factories import photo, resolve_after_visit, submit

pytestmark = pytest.mark.django_db
IMG_SRC = re.compile(r'<img src="(/media/[^"]+)"')


def media_url(photo_row: PetitionPhoto) -> str:
    return photo_row.image.url


def own_petition(resident) -> Petition:
    return submit(resident, photos=[photo("door.jpg")])


def test_a_resident_opens_their_own_petition_photo_unaudited(territory, resident_user):
    sent = own_petition(resident_user).photos.get()
    response = client_as(resident_user).get(media_url(sent))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"].startswith("private, max-age=")
    assert response["X-Content-Type-Options"] == "nosniff"
    served = b"".join(response.streaming_content)
    with sent.image.open("rb") as stored:
        stored.seek(0)  # the in-memory test storage shares one position between opens
        assert served == stored.read()
    assert media_views() == []


def test_another_resident_and_an_anonymous_visitor_get_a_404(territory, resident_user,
                                                            other_resident):
    url = media_url(own_petition(resident_user).photos.get())
    assert client_as(other_resident).get(url).status_code == 404
    assert client_as().get(url).status_code == 404


def test_staff_in_scope_open_it_and_each_opening_is_audited(territory, resident_user,
                                                           grid_worker):
    sent = own_petition(resident_user).photos.get()
    assert client_as(grid_worker).get(media_url(sent)).status_code == 200
    event = AuditEvent.objects.get(action=AuditEvent.Action.MEDIA_VIEW)
    assert (event.actor_id, event.object_type, event.object_id, event.fields) == (
        grid_worker.pk, "petitions.petitionphoto", str(sent.pk), ["image"])


def test_staff_out_of_scope_get_a_404_and_nothing_is_audited(territory, resident_user,
                                                            outsider):
    url = media_url(own_petition(resident_user).photos.get())
    assert client_as(outsider).get(url).status_code == 404
    assert media_views() == []


def test_an_internal_notes_photo_opens_to_staff_but_not_to_the_resident(
        territory, resident_user, grid_worker):
    petition = own_petition(resident_user)
    services.petition_add_note(petition_id=petition.pk, actor=grid_worker, note="内部",
                               photos=[photo("inside.jpg", color="blue")], is_internal=True)
    internal = petition.photos.get(event__is_internal=True)
    assert client_as(resident_user).get(media_url(internal)).status_code == 404
    # The staff member took it: their own photo, not audited.
    assert client_as(grid_worker).get(media_url(internal)).status_code == 200
    assert media_views() == []


def test_the_published_photo_opens_to_anyone_and_the_others_of_that_petition_do_not(
        frozen, territory, resident_user, microgrid_worker, grid_worker):
    petition = submit(resident_user, is_public=True, photos=[photo("first.jpg")])
    resolve_after_visit(petition_id=petition.pk, actor=microgrid_worker, resolution="已清理",
                        photos=[photo("after.jpg", color="green")])
    services.petition_verify(petition_id=petition.pk, actor=grid_worker)
    sent, result = petition.photos.order_by("id")
    assert client_as().get(media_url(sent)).status_code == 200
    assert client_as().get(media_url(result)).status_code == 404  # staff's photo: never public
    assert client_as().get(f"/petitions/public/{petition.pk}/photo/").status_code == 200
    assert media_views() == []


def test_behind_nginx_the_answer_is_an_empty_x_accel_redirect(territory, resident_user):
    sent = own_petition(resident_user).photos.get()
    with override_settings(MEDIA_ACCEL_REDIRECT="/protected-media/"):
        response = client_as(resident_user).get(media_url(sent))
    assert response.status_code == 200
    assert response.content == b""
    assert response["X-Accel-Redirect"] == f"/protected-media/{sent.image.name}"
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"].startswith("private, ")


def test_the_public_photo_view_hands_its_file_to_nginx_too(frozen, territory, resident_user,
                                                           microgrid_worker, grid_worker):
    petition = submit(resident_user, is_public=True, photos=[photo("first.jpg")])
    resolve_after_visit(petition_id=petition.pk, actor=microgrid_worker, resolution="已清理")
    services.petition_verify(petition_id=petition.pk, actor=grid_worker)
    with override_settings(MEDIA_ACCEL_REDIRECT="/protected-media/"):
        response = client_as().get(f"/petitions/public/{petition.pk}/photo/")
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == f"/protected-media/{petition.photos.get().image.name}"
    assert response["Cache-Control"] == "public, max-age=300"


def test_opening_a_photo_costs_a_bounded_number_of_queries(
        territory, resident_user, grid_worker, django_assert_max_num_queries):
    url = media_url(own_petition(resident_user).photos.get())
    client = client_as(grid_worker)
    # session, user, the photo with its petition and event, the worker's scope area, the audit.
    with django_assert_max_num_queries(5):
        assert client.get(url).status_code == 200
    with django_assert_max_num_queries(3):  # anonymous: the photo, then the 公示 rule (2)
        assert client_as().get(url).status_code == 404


def test_the_pages_that_show_photos_show_ones_their_viewer_can_open(
        territory, resident_user, grid_worker, other_resident):
    petition = own_petition(resident_user)
    services.petition_add_note(petition_id=petition.pk, actor=grid_worker, note="已到场查看",
                               is_internal=False, photos=[photo("visit.jpg", color="blue")])
    resident, staff = client_as(resident_user), client_as(grid_worker)
    shown_to_resident = IMG_SRC.findall(resident.get(f"/petitions/{petition.pk}/")
                                        .content.decode())
    shown_to_staff = IMG_SRC.findall(staff.get(f"/petitions/staff/{petition.pk}/")
                                     .content.decode())
    polled = IMG_SRC.findall(resident.get(f"/petitions/{petition.pk}/status/").content.decode())
    assert len(set(shown_to_resident)) == len(set(shown_to_staff)) == 2
    assert set(polled) == set(shown_to_resident)
    assert {resident.get(url).status_code for url in shown_to_resident} == {200}
    assert {staff.get(url).status_code for url in shown_to_staff} == {200}
    assert {client_as(other_resident).get(url).status_code for url in shown_to_staff} == {404}


def test_an_external_system_opens_the_photos_of_what_it_sent_with_its_api_key(
        territory, resident_user):
    from accounts.services import api_key_create

    api_key, raw_key = api_key_create(name="12345 热线")
    sent = submit(api_key.user, channel="hotline_12345", building=territory.building1,
                  contact_phone="13700000000", photos=[photo("door.jpg")]).photos.get()
    not_its = own_petition(resident_user).photos.get()
    keyed = Client(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")

    assert keyed.get(media_url(sent)).status_code == 200
    assert keyed.get(media_url(not_its)).status_code == 404
    assert Client(HTTP_AUTHORIZATION="Api-Key nope.nope").get(media_url(sent)).status_code == 404
