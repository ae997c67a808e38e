from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from tests.residents.factories import ResidentFactory
from tests.volunteers.factories import ActivityFactory, ServicePostFactory
from volunteers.models import (
    ActivitySignup,
    CareFile,
    CareFileAccessLog,
    HoursEntry,
    MicroWish,
    RosterSlot,
    Shift,
)
from volunteers.services import activities, care, proxy, rosters, wishes

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_volunteer_home_lists_shifts_and_sign_ups_without_n_plus_one(
        territory, cast, django_assert_max_num_queries):
    post = ServicePostFactory(compound=territory.compound)
    for day in range(1, 4):
        starts_at = timezone.now() + timedelta(days=day)
        Shift.objects.create(post=post, volunteer=cast.volunteer, starts_at=starts_at,
                             ends_at=starts_at + timedelta(hours=2), remind_at=starts_at)
        activities.activity_signup(activity=ActivityFactory(compound=territory.compound),
                                   volunteer=cast.volunteer)
    client = client_for(cast.volunteer_user)
    with django_assert_max_num_queries(14):
        response = client.get("/volunteers/")
    assert response.status_code == 200
    assert response.content.decode().count("政策宣传岗") == 3


def test_a_resident_registers_as_a_volunteer_from_the_page(territory, resident_user):
    client = client_for(resident_user)
    assert "登记为志愿者" in client.get("/volunteers/").content.decode()
    response = client.post("/volunteers/register/", follow=True)
    assert "欢迎加入" in response.content.decode()
    assert resident_user.volunteer.name == "王阿姨"


def test_the_activity_list_has_no_n_plus_one(territory, cast, django_assert_max_num_queries):
    for _ in range(5):
        activities.activity_signup(activity=ActivityFactory(compound=territory.compound),
                                   volunteer=cast.volunteer)
    client = client_for(cast.volunteer_user)
    with django_assert_max_num_queries(6):
        response = client.get("/volunteers/activities/")
    assert response.content.decode().count("已报 1/10") == 5


def test_sign_up_check_in_and_out_by_code_on_the_activity_page(territory, cast,
                                                               community_staff):
    activity = ActivityFactory(compound=territory.compound, checkin_code="246810")
    client = client_for(cast.volunteer_user)
    client.post(f"/volunteers/activities/{activity.pk}/signup/")
    signup = ActivitySignup.objects.get()
    with time_machine.travel(activity.starts_at, tick=False):
        bad = client.post(f"/volunteers/signups/{signup.pk}/check-in/", {"code": "abc"},
                          follow=True)
        assert "签到码为 6 位数字" in bad.content.decode()
        client.post(f"/volunteers/signups/{signup.pk}/check-in/", {"code": "246810"})
    with time_machine.travel(activity.starts_at + timedelta(hours=2), tick=False):
        page = client.post(f"/volunteers/signups/{signup.pk}/check-out/", {"code": "246810"},
                           follow=True)
    assert "2.0 小时" in page.content.decode()
    entry = HoursEntry.objects.get()
    staff = client_for(community_staff)
    staff.post(f"/volunteers/staff/hours/{entry.pk}/approve/")
    entry.refresh_from_db()
    assert entry.status == HoursEntry.Status.APPROVED
    hours_page = client.get("/volunteers/my/hours/").content.decode()
    assert "已认定" in hours_page
    year = timezone.localdate(activity.starts_at).year
    certificate = client.get(f"/volunteers/my/certificate/{year}/").content.decode()
    assert "志愿服务证明" in certificate and "2.0" in certificate


def test_a_refused_rule_shows_a_chinese_message_not_a_500(territory, cast):
    activity = ActivityFactory(compound=territory.other_compound)
    client = client_for(cast.volunteer_user)
    assert client.post(f"/volunteers/activities/{activity.pk}/signup/").status_code == 404
    own = ActivityFactory(compound=territory.compound, starts_at=timezone.now() - timedelta(
        hours=5), ends_at=timezone.now() - timedelta(hours=1))
    response = client.post(f"/volunteers/activities/{own.pk}/signup/", follow=True)
    assert "该活动已截止报名" in response.content.decode()


