from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from tests.residents.factories import ResidentFactory
from tests.volunteers.factories import ActivityFactory, VolunteerFactory
from volunteers.models import (
    Activity,
    CareFile,
    CareFileAccessLog,
    HoursEntry,
    MicroWish,
    ProxyService,
)
from volunteers.services import activities, care, wishes

pytestmark = pytest.mark.django_db
BASE = "/api/v1/volunteers"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_activity_list_is_scoped_and_has_no_n_plus_one(territory, cast, community_staff,
                                                       django_assert_max_num_queries):
    for _ in range(4):
        activity = ActivityFactory(compound=territory.compound)
        activities.activity_signup(activity=activity, volunteer=cast.volunteer)
    ActivityFactory(compound=territory.other_compound)
    for user in (cast.volunteer_user, community_staff):
        client = client_for(user)
        with django_assert_max_num_queries(6):
            response = client.get(f"{BASE}/activities/")
        assert response.status_code == 200
        assert len(response.json()["results"]) == 4
        assert response.json()["results"][0]["confirmed_count"] == 1


def test_an_outsider_gets_404_for_an_activity_and_its_sign_ups(territory, outsider):
    activity = ActivityFactory(compound=territory.compound)
    client = client_for(outsider)
    assert client.get(f"{BASE}/activities/{activity.pk}/").status_code == 404
    assert client.get(f"{BASE}/activities/{activity.pk}/signups/").status_code == 404
    assert client.post(f"{BASE}/activities/{activity.pk}/signup/").status_code == 404


def test_staff_create_an_activity_and_a_volunteer_signs_up_checks_in_and_out(
        territory, cast, community_staff):
    starts_at = timezone.now() + timedelta(hours=1)
    response = client_for(community_staff).post(f"{BASE}/activities/", {
        "compound": territory.compound.pk, "title": "清雪除冰", "kind": "snow",
        "starts_at": starts_at.isoformat(), "ends_at": (starts_at + timedelta(hours=2)).isoformat(),
        "capacity": 5}, format="json")
    assert response.status_code == 201, response.json()
    activity_id = response.json()["id"]
    code = Activity.objects.get(pk=activity_id).checkin_code
    volunteer = client_for(cast.volunteer_user)
    signup = volunteer.post(f"{BASE}/activities/{activity_id}/signup/").json()
    assert signup["status"] == "confirmed"
    with time_machine.travel(starts_at, tick=False):
        bad = volunteer.post(f"{BASE}/signups/{signup['id']}/check-in/", {"code": "12"},
                             format="json")
        assert bad.status_code == 400
        assert volunteer.post(f"{BASE}/signups/{signup['id']}/check-in/", {"code": code},
                              format="json").status_code == 200
    with time_machine.travel(starts_at + timedelta(hours=1, minutes=40), tick=False):
        entry = volunteer.post(f"{BASE}/signups/{signup['id']}/check-out/", {"code": code},
                               format="json").json()
    assert entry["hours"] == "1.5"
    assert entry["status"] == "pending"
    assert volunteer.post(f"{BASE}/hours/{entry['id']}/approve/").status_code == 404
    approved = client_for(community_staff).post(f"{BASE}/hours/{entry['id']}/approve/")
    assert approved.json()["status"] == "approved"
    totals = volunteer.get(f"{BASE}/volunteers/me/hours/").json()
    assert totals[0]["app"] == "1.5"
    assert volunteer.post(f"{BASE}/activities/{activity_id}/cancel/").status_code == 404
    cancelled = client_for(community_staff).post(f"{BASE}/activities/{activity_id}/cancel/",
                                                 {"reason": "暴雪"}, format="json")
    assert cancelled.json()["status"] == "cancelled"


def test_the_hours_ledger_lists_without_n_plus_one(territory, cast, community_staff,
                                                   django_assert_max_num_queries):
    for _ in range(4):
        activities.hours_entry_add(volunteer=cast.volunteer, actor=community_staff, hours=1,
                                   served_on=timezone.localdate(), note="补录")
    with django_assert_max_num_queries(4):
        response = client_for(cast.volunteer_user).get(f"{BASE}/hours/?source=staff")
    assert len(response.json()["results"]) == 4
    assert client_for(cast.carer_user).get(f"{BASE}/hours/").json()["results"] == []


