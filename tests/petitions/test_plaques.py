"""Building QR plaques (楼栋码): the printed sheet, the resident's scan, the worker's check-in."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from petitions.models import BuildingPlaque, Petition
from petitions.services import building_plaque_get_or_create
from tests.petitions.conftest import MONDAY_9AM
from tests.petitions.factories import submit


def _scan_url(building) -> str:
    plaque = building_plaque_get_or_create(building_id=building.pk)
    return reverse("petitions:plaque", args=[plaque.token])


def test_community_staff_print_a_sheet_whose_qr_code_opens_the_plaque(client, territory,
                                                                       community_staff):
    client.force_login(community_staff)

    response = client.get(reverse("petitions:staff-plaque-sheet",
                                  args=[territory.building1.pk]))

    assert response.status_code == 200
    plaque = BuildingPlaque.objects.get(building=territory.building1)
    page = response.content.decode()
    assert "<svg" in page and "长江瑞城 1号楼" in page
    assert f"/petitions/plaque/{plaque.token}/" in page
    # Printing again shows the same plaque: the one on the wall keeps working.
    client.get(reverse("petitions:staff-plaque-sheet", args=[territory.building1.pk]))
    assert BuildingPlaque.objects.filter(building=territory.building1).count() == 1


def test_a_building_outside_the_staff_scope_has_no_sheet(client, territory, community_staff):
    client.force_login(community_staff)

    response = client.get(reverse("petitions:staff-plaque-sheet",
                                  args=[territory.other_building.pk]))

    assert response.status_code == 404
    assert not BuildingPlaque.objects.exists()


def test_the_plaque_token_is_not_the_building_id(territory):
    plaque = building_plaque_get_or_create(building_id=territory.building1.pk)
    assert len(plaque.token) >= 20 and str(territory.building1.pk) != plaque.token


def test_a_resident_who_scans_starts_a_petition_with_the_building_filled_in(client, territory,
                                                                            resident_user):
    client.force_login(resident_user)

    response = client.get(_scan_url(territory.building3))

    assert response.status_code == 302
    form_page = client.get(response["Location"]).content.decode()
    assert f'<option value="{territory.building3.pk}" selected>' in form_page


def test_a_visitor_who_scans_is_offered_both_sign_ins_that_come_back_to_the_plaque(client,
                                                                                   territory):
    url = _scan_url(territory.building1)

    page = client.get(url).content.decode()

    assert reverse("accounts:phone-login") in page and reverse("accounts:login") in page
    assert f"next={url}" in page


def test_an_unknown_plaque_is_not_found(client, db):
    assert client.get(reverse("petitions:plaque", args=["no-such-code"])).status_code == 404


def test_the_holder_who_scans_on_site_is_checked_in_within_seven_minutes(
        client, territory, resident_user, microgrid_worker):
    with time_machine.travel(MONDAY_9AM, tick=False) as traveller:
        petition = submit(resident_user, building=territory.building1)
        url = _scan_url(territory.building1)
        client.force_login(microgrid_worker)
        traveller.shift(timedelta(minutes=6))

        page = client.get(url).content.decode()
        assert f"#{petition.pk}" in page
        response = client.post(reverse("petitions:plaque-check-in",
                                       args=[url.split("/")[-2], petition.pk]))

    assert response["Location"] == reverse("petitions:staff-detail", args=[petition.pk])
    petition.refresh_from_db()
    assert petition.state == Petition.State.ON_SITE
    assert petition.arrived_at == MONDAY_9AM + timedelta(minutes=6)
    assert petition.arrival_missed is False
    assert petition.events.get(kind="checked_in").note == "扫楼栋码到场签到"


def test_another_buildings_plaque_does_not_check_the_worker_in(client, territory, resident_user,
                                                               microgrid_worker):
    petition = submit(resident_user, building=territory.building1)
    wrong = building_plaque_get_or_create(building_id=territory.building2.pk)
    client.force_login(microgrid_worker)

    assert f"#{petition.pk}" not in client.get(_scan_url(territory.building2)).content.decode()
    response = client.post(reverse("petitions:plaque-check-in", args=[wrong.token, petition.pk]),
                           follow=True)

    assert "不是该诉求所在楼栋" in response.content.decode()
    petition.refresh_from_db()
    assert petition.state == Petition.State.DISPATCHED and petition.arrived_at is None


@pytest.mark.parametrize("who", ["grid_worker", "resident_user"])
def test_only_the_holder_checks_in_by_plaque(client, request, territory, resident_user,
                                             microgrid_worker, who):
    petition = submit(resident_user, building=territory.building1)
    plaque = building_plaque_get_or_create(building_id=territory.building1.pk)
    client.force_login(request.getfixturevalue(who))

    client.post(reverse("petitions:plaque-check-in", args=[plaque.token, petition.pk]))

    petition.refresh_from_db()
    assert petition.state == Petition.State.DISPATCHED and petition.arrived_at is None
