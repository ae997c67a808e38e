"""Who a petition texts (issue 10, item 5): only a number someone verified.

A resident's SMS go to the phone they signed in with (verified by a code), whatever number they
type as a contact; an external system's caller is that system's to inform (it hears every change
by webhook), so the number it sends is kept for staff to call but never texted.
"""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.services import api_key_create
from notifications.models import OutboundMessage
from petitions.models import Petition
from tests.petitions.factories import category, resolve_after_visit, submit

pytestmark = pytest.mark.django_db
STRANGER = "13912341779"  # someone else's number, typed in by whoever submits


def _recipients() -> set[str]:
    return set(OutboundMessage.objects.values_list("recipient", flat=True))


def test_a_residents_sms_go_to_their_verified_phone_not_to_a_contact_phone_they_typed(
        territory, resident_user, microgrid_worker):
    client = APIClient()
    client.force_login(resident_user)
    response = client.post("/api/v1/petitions/", {
        "category": category().pk, "description": "楼道灯坏了", "contact_phone": STRANGER,
    }, format="json")
    assert response.status_code == 201, response.content
    petition = Petition.objects.get(pk=response.json()["id"])
    resolve_after_visit(petition_id=petition.pk, actor=microgrid_worker,
                        resolution="已更换灯泡")
    # The other number is kept: staff may call it back; the portal never texts it.
    assert petition.contact_phone == STRANGER
    assert OutboundMessage.objects.count() == 2  # submitted, resolved
    assert _recipients() == {resident_user.phone}


def test_an_open311_phone_is_kept_for_staff_but_never_texted(territory, microgrid_worker):
    _api_key, raw_key = api_key_create(name="12345 热线")
    response = Client().post("/open311/v2/requests.json", {
        "api_key": raw_key, "service_code": str(category().pk), "description": "井盖松动",
        "address_id": str(territory.building1.pk), "phone": STRANGER,
    })
    assert response.status_code == 201, response.content
    petition = Petition.objects.get()
    resolve_after_visit(petition_id=petition.pk, actor=microgrid_worker,
                        resolution="已更换井盖")
    assert petition.contact_phone == STRANGER
    assert not OutboundMessage.objects.exists()


def test_a_walk_in_recorded_by_staff_texts_the_number_they_took_down(
        territory, community_staff):
    # The visitor gave it to a member of staff, who is on record as having recorded it.
    petition = submit(community_staff, channel="walk_in", building=territory.building1,
                      contact_phone="13700001234")
    assert petition.recorded_by_id == community_staff.pk
    assert _recipients() == {"13700001234"}


def test_a_petition_nobody_vouches_for_texts_no_one(territory):
    # No account, no member of staff who took the number down: it could be anyone's.
    submit(None, building=territory.building1, contact_phone=STRANGER)
    assert not OutboundMessage.objects.exists()
