"""Care files (关爱档案) are read by the elder's assigned caretaker and community staff in scope,
not by every member of the caring team (issue 10, item 17)."""

from __future__ import annotations

import pytest
from django.http import Http404
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tests.residents.factories import ResidentFactory
from tests.volunteers.conftest import resident_account
from tests.volunteers.factories import VolunteerFactory
from volunteers import selectors
from volunteers.models import CareFile, CareFileAccessLog, TeamMembership
from volunteers.services import care

pytestmark = pytest.mark.django_db


@pytest.fixture
def teammate(territory, cast):
    """A second member of the same caring team, assigned to no elder."""
    user = resident_account(territory, "teammate")
    volunteer = VolunteerFactory(compound=territory.compound, user=user, name="管家小王")
    TeamMembership.objects.create(team=cast.caring_team, volunteer=volunteer)
    return user


@pytest.fixture
def care_file(territory, cast, community_staff):
    elder = ResidentFactory(household=territory.household1, name="独居老人钱",
                            tags=["elder_alone"], birth_year=1938)
    return care.care_file_create(resident=elder, actor=community_staff,
                                 category=CareFile.Category.ELDER_ALONE,
                                 risk=CareFile.Risk.HIGH, caretaker=cast.carer,
                                 health_notes="心脏不好", emergency_phone="13912340000")


def test_a_caring_team_member_reads_only_the_care_files_assigned_to_them(
        care_file, cast, teammate, community_staff, street_admin):
    assert list(selectors.care_file_list(user=teammate)) == []
    with pytest.raises(Http404):
        selectors.care_file_get_for_user(user=teammate, care_file_id=care_file.pk)
    for allowed in (cast.carer_user, community_staff, street_admin):
        assert selectors.care_file_get_for_user(user=allowed, care_file_id=care_file.pk)

    page = Client()
    page.force_login(teammate)
    assert page.get(f"/volunteers/care/{care_file.pk}/").status_code == 404
    assert "独居老人" not in page.get("/volunteers/care/").content.decode()
    api = APIClient()
    api.force_authenticate(teammate)
    assert api.get(f"/api/v1/volunteers/care-files/{care_file.pk}/").status_code == 404
    assert api.get("/api/v1/volunteers/care-files/").json()["results"] == []
    with pytest.raises(Http404):
        care.care_visit_log(care_file=care_file, user=teammate,
                            visited_on=timezone.localdate(), notes="x")
    # Refusals read nothing, so nothing is logged as read.
    assert not CareFileAccessLog.objects.filter(user=teammate).exists()


def test_a_caretaker_who_is_deactivated_no_longer_reads_the_file(care_file, cast):
    cast.carer.is_active = False
    cast.carer.save(update_fields=["is_active"])
    with pytest.raises(Http404):
        selectors.care_file_get_for_user(user=cast.carer_user, care_file_id=care_file.pk)