def test_the_staff_check_in_desk_shows_code_and_qr_and_checks_in(territory, cast,
                                                                 community_staff, outsider,
                                                                 django_assert_max_num_queries):
    activity = ActivityFactory(compound=territory.compound, checkin_code="135790")
    activities.activity_signup(activity=activity, volunteer=cast.volunteer)
    activities.activity_signup(activity=activity, volunteer=cast.carer)
    staff = client_for(community_staff)
    with django_assert_max_num_queries(8):
        page = staff.get(f"/volunteers/staff/activities/{activity.pk}/").content.decode()
    assert "135790" in page and "<svg" in page
    assert client_for(outsider).get(f"/volunteers/staff/activities/{activity.pk}/"
                                    ).status_code == 404
    assert client_for(cast.volunteer_user).get(f"/volunteers/staff/activities/{activity.pk}/"
                                               ).status_code == 404
    signup = ActivitySignup.objects.get(volunteer=cast.volunteer)
    with time_machine.travel(activity.starts_at):
        staff.post(f"/volunteers/staff/signups/{signup.pk}/check-in/")
    signup.refresh_from_db()
    assert signup.checked_in_at is not None


def test_the_staff_dashboard_has_no_n_plus_one(territory, cast, community_staff,
                                              resident_user, django_assert_max_num_queries):
    post = ServicePostFactory(compound=territory.compound)
    RosterSlot.objects.create(post=post, volunteer=cast.volunteer, weekday=0,
                              start_time="09:00", end_time="11:00")
    rosters.roster_generate(post=post, start=timezone.localdate(),
                            end=timezone.localdate() + timedelta(days=14))
    for index in range(3):
        wishes.micro_wish_submit(resident=resident_user.residents.get(), title=f"心愿{index}")
        proxy.proxy_service_request(resident=resident_user.residents.get(), kind="payment",
                                    title=f"代缴{index}")
        elder = ResidentFactory(household=territory.household1, name=f"老人{index}")
        care.care_file_create(resident=elder, actor=community_staff,
                              category=CareFile.Category.EMPTY_NEST, risk="high",
                              caretaker=cast.carer)
        activities.hours_entry_add(volunteer=cast.volunteer, actor=community_staff, hours=1,
                                   served_on=timezone.localdate(), note="补录")
    CareFile.objects.update(next_visit_due=timezone.localdate() - timedelta(days=1))
    client = client_for(community_staff)
    with django_assert_max_num_queries(20):
        response = client.get("/volunteers/staff/")
    assert response.status_code == 200
    assert client_for(cast.volunteer_user).get("/volunteers/staff/").status_code == 404


def test_staff_generate_a_roster_from_the_dashboard(territory, cast, community_staff):
    post = ServicePostFactory(compound=territory.compound)
    RosterSlot.objects.create(post=post, volunteer=cast.volunteer, weekday=2,
                              start_time="09:00", end_time="11:00")
    today = timezone.localdate()
    response = client_for(community_staff).post(
        f"/volunteers/staff/posts/{post.pk}/roster/generate/",
        {"start": today.isoformat(), "end": (today + timedelta(days=13)).isoformat()},
        follow=True)
    assert "已生成 2 个班次" in response.content.decode()


def test_the_micro_wish_pages_walk_the_journey(territory, cast, community_staff,
                                              resident_user, outsider,
                                              django_assert_max_num_queries):
    resident = client_for(resident_user)
    response = resident.post("/volunteers/wishes/create/", {"title": "想要一副老花镜"})
    wish = MicroWish.objects.get()
    assert response.url == f"/volunteers/wishes/{wish.pk}/"
    assert client_for(outsider).get(response.url).status_code == 404
    assert client_for(cast.member_user).get(response.url).status_code == 404  # not published
    client_for(community_staff).post(f"/volunteers/wishes/{wish.pk}/publish/")
    member = client_for(cast.member_user)
    assert "我来认领" in member.get(response.url).content.decode()
    member.post(f"/volunteers/wishes/{wish.pk}/claim/")
    empty = member.post(f"/volunteers/wishes/{wish.pk}/fulfil/", {"note": ""}, follow=True)
    assert "请填写完成说明或上传照片" in empty.content.decode()
    member.post(f"/volunteers/wishes/{wish.pk}/fulfil/", {"note": "已配好送上门"})
    resident.post(f"/volunteers/wishes/{wish.pk}/confirm/")
    wish.refresh_from_db()
    assert wish.status == MicroWish.Status.CONFIRMED
    for index in range(3):
        wishes.micro_wish_submit(resident=resident_user.residents.get(), title=f"心愿{index}")
    with django_assert_max_num_queries(6):
        assert resident.get("/volunteers/wishes/").content.decode().count("/volunteers/wishes/"
                                                                          ) >= 4


