"""No one approves their own volunteer hours (issue 10, item 7): a staff member who registered
as a volunteer (by their account, or through the resident record of their account) can neither
approve nor add hours for themselves, whether through the service, the API, the staff page or
the admin (its action, its add and change forms). Another staff member in scope can."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core.exceptions import PermissionDeniedError
from tests.residents.factories import ResidentFactory
from tests.volunteers.factories import ActivityFactory, VolunteerFactory
from volunteers.models import HoursEntry
from volunteers.services import activities

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_volunteer(territory, community_staff):
    return VolunteerFactory(compound=territory.compound, user=community_staff, name="社区刘书记")


@pytest.fixture
def own_entry(territory, own_volunteer):
    activity = ActivityFactory(compound=territory.compound)
    return HoursEntry.objects.create(volunteer=own_volunteer, activity=activity,
                                     source=HoursEntry.Source.APP, hours=Decimal("72"),
                                     served_on=timezone.localdate())


def logged_in(user, client_class=Client):
    client = client_class()
    client.force_login(user)
    return client


def test_a_staff_member_cannot_approve_or_add_their_own_hours(own_entry, own_volunteer,
                                                              community_staff):
    with pytest.raises(PermissionDeniedError, match="不能认定或补录自己的志愿时长"):
        activities.hours_entry_decide(entry=own_entry, actor=community_staff, approve=True)
    with pytest.raises(PermissionDeniedError, match="不能认定或补录自己的志愿时长"):
        activities.hours_entry_add(volunteer=own_volunteer, actor=community_staff,
                                   hours=Decimal("8"), served_on=timezone.localdate(), note="值班")
    own_entry.refresh_from_db()
    assert own_entry.status == HoursEntry.Status.PENDING
    assert HoursEntry.objects.count() == 1


def test_a_volunteer_linked_through_the_staff_members_resident_record_is_theirs_too(
        territory, community_staff):
    resident = ResidentFactory(household=territory.household1, name="刘书记", user=community_staff)
    volunteer = VolunteerFactory(compound=territory.compound, resident=resident, name="刘书记")
    entry = HoursEntry.objects.create(volunteer=volunteer, source=HoursEntry.Source.APP,
                                      hours=Decimal("3"), served_on=timezone.localdate())
    with pytest.raises(PermissionDeniedError, match="不能认定或补录自己的志愿时长"):
        activities.hours_entry_decide(entry=entry, actor=community_staff, approve=True)


def test_the_api_the_staff_page_and_the_admin_refuse_self_approval(
        own_entry, own_volunteer, community_staff):
    api = APIClient()
    api.force_authenticate(community_staff)
    response = api.post(f"/api/v1/volunteers/hours/{own_entry.pk}/approve/")
    assert response.status_code == 403
    assert "自己" in response.json()["message"]
    response = api.post("/api/v1/volunteers/hours/", {
        "volunteer": own_volunteer.pk, "hours": "8", "served_on": timezone.localdate(),
        "note": "值班"}, format="json")
    assert response.status_code == 403

    page = logged_in(community_staff)
    page.post(f"/volunteers/staff/hours/{own_entry.pk}/approve/")
    community_staff.user_permissions.add(*_hours_permissions())
    page.post("/admin/volunteers/hoursentry/",
              {"action": "approve", "_selected_action": [own_entry.pk]})
    own_entry.refresh_from_db()
    assert own_entry.status == HoursEntry.Status.PENDING

    # The admin's forms write no ledger row of their own: an approved entry for oneself,
    # added or edited there, would skip the service.
    page.post("/admin/volunteers/hoursentry/add/", {
        "volunteer": own_volunteer.pk, "source": "staff", "status": "approved", "hours": "72",
        "served_on": timezone.localdate().isoformat()})
    page.post(f"/admin/volunteers/hoursentry/{own_entry.pk}/change/", {
        "volunteer": own_volunteer.pk, "source": "app", "status": "approved", "hours": "72",
        "served_on": timezone.localdate().isoformat()})
    own_entry.refresh_from_db()
    assert own_entry.status == HoursEntry.Status.PENDING
    assert not HoursEntry.objects.filter(status=HoursEntry.Status.APPROVED).exists()


def test_another_staff_member_in_scope_approves_them(own_entry, street_admin):
    activities.hours_entry_decide(entry=own_entry, actor=street_admin, approve=True)
    own_entry.refresh_from_db()
    assert (own_entry.status, own_entry.decided_by) == (HoursEntry.Status.APPROVED, street_admin)


def _hours_permissions():
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(content_type__app_label="volunteers",
                                     content_type__model="hoursentry")
