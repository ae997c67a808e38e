from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from tests.residents.factories import ResidentFactory
from tests.volunteers.factories import ActivityFactory
from volunteers.models import CareFile, CareFileAccessLog, HoursEntry, MicroWish, ProxyService
from volunteers.services import care, proxy, wishes

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
    care_file = care.care_file_create(resident=elder, actor=community_staff,
                                      category=CareFile.Category.ELDER_ALONE, risk="low")
    listing = admin_client_for.get("/admin/volunteers/carefile/").content.decode()
    assert "孙**" in listing and "孙爷爷" not in listing
    admin_client_for.get(f"/admin/volunteers/carefile/{care_file.pk}/change/")
    log = CareFileAccessLog.objects.get()
    assert (log.user, log.channel) == (street_admin, "admin")


# --- issue 13 item 13: the admin adds nothing behind the services' back ----------------------

def inline_management(prefix):
    return {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}


def event_rows(service):
    return [(event.old_status, event.new_status, event.actor_id)
            for event in service.events.order_by("pk")]


def test_a_proxy_service_added_in_the_admin_is_requested_through_the_service(
        admin_client_for, territory, resident_user):
    resident = resident_user.residents.get()
    by_service = proxy.proxy_service_request(resident=resident, kind="medicine",
                                             title="代购降压药")
    response = admin_client_for.post("/admin/volunteers/proxyservice/add/", {
        "resident": resident.pk, "compound": territory.other_compound.pk, "kind": "medicine",
        "title": "代购降压药", "description": "电话来电", "status": "assigned",
        **inline_management("events")})
    assert response.status_code == 302, response.content.decode()[-2000:]
    added = ProxyService.objects.exclude(pk=by_service.pk).get()
    # The compound is the resident's (not the one posted), the status the workflow's first.
    assert (added.compound_id, added.status) == (territory.compound.pk, "requested")
    assert event_rows(added) == event_rows(by_service) != []


def test_the_admin_offers_no_add_for_micro_wishes_and_links_to_the_wish_page(
        admin_client_for, territory, resident_user):
    assert admin_client_for.get("/admin/volunteers/microwish/add/").status_code == 403
    response = admin_client_for.post("/admin/volunteers/microwish/add/", {
        "resident": resident_user.residents.get().pk, "compound": territory.compound.pk,
        "title": "想要一副老花镜"})
    assert response.status_code == 403
    assert not MicroWish.objects.exists()
    listing = admin_client_for.get("/admin/volunteers/microwish/").content.decode()
    assert "/admin/volunteers/microwish/add/" not in listing
    assert 'href="/volunteers/wishes/"' in listing


@pytest.mark.parametrize(("model", "field"), [("proxyservice", "assignee"),
                                              ("microwish", "claimed_by")])
def test_the_change_form_leaves_the_workflows_people_to_the_services(
        admin_client_for, resident_user, model, field):
    # Assigning a volunteer or a claimer here would skip the service's event and notification.
    resident = resident_user.residents.get()
    if model == "proxyservice":
        row = proxy.proxy_service_request(resident=resident, kind="other", title="代取快递")
    else:
        row = wishes.micro_wish_submit(resident=resident, title="想要一副老花镜")
    html = admin_client_for.get(f"/admin/volunteers/{model}/{row.pk}/change/").content.decode()
    assert f'name="{field}"' not in html and 'name="resident"' not in html
    assert 'name="title"' in html
