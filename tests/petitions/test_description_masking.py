"""A phone or ID number typed into free text (a description, a staff note, an exclusion's
explanation) is masked on the staff pages: whole numbers are shown only through the audited
reveal."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from core.masking import id_number_check_character
from petitions import assessment, services
from petitions.models import AssessmentExclusion
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


def test_a_number_in_a_staff_note_is_masked_on_the_timeline_and_in_the_exclusion_queue(
        territory, street_admin, community_staff):
    petition = submit(None, building=territory.building1, contact_phone="13800001111")
    services.petition_add_note(petition_id=petition.pk, actor=community_staff,
                               note=f"已联系物业经理{PHONE}", is_internal=False)
    assessment.exclusion_request(petition_id=petition.pk, actor=community_staff,
                                 reason=AssessmentExclusion.Reason.DUPLICATE,
                                 note=f"与另一件重复，来电{PHONE}")
    client = Client()
    client.force_login(street_admin)
    for page in (client.get(reverse("petitions:staff-detail", args=[petition.pk])),
                 client.get(reverse("petitions:staff-exclusions"))):
        html = page.content.decode()
        assert page.status_code == 200
        assert PHONE not in html and "139****5678" in html