def test_the_proxy_service_pages(territory, cast, community_staff, resident_user, outsider,
                                 django_assert_max_num_queries):
    resident = client_for(resident_user)
    response = resident.post("/volunteers/services/create/",
                             {"kind": "medicine", "title": "代购降压药"})
    service_url = response.url
    assert client_for(outsider).get(service_url).status_code == 404
    service_id = int(service_url.rstrip("/").rsplit("/", 1)[1])
    client_for(community_staff).post(f"/volunteers/services/{service_id}/assign/",
                                     {"assignee": cast.volunteer.pk})
    client_for(cast.volunteer_user).post(f"/volunteers/services/{service_id}/complete/",
                                         {"note": "已送到"})
    page = resident.get(service_url).content.decode()
    assert "确认已办好" in page
    with django_assert_max_num_queries(6):
        assert "代购降压药" in resident.get("/volunteers/services/").content.decode()


def test_care_pages_are_masked_logged_and_closed_to_others(territory, cast, community_staff,
                                                          outsider, grid_worker,
                                                          django_assert_max_num_queries):
    for index in range(3):
        elder = ResidentFactory(household=territory.household1, name=f"钱奶奶{index}")
        care.care_file_create(resident=elder, actor=community_staff,
                              category=CareFile.Category.ELDER_ALONE, risk="medium",
                              caretaker=cast.carer, health_notes="腿脚不便")
    carer = client_for(cast.carer_user)
    with django_assert_max_num_queries(6):
        listing = carer.get("/volunteers/care/").content.decode()
    assert "钱**" in listing and "钱奶奶0" not in listing and "腿脚不便" not in listing
    care_file = CareFile.objects.first()
    for refused in (outsider, grid_worker, cast.volunteer_user):
        assert client_for(refused).get(f"/volunteers/care/{care_file.pk}/").status_code == 404
    assert "钱" not in client_for(outsider).get("/volunteers/care/").content.decode()
    assert client_for(cast.volunteer_user).get("/volunteers/care/").status_code == 404
    detail = carer.get(f"/volunteers/care/{care_file.pk}/").content.decode()
    assert "腿脚不便" in detail
    assert CareFileAccessLog.objects.filter(user=cast.carer_user, channel="page").count() == 1
    carer.post(f"/volunteers/care/{care_file.pk}/visits/create/",
               {"visited_on": timezone.localdate().isoformat(), "condition": "good",
                "notes": "血压平稳"})
    assert care_file.visits.count() == 1


def test_the_public_board_shows_zones_posts_and_members(territory, cast,
                                                        django_assert_max_num_queries):
    from volunteers.models import ResponsibilityZone

    cast.member.duties = "负责3号楼政策宣传"
    cast.member.save(update_fields=["duties"])
    zone = ResponsibilityZone.objects.create(compound=territory.compound, number=1,
                                             name="3号楼", party_member=cast.member)
    zone.buildings.add(territory.building3)
    with django_assert_max_num_queries(10):
        page = Client().get(f"/volunteers/board/?compound={territory.compound.pk}")
    text = page.content.decode()
    assert "负责3号楼政策宣传" in text and "1号 3号楼" in text


def test_shift_swap_pages(territory, cast):
    post = ServicePostFactory(compound=territory.compound)
    starts_at = timezone.now() + timedelta(days=2)
    shift = Shift.objects.create(post=post, volunteer=cast.volunteer, starts_at=starts_at,
                                 ends_at=starts_at + timedelta(hours=2), remind_at=starts_at)
    volunteer = client_for(cast.volunteer_user)
    assert cast.carer.name in volunteer.get(f"/volunteers/shifts/{shift.pk}/swap/"
                                            ).content.decode()
    assert client_for(cast.carer_user).get(f"/volunteers/shifts/{shift.pk}/swap/"
                                           ).status_code == 404
    volunteer.post(f"/volunteers/shifts/{shift.pk}/swap/create/",
                   {"to_volunteer": cast.carer.pk, "reason": "出差"})
    carer = client_for(cast.carer_user)
    swap_id = shift.swaps.get().pk
    assert "换班请求" in carer.get("/volunteers/").content.decode()
    carer.post(f"/volunteers/swaps/{swap_id}/accept/")
    shift.refresh_from_db()
    assert shift.volunteer == cast.carer


