"""The ledger's pages: the volunteer's hours with no-shows and qualifications, the staff page,
the hours CSV (escaped, audited), the private calendar feed, shift cancel and no-show, and a
care visit's need turned into a proxy service from the page, and a petition opened from a visit
linking back to it on the petition's staff page."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from core.models import AuditEvent
from petitions.models import Petition
from tests.petitions.factories import category
from tests.residents.factories import ResidentFactory
from tests.volunteers.factories import ServicePostFactory
from volunteers.exports import HEADER
from volunteers.models import CareFile, HoursEntry, QualificationKind, Shift
from volunteers.services import activities, care, rosters

pytestmark = pytest.mark.django_db
SHANGHAI = timezone.get_fixed_timezone(8 * 60)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _ledger(territory, cast, staff, *, count=3, kind="policy_publicity"):
    """`count` checked-in shifts (approved), `count` no-shows and two qualifications."""
    post = ServicePostFactory(compound=territory.compound, name="政策宣传岗", kind=kind)
    base = timezone.now() - timedelta(days=10)
    for day in range(count):
        starts_at = base + timedelta(days=day)
        shift = Shift.objects.create(post=post, volunteer=cast.volunteer, starts_at=starts_at,
                                     ends_at=starts_at + timedelta(hours=2),
                                     remind_at=starts_at)
        with time_machine.travel(starts_at, tick=False):
            rosters.shift_check_in(shift=shift, user=cast.volunteer_user)
        missed = Shift.objects.create(post=post, volunteer=cast.volunteer,
                                      starts_at=starts_at + timedelta(hours=5),
                                      ends_at=starts_at + timedelta(hours=6),
                                      remind_at=starts_at)
        rosters.shift_no_show_record(shift=missed, actor=staff, note="未请假")
    HoursEntry.objects.update(status=HoursEntry.Status.APPROVED)
    for kind in (QualificationKind.FIRST_AID, QualificationKind.HEALTH_CHECK):
        activities.qualification_record(volunteer=cast.volunteer, actor=staff, kind=kind,
                                        obtained_on=timezone.localdate() - timedelta(days=400),
                                        expires_on=timezone.localdate() - timedelta(days=35))
    return post


def test_my_hours_shows_shift_hours_no_shows_and_qualifications_without_n_plus_one(
        territory, cast, community_staff, django_assert_max_num_queries):
    _ledger(territory, cast, community_staff)
    client = client_for(cast.volunteer_user)
    with django_assert_max_num_queries(12):
        response = client.get("/volunteers/my/hours/")
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("值班签到") >= 3 and page.count("未请假") == 3
    assert "急救证书" in page and "已过期" in page
    # More rows, the same number of queries.
    _ledger(territory, cast, community_staff, count=2, kind="civility")
    with django_assert_max_num_queries(12):
        assert client.get("/volunteers/my/hours/").content.decode().count("未请假") == 5


def test_the_staff_volunteer_page_lists_the_ledger_without_n_plus_one(
        territory, cast, community_staff, django_assert_max_num_queries):
    _ledger(territory, cast, community_staff)
    client = client_for(community_staff)
    with django_assert_max_num_queries(16):
        response = client.get(f"/volunteers/staff/volunteers/{cast.volunteer.pk}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("未请假") == 3 and "中国志愿服务网导入格式" in page


def test_the_hours_csv_escapes_formulae_and_is_audited(territory, cast, community_staff):
    cast.volunteer.name = "=HYPERLINK(\"http://x\",\"点我\")"
    cast.volunteer.save(update_fields=["name"])
    activities.hours_entry_add(volunteer=cast.volunteer, actor=community_staff,
                               hours=Decimal("2"), served_on=timezone.localdate(),
                               note="+cmd|' /C calc'!A0")
    year = timezone.localdate().year
    response = client_for(community_staff).get(
        f"/volunteers/staff/volunteers/{cast.volunteer.pk}/hours/{year}.csv")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text)))
    assert tuple(header) == HEADER
    assert row[1].startswith("'=") and row[9].startswith("'+")
    assert row[8] == "2.0" and row[10] == "工作人员补录"
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT,
                                     object_type="volunteers.volunteer",
                                     object_id=str(cast.volunteer.pk)).exists()


def test_the_hours_csv_is_a_404_to_staff_of_another_community(cast, outsider):
    year = timezone.localdate().year
    response = client_for(outsider).get(
        f"/volunteers/staff/volunteers/{cast.volunteer.pk}/hours/{year}.csv")
    assert response.status_code == 404


def test_the_calendar_feed_opens_with_the_token_only_and_a_new_token_revokes_the_old(
        territory, cast):
    post = ServicePostFactory(compound=territory.compound, name="文明引导岗", location="东门")
    starts_at = timezone.now() + timedelta(days=2)
    Shift.objects.create(post=post, volunteer=cast.volunteer, starts_at=starts_at,
                         ends_at=starts_at + timedelta(hours=2), remind_at=starts_at)
    client = client_for(cast.volunteer_user)
    assert "生成订阅链接" in client.get("/volunteers/my/calendar/").content.decode()
    client.post("/volunteers/my/calendar/rotate/")
    cast.volunteer.refresh_from_db()
    token = cast.volunteer.calendar_token
    assert token and token in client.get("/volunteers/my/calendar/").content.decode()
    anonymous = Client()
    feed = anonymous.get(f"/volunteers/calendar/{token}.ics")
    assert feed.status_code == 200 and feed["Content-Type"].startswith("text/calendar")
    body = feed.content.decode()
    assert "SUMMARY:文明引导岗" in body and "LOCATION:东门" in body
    assert cast.volunteer.name not in body
    client.post("/volunteers/my/calendar/rotate/")
    assert anonymous.get(f"/volunteers/calendar/{token}.ics").status_code == 404
    assert anonymous.get("/volunteers/calendar/" + "x" * 43 + ".ics").status_code == 404


def test_the_calendar_feed_query_count_does_not_grow_with_shifts(
        territory, cast, django_assert_num_queries):
    post = ServicePostFactory(compound=territory.compound)
    for day in range(1, 5):
        starts_at = timezone.now() + timedelta(days=day)
        Shift.objects.create(post=post, volunteer=cast.volunteer, starts_at=starts_at,
                             ends_at=starts_at + timedelta(hours=2), remind_at=starts_at)
    token = activities.volunteer_calendar_token_rotate(
        volunteer=cast.volunteer, user=cast.volunteer_user).calendar_token
    with django_assert_num_queries(2):  # the volunteer by token, their shifts with posts
        body = Client().get(f"/volunteers/calendar/{token}.ics").content.decode()
    assert body.count("BEGIN:VEVENT") == 4


def test_a_volunteer_cancels_a_shift_from_the_page_and_a_late_cancel_says_why(
        territory, cast):
    post = ServicePostFactory(compound=territory.compound)
    monday = datetime(2026, 12, 7, 9, tzinfo=SHANGHAI)
    shift = Shift.objects.create(post=post, volunteer=cast.volunteer, starts_at=monday,
                                 ends_at=monday + timedelta(hours=2), remind_at=monday)
    client = client_for(cast.volunteer_user)
    with time_machine.travel(monday - timedelta(hours=5), tick=False):
        response = client.post(f"/volunteers/shifts/{shift.pk}/cancel/", follow=True)
    assert "24 小时内不能再更改或取消" in response.content.decode()
    with time_machine.travel(monday - timedelta(days=2), tick=False):
        client.post(f"/volunteers/shifts/{shift.pk}/cancel/", {"reason": "出差"})
    assert Shift.objects.get(pk=shift.pk).status == Shift.Status.CANCELLED


def test_staff_record_a_no_show_from_the_dashboard(territory, cast, community_staff):
    post = ServicePostFactory(compound=territory.compound)
    starts_at = timezone.now() - timedelta(hours=1)
    shift = Shift.objects.create(post=post, volunteer=cast.volunteer, starts_at=starts_at,
                                 ends_at=starts_at + timedelta(hours=2), remind_at=starts_at)
    client = client_for(community_staff)
    assert "记缺勤" in client.get("/volunteers/staff/").content.decode()
    client.post(f"/volunteers/staff/shifts/{shift.pk}/no-show/", {"note": "电话未接"})
    shift.refresh_from_db()
    assert (shift.status, shift.close_reason) == (Shift.Status.NO_SHOW, "电话未接")
    assert not HoursEntry.objects.exists()


def test_a_carer_logs_visit_time_and_turns_its_need_into_a_proxy_service_from_the_page(
        territory, cast, community_staff):
    elder = ResidentFactory(household=territory.household1, name="独居老人赵")
    care_file = care.care_file_create(resident=elder, actor=community_staff,
                                      category=CareFile.Category.ELDER_ALONE,
                                      risk=CareFile.Risk.HIGH, caretaker=cast.carer)
    client = client_for(cast.carer_user)
    client.post(f"/volunteers/care/{care_file.pk}/visits/create/", {
        "visited_on": timezone.localdate().isoformat(), "condition": "attention",
        "notes": "腿脚不便", "duration_minutes": "60", "need": "代缴本月水费"})
    visit = care_file.visits.get()
    assert visit.hours_entry.hours == Decimal("1.0")
    page = client.get(f"/volunteers/care/{care_file.pk}/").content.decode()
    # A petition is staff's to record (代录): the carer gets no form for it.
    assert "转帮办代办" in page and "care-visit-petition" not in page and "/petition/" not in page
    client.post(f"/volunteers/care/visits/{visit.pk}/proxy-service/", {
        "kind": "payment", "consent_by": "本人", "consent_method": "in_person"})
    visit.refresh_from_db()
    assert visit.proxy_service.title == "代缴本月水费"
    assert "已转帮办代办" in client.get(f"/volunteers/care/{care_file.pk}/").content.decode()


def test_a_petition_opened_from_a_care_visit_links_back_to_it_for_staff_who_may_read_the_file(
        territory, cast, community_staff, grid_worker):
    elder = ResidentFactory(household=territory.household1, name="独居老人赵")
    care_file = care.care_file_create(resident=elder, actor=community_staff,
                                      category=CareFile.Category.ELDER_ALONE,
                                      risk=CareFile.Risk.HIGH, caretaker=cast.carer)
    visit = care.care_visit_log(care_file=care_file, user=cast.carer_user,
                                visited_on=timezone.localdate(), notes="x", need="楼道灯坏了")
    petition_id = care.care_visit_open_petition(visit=visit, user=community_staff,
                                                category_id=category().pk)
    assert Petition.objects.get(pk=petition_id).care_visit_id == visit.pk

    staff = client_for(community_staff)
    page = staff.get(f"/petitions/staff/{petition_id}/").content.decode()
    href = f"/volunteers/care/{care_file.pk}/#visit-{visit.pk}"
    assert f'<a href="{href}">来自关爱走访 #{visit.pk}</a>' in page
    care_page = staff.get(href.split("#")[0])
    assert care_page.status_code == 200
    assert f'id="visit-{visit.pk}"' in care_page.content.decode()

    # The grid worker handles the petition but may not read the elder's care file: no link.
    page = client_for(grid_worker).get(f"/petitions/staff/{petition_id}/").content.decode()
    assert f"来自关爱走访 #{visit.pk}" in page
    assert "/volunteers/care/" not in page
    assert client_for(grid_worker).get(href.split("#")[0]).status_code == 404


def test_a_petition_not_from_a_care_visit_shows_no_care_visit_row(territory, community_staff):
    from petitions.intake import petition_intake

    petition = petition_intake(actor=community_staff, channel=Petition.Channel.WALK_IN,
                               category=category(), description="路灯不亮",
                               contact_name="王阿姨", household=territory.household1)
    page = client_for(community_staff).get(f"/petitions/staff/{petition.pk}/").content.decode()
    assert 'id="care-visit"' not in page and "关爱走访" not in page


def test_staff_record_a_qualification_from_the_volunteer_page(cast, community_staff):
    client_for(community_staff).post(
        f"/volunteers/staff/volunteers/{cast.volunteer.pk}/qualifications/create/",
        {"kind": "first_aid", "obtained_on": "2026-01-10", "expires_on": "2029-01-09"})
    assert cast.volunteer.qualifications.get().expires_on == date(2029, 1, 9)


def test_the_admin_sets_a_posts_requirements_with_boxes_to_tick(territory, street_admin):
    post = ServicePostFactory(compound=territory.compound, kind="elderly_care", name="敬老助老岗")
    client = client_for(street_admin)
    page = client.get(f"/admin/volunteers/servicepost/{post.pk}/change/").content.decode()
    assert 'type="checkbox" name="required_qualifications" value="health_check"' in page
    client.post(f"/admin/volunteers/servicepost/{post.pk}/change/", {
        "compound": territory.compound.pk, "kind": "elderly_care", "name": "敬老助老岗",
        "required_qualifications": ["health_check", "first_aid"],
        "slots-TOTAL_FORMS": 0, "slots-INITIAL_FORMS": 0})
    post.refresh_from_db()
    assert sorted(post.required_qualifications) == ["first_aid", "health_check"]


def test_staff_turn_a_visits_need_into_a_petition_from_the_care_page(territory, cast,
                                                                     community_staff):
    from petitions.models import Petition
    from tests.petitions.factories import category

    elder = ResidentFactory(household=territory.household1, name="独居老人赵")
    care_file = care.care_file_create(resident=elder, actor=community_staff,
                                      category=CareFile.Category.ELDER_ALONE,
                                      risk=CareFile.Risk.HIGH, caretaker=cast.carer)
    for need in ("楼道灯坏了", "代缴水费"):
        care.care_visit_log(care_file=care_file, user=cast.carer_user,
                            visited_on=timezone.localdate(), notes="x", need=need)
    first = care_file.visits.get(need="楼道灯坏了")
    client = client_for(community_staff)
    page = client.get(f"/volunteers/care/{care_file.pk}/").content.decode()
    # Two open needs, each with its own forms: no element id repeats.
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids)) and f'id="id_p{first.pk}_category_id"' in page
    response = client.post(f"/volunteers/care/visits/{first.pk}/petition/",
                           {"category_id": category().pk, "description": ""}, follow=True)
    assert "已转为诉求" in response.content.decode()
    first.refresh_from_db()
    assert Petition.objects.get(pk=first.petition_id).description == "楼道灯坏了"


def test_staff_record_a_wish_and_an_errand_for_an_elder_from_the_care_page(
        territory, cast, community_staff):
    from volunteers.models import MicroWish, ProxyService

    elder = ResidentFactory(household=territory.household1, name="独居老人赵")
    care_file = care.care_file_create(resident=elder, actor=community_staff,
                                      category=CareFile.Category.ELDER_ALONE,
                                      risk=CareFile.Risk.HIGH, caretaker=cast.carer)
    client = client_for(community_staff)
    assert "代录微心愿" in client.get(f"/volunteers/care/{care_file.pk}/").content.decode()
    at = timezone.localtime().replace(second=0, microsecond=0) - timedelta(minutes=30)
    consent = {"consent_by": "本人", "consent_method": "in_person",
               "consent_at": at.strftime("%Y-%m-%dT%H:%M")}
    client.post(f"/volunteers/care/{care_file.pk}/wishes/create/",
                {"title": "想要一台收音机", **consent})
    client.post(f"/volunteers/care/{care_file.pk}/services/create/",
                {"title": "代购降压药", "kind": "medicine", **consent})
    wish, service = MicroWish.objects.get(), ProxyService.objects.get()
    assert (wish.resident, wish.recorded_by, wish.consent_at) == (elder, community_staff, at)
    assert (service.resident, service.consent_method) == (elder, "in_person")
    # A carer reads the file but records nothing on the elder's behalf.
    carer = client_for(cast.carer_user)
    assert "代录微心愿" not in carer.get(f"/volunteers/care/{care_file.pk}/").content.decode()
    response = carer.post(f"/volunteers/care/{care_file.pk}/wishes/create/",
                          {"title": "x", **consent}, follow=True)
    assert "您无权为该居民代录" in response.content.decode()
    assert MicroWish.objects.count() == 1
