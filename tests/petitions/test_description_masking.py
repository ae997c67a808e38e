"""A phone or ID number a resident types into the description is masked on the staff pages
(the workbench row, the detail page): whole numbers are shown only through the audited reveal."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from core.masking import id_number_check_character
from tests.petitions.factories import submit

PHONE = "13912345678"
ID_NUMBER = "37021119560101123" + id_number_check_character("37021119560101123")


def test_the_workbench_and_the_detail_page_mask_numbers_typed_into_the_description(
        territory, street_admin):
    petition = submit(None, building=territory.building1, contact_phone="13800001111",
                      description=f"请回电{PHONE}，身份证{ID_NUMBER}，1单元0301")
    client = Client()
    client.force_login(street_admin)
    pages = [client.get(reverse("petitions:staff-queue"), {"tab": "all"}),
             client.get(reverse("petitions:staff-detail", args=[petition.pk]))]
    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200
        assert PHONE not in html and "139****5678" in html
        assert ID_NUMBER not in html
    assert "1单元0301" in pages[1].content.decode()  # rooms are not phone numbers
