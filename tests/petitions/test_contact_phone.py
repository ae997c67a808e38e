"""One masking rule for the contact phone (selectors.petition_contact_phone_for), on the pages
and in the API: whole only to the person it belongs to; everyone else sees it masked and staff
in scope reveal it through the audited reveal-contact action."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tests.petitions.factories import submit

pytestmark = pytest.mark.django_db
WHOLE, MASKED = "13800001111", "138****1111"


def _page(user, url_name: str, petition_id: int) -> str:
    client = Client()
    client.force_login(user)
    return client.get(reverse(url_name, args=[petition_id])).content.decode()


def _api(user, petition_id: int) -> str:
    client = APIClient()
    client.force_login(user)
    return client.get(f"/api/v1/petitions/{petition_id}/").json()["contact_phone"]


def _shown(page: str) -> str:
    return WHOLE if WHOLE in page else MASKED if MASKED in page else ""


def test_the_resident_sees_their_own_number_alike_on_their_page_and_in_the_api(
        territory, resident_user, microgrid_worker):
    petition = submit(resident_user)
    page = _page(resident_user, "petitions:detail", petition.pk)
    assert _shown(page) == _api(resident_user, petition.pk) == WHOLE


@pytest.mark.parametrize("viewer", ["microgrid_worker", "grid_worker", "street_admin"])
def test_staff_see_the_number_masked_alike_on_the_staff_page_and_in_the_api(
        viewer, request, territory, resident_user, microgrid_worker):
    user = request.getfixturevalue(viewer)
    petition = submit(resident_user)
    page = _page(user, "petitions:staff-detail", petition.pk)
    assert _shown(page) == _api(user, petition.pk) == MASKED