def test_staff_add_hours_only_for_volunteers_in_scope(territory, cast, outsider,
                                                      community_staff):
    body = {"volunteer": cast.volunteer.pk, "hours": "2.0",
            "served_on": timezone.localdate().isoformat(), "note": "防汛值守"}
    assert client_for(outsider).post(f"{BASE}/hours/", body, format="json").status_code == 404
    response = client_for(community_staff).post(f"{BASE}/hours/", body, format="json")
    assert response.status_code == 201
    assert HoursEntry.objects.get().source == HoursEntry.Source.STAFF


def test_the_micro_wish_api_walks_the_whole_journey(territory, cast, community_staff,
                                                    resident_user, outsider,
                                                    django_assert_max_num_queries):
    resident = client_for(resident_user)
    created = resident.post(f"{BASE}/wishes/", {"title": "想学用智能手机"}, format="json")
    assert created.status_code == 201
    wish_id = created.json()["id"]
    member = client_for(cast.member_user)
    assert member.post(f"{BASE}/wishes/{wish_id}/claim/").status_code == 404  # not published
    assert client_for(outsider).post(f"{BASE}/wishes/{wish_id}/publish/").status_code == 404
    client_for(community_staff).post(f"{BASE}/wishes/{wish_id}/publish/")
    claimed = member.post(f"{BASE}/wishes/{wish_id}/claim/").json()
    assert claimed["status"] == "claimed"
    assert claimed["resident_name"] == "王**"
    member.post(f"{BASE}/wishes/{wish_id}/fulfil/", {"note": "上门教了两次"}, format="json")
    assert resident.post(f"{BASE}/wishes/{wish_id}/confirm/").json()["status"] == "confirmed"
    for index in range(3):
        wishes.micro_wish_submit(resident=resident_user.residents.get(), title=f"心愿{index}")
    with django_assert_max_num_queries(5):
        listed = client_for(community_staff).get(f"{BASE}/wishes/").json()["results"]
    assert len(listed) == 4
    assert listed[-1]["resident_name"] == "王阿姨"


def test_proxy_services_list_and_flow(territory, cast, community_staff, resident_user,
                                      outsider, django_assert_max_num_queries):
    resident = client_for(resident_user)
    for index in range(3):
        resident.post(f"{BASE}/proxy-services/", {"kind": "payment", "title": f"代缴{index}"},
                      format="json")
    service_id = ProxyService.objects.order_by("id").first().pk
    assert client_for(outsider).get(f"{BASE}/proxy-services/{service_id}/").status_code == 404
    staff = client_for(community_staff)
    staff.post(f"{BASE}/proxy-services/{service_id}/assign/", {"assignee": cast.volunteer.pk},
               format="json")
    volunteer = client_for(cast.volunteer_user)
    assert volunteer.post(f"{BASE}/proxy-services/{service_id}/complete/",
                          {"note": "已缴清"}, format="json").status_code == 200
    assert resident.post(f"{BASE}/proxy-services/{service_id}/confirm/").json()[
        "status"] == "confirmed"
    with django_assert_max_num_queries(5):
        assert len(staff.get(f"{BASE}/proxy-services/").json()["results"]) == 3
    counts = staff.get(f"{BASE}/dashboard/").json()
    assert counts["services"] == {"total": 3, "open": 2, "done": 1}


@pytest.fixture
def care_files(territory, cast, community_staff):
    files = []
    for index in range(3):
        elder = ResidentFactory(household=territory.household1, name=f"赵老{index}",
                                tags=["elder_alone"])
        files.append(care.care_file_create(
            resident=elder, actor=community_staff, category=CareFile.Category.ELDER_ALONE,
            risk=CareFile.Risk.MEDIUM, caretaker=cast.carer, health_notes="糖尿病",
            emergency_phone="13912345678"))
    return files


