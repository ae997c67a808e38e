from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from tests.residents.factories import ResidentFactory
from tests.volunteers.factories import ActivityFactory
from volunteers import services
from volunteers.models import CareFile, CareFileAccessLog, HoursEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_for(street_admin) -> Client:
    client = Client()
    client.force_login(street_admin)
    return client


@pytest.mark.parametrize("model", ["team", "volunteer", "responsibilityzone", "servicepost",
                                   "shift", "shiftswap", "activity", "hoursentry", "microwish",
                                   "proxyservice", "carefile", "carefileaccesslog",
                                   "activitysignup", "rosterslot", "teammembership"])
def test_every_volunteers_changelist_opens(admin_client_for, cast, model):
    response = admin_client_for.get(f"/admin/volunteers/{model}/")
    assert response.status_code == 200


def test_the_hours_changelist_has_no_n_plus_one_and_the_action_approves(
        admin_client_for, territory, cast, community_staff, street_admin,
        django_assert_max_num_queries):
    activity = ActivityFactory(compound=territory.compound)
    for volunteer in (cast.volunteer, cast.carer):
        HoursEntry.objects.create(volunteer=volunteer, activity=activity, source="app",
                                  hours=2, served_on=timezone.localdate())
    with django_assert_max_num_queries(12):
        assert admin_client_for.get("/admin/volunteers/hoursentry/").status_code == 200
    ids = list(HoursEntry.objects.values_list("pk", flat=True))
    admin_client_for.post("/admin/volunteers/hoursentry/",
                          {"action": "approve", "_selected_action": ids})
    assert set(HoursEntry.objects.values_list("status", flat=True)) == {"approved"}


def test_opening_a_care_file_in_the_admin_is_logged_and_the_list_is_masked(
        admin_client_for, territory, cast, community_staff, street_admin):
    elder = ResidentFactory(household=territory.household1, name="孙爷爷")
    care_file = services.care_file_create(resident=elder, actor=community_staff,
                                          category=CareFile.Category.ELDER_ALONE, risk="low")
    listing = admin_client_for.get("/admin/volunteers/carefile/").content.decode()
    assert "孙**" in listing and "孙爷爷" not in listing
    admin_client_for.get(f"/admin/volunteers/carefile/{care_file.pk}/change/")
    log = CareFileAccessLog.objects.get()
    assert (log.user, log.channel) == (street_admin, "admin")