def test_staff_add_hours_and_print_a_certificate(territory, cast, community_staff, outsider):
    staff = client_for(community_staff)
    url = f"/volunteers/staff/volunteers/{cast.volunteer.pk}/"
    assert client_for(outsider).get(url).status_code == 404
    staff.post(f"{url}hours/create/", {"hours": "3", "served_on": timezone.localdate(
        ).isoformat(), "note": "防汛值守"})
    year = timezone.localdate().year
    certificate = staff.get(f"{url}certificate/{year}/").content.decode()
    assert "防汛值守" in certificate and "@media print" not in certificate
    assert "3.0" in certificate


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/"])
def test_an_action_never_redirects_to_an_outside_next(resident_user, next_url) -> None:
    response = client_for(resident_user).post("/volunteers/register/", {"next": next_url})
    assert response.status_code == 302
    assert response["Location"] == "/volunteers/"


def test_the_public_board_masks_member_names_except_for_staff_in_scope(
        territory, cast, resident_user, outsider, community_staff):
    # The same rule as the governance page and the API board: 王** for the public, a resident of
    # the compound and staff of another community; the full name only for staff in scope.
    resident = cast.member.resident
    resident.name = "王建华"
    resident.save(update_fields=["name"])
    url = f"/volunteers/board/?compound={territory.compound.pk}"
    for client in (Client(), client_for(resident_user), client_for(outsider)):
        text = client.get(url).content.decode()
        assert "王**" in text and "王建华" not in text
    assert "王建华" in client_for(community_staff).get(url).content.decode()


# --- residents' rough edges (issue 13) ----------------------------------------------------------


@pytest.mark.parametrize("url", ["/volunteers/", "/volunteers/wishes/", "/volunteers/services/"])
def test_a_signed_out_resident_tapping_volunteering_is_sent_to_the_resident_sign_in(db, url):
    response = Client().get(url)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == "/accounts/phone/"
    assert parse_qs(location.query)["next"] == [url]
    # A member of staff who landed there goes on to their own sign-in, the page kept.
    sign_in = Client().get(response["Location"]).content.decode()
    assert f'href="/accounts/login/?next={url}"' in sign_in


@pytest.mark.parametrize("closed", ["status", "ended"])
def test_a_closed_activity_offers_no_sign_up(territory, cast, closed):
    activity = ActivityFactory(compound=territory.compound)
    if closed == "status":
        activity.status = activity.Status.CLOSED
        activity.save(update_fields=["status"])
    url = f"/volunteers/activities/{activity.pk}/"
    with time_machine.travel(activity.ends_at + timedelta(minutes=1) if closed == "ended"
                             else timezone.now(), tick=False):
        page = client_for(cast.volunteer_user).get(url).content.decode()
    assert "我要报名" not in page
    assert "报名已截止" in page
    assert "报名中" not in page  # nor does its badge say so


def test_an_open_activity_still_offers_sign_up(territory, cast):
    activity = ActivityFactory(compound=territory.compound)
    page = client_for(cast.volunteer_user).get(f"/volunteers/activities/{activity.pk}/")
    assert "我要报名" in page.content.decode()


def test_the_wish_and_service_timelines_show_status_labels_not_codes(
        territory, cast, community_staff, resident_user):
    resident = client_for(resident_user)
    wish_url = resident.post("/volunteers/wishes/create/", {"title": "想要一副老花镜"}).url
    client_for(community_staff).post(f"{wish_url}publish/")
    timeline = resident.get(wish_url).content.decode().split('class="timeline"')[1]
    assert "待审核" in timeline
    assert "待认领" in timeline
    assert "submitted" not in timeline
    assert "published" not in timeline
    service_url = resident.post("/volunteers/services/create/",
                                {"kind": "medicine", "title": "代购降压药"}).url
    timeline = resident.get(service_url).content.decode().split('class="timeline"')[1]
    assert "待派单" in timeline
    assert "requested" not in timeline