def test_care_file_lists_are_masked_and_carry_no_notes(care_files, cast,
                                                       django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        rows = client_for(cast.carer_user).get(f"{BASE}/care-files/").json()["results"]
    assert len(rows) == 3
    assert rows[0]["elder_name"].endswith("*")
    assert "health_notes" not in rows[0]
    assert not CareFileAccessLog.objects.exists()


def test_a_care_file_detail_is_logged_and_refused_to_others(care_files, cast, outsider,
                                                            grid_worker, community_staff):
    care_file = care_files[0]
    for refused in (outsider, grid_worker, cast.volunteer_user, cast.member_user):
        assert client_for(refused).get(
            f"{BASE}/care-files/{care_file.pk}/").status_code == 404
    detail = client_for(community_staff).get(f"{BASE}/care-files/{care_file.pk}/").json()
    assert detail["health_notes"] == "糖尿病"
    assert detail["elder_name"] == "赵老0"
    log = CareFileAccessLog.objects.get()
    assert (log.user, log.channel) == (community_staff, "api")


def test_a_carer_logs_a_visit_through_the_api(care_files, cast, outsider):
    care_file = care_files[0]
    body = {"visited_on": timezone.localdate().isoformat(), "notes": "身体尚可"}
    assert client_for(outsider).post(f"{BASE}/care-files/{care_file.pk}/visits/", body,
                                     format="json").status_code == 404
    response = client_for(cast.carer_user).post(f"{BASE}/care-files/{care_file.pk}/visits/",
                                                body, format="json")
    assert response.status_code == 201
    assert care_file.visits.count() == 1


def test_shift_swaps_through_the_api(territory, cast):
    from tests.volunteers.factories import ServicePostFactory
    from volunteers.models import Shift

    post = ServicePostFactory(compound=territory.compound)
    starts_at = timezone.now() + timedelta(days=2)
    shift = Shift.objects.create(post=post, volunteer=cast.volunteer, starts_at=starts_at,
                                 ends_at=starts_at + timedelta(hours=2), remind_at=starts_at)
    other = VolunteerFactory(compound=territory.other_compound)
    volunteer = client_for(cast.volunteer_user)
    assert volunteer.post(f"{BASE}/shifts/{shift.pk}/swap/", {"to_volunteer": other.pk},
                          format="json").status_code == 404
    swap = volunteer.post(f"{BASE}/shifts/{shift.pk}/swap/", {"to_volunteer": cast.carer.pk},
                          format="json").json()
    assert volunteer.post(f"{BASE}/swaps/{swap['id']}/decide/", {"accept": True},
                          format="json").status_code == 404
    decided = client_for(cast.carer_user).post(f"{BASE}/swaps/{swap['id']}/decide/",
                                               {"accept": True}, format="json")
    assert decided.json()["status"] == "accepted"
    assert client_for(cast.carer_user).get(f"{BASE}/shifts/").json()["results"][0][
        "id"] == shift.pk


def test_an_outsider_gets_404_for_wishes_shifts_and_teams(territory, cast, outsider,
                                                          resident_user):
    wish = wishes.micro_wish_submit(resident=resident_user.residents.get(), title="x")
    client = client_for(outsider)
    assert client.get(f"{BASE}/wishes/{wish.pk}/").status_code == 404
    assert client.get(f"{BASE}/teams/{cast.caring_team.pk}/").status_code == 404
    assert client.get(f"{BASE}/teams/{cast.caring_team.pk}/ranking/").status_code == 404
    assert client.get(f"{BASE}/zones/").json() == []
    assert MicroWish.objects.count() == 1


def test_the_schema_has_no_warnings_for_volunteers():
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    SchemaGenerator().get_schema(request=None, public=True)
    messages = [str(message) for message in {**GENERATOR_STATS._warn_cache,
                                             **GENERATOR_STATS._error_cache}]
    assert not [message for message in messages if "olunteer" in message or "Volunteer" in
                message]


def test_the_zone_list_masks_the_members_name_except_for_staff_in_scope(
        territory, cast, resident_user, community_staff):
    # A responsibility zone names its party member as the 亮身份 board does: 王** for residents.
    from volunteers.models import ResponsibilityZone

    resident = cast.member.resident
    resident.name = "王建华"
    resident.save(update_fields=["name"])
    ResponsibilityZone.objects.create(compound=territory.compound, number=1, name="3号楼",
                                      party_member=cast.member)
    rows = client_for(resident_user).get(f"{BASE}/zones/").json()
    assert [row["party_member_name"] for row in rows] == ["王**"]
    rows = client_for(community_staff).get(f"{BASE}/zones/").json()
    assert [row["party_member_name"] for row in rows] == ["王建华"]


@pytest.mark.parametrize("name", ["starts_after", "starts_before"])
def test_an_out_of_range_activity_date_filter_is_a_400_not_a_500(territory, community_staff,
                                                                  name):
    response = client_for(community_staff).get(f"{BASE}/activities/",
                                                {name: "9999-12-31T23:59:59-08:00"})
    assert response.status_code == 400, response.content
    assert "1900" in str(response.json())
