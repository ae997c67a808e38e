"""Every volunteers endpoint answers an outsider (a grid worker of another community) with 404."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from tests.residents.factories import ResidentFactory
from tests.volunteers.factories import ActivityFactory, ServicePostFactory
from volunteers import tasks
from volunteers.models import CareFile, MicroWish, Shift
from volunteers.services import activities, care, proxy, rosters, wishes

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(territory, cast, community_staff, resident_user):
    activity = ActivityFactory(compound=territory.compound)
    signup = activities.activity_signup(activity=activity, volunteer=cast.volunteer)
    entry = activities.hours_entry_add(volunteer=cast.volunteer, actor=community_staff, hours=1,
                                       served_on=timezone.localdate(), note="x")
    post = ServicePostFactory(compound=territory.compound)
    starts_at = timezone.now() + timedelta(days=2)
    shift = Shift.objects.create(post=post, volunteer=cast.volunteer, starts_at=starts_at,
                                 ends_at=starts_at + timedelta(hours=2), remind_at=starts_at)
    swap = rosters.shift_swap_request(shift=shift, user=cast.volunteer_user,
                                      to_volunteer=cast.carer)
    wish = wishes.micro_wish_submit(resident=resident_user.residents.get(), title="心愿")
    service = proxy.proxy_service_request(resident=resident_user.residents.get(),
                                          kind="payment", title="代缴")
    elder = ResidentFactory(household=territory.household1, name="周奶奶")
    care_file = care.care_file_create(resident=elder, actor=community_staff,
                                      category="elder_alone", risk="high")
    return {"activity": activity.pk, "signup": signup.pk, "entry": entry.pk, "post": post.pk,
            "shift": shift.pk, "swap": swap.pk, "wish": wish.pk, "service": service.pk,
            "care": care_file.pk, "volunteer": cast.volunteer.pk, "team": cast.caring_team.pk}


API_GETS = ["activities/{activity}/", "activities/{activity}/signups/", "signups/{signup}/",
            "shifts/{shift}/", "wishes/{wish}/", "proxy-services/{service}/",
            "care-files/{care}/", "teams/{team}/", "teams/{team}/ranking/",
            "volunteers/{volunteer}/"]
API_POSTS = ["activities/{activity}/signup/", "activities/{activity}/cancel/",
             "signups/{signup}/cancel/",
             "signups/{signup}/check-in/", "signups/{signup}/check-out/",
             "hours/{entry}/approve/", "hours/{entry}/reject/", "shifts/{shift}/swap/",
             "shifts/{shift}/check-in/", "swaps/{swap}/decide/", "wishes/{wish}/publish/",
             "wishes/{wish}/reject/", "wishes/{wish}/claim/", "wishes/{wish}/fulfil/",
             "wishes/{wish}/confirm/", "wishes/{wish}/withdraw/",
             "proxy-services/{service}/assign/", "proxy-services/{service}/complete/",
             "proxy-services/{service}/confirm/", "proxy-services/{service}/cancel/",
             "care-files/{care}/visits/"]
PAGE_GETS = ["activities/{activity}/", "shifts/{shift}/swap/", "teams/{team}/ranking/",
             "wishes/{wish}/", "services/{service}/", "care/{care}/",
             "staff/activities/{activity}/", "staff/volunteers/{volunteer}/",
             "staff/volunteers/{volunteer}/certificate/2026/"]
PAGE_POSTS = ["activities/{activity}/signup/", "signups/{signup}/cancel/",
              "signups/{signup}/check-in/", "signups/{signup}/check-out/",
              "shifts/{shift}/check-in/", "shifts/{shift}/swap/create/", "swaps/{swap}/accept/",
              "swaps/{swap}/decline/", "wishes/{wish}/publish/", "wishes/{wish}/reject/",
              "wishes/{wish}/claim/", "wishes/{wish}/fulfil/", "wishes/{wish}/confirm/",
              "wishes/{wish}/withdraw/", "services/{service}/assign/",
              "services/{service}/complete/", "services/{service}/confirm/",
              "care/{care}/visits/create/", "staff/signups/{signup}/check-in/",
              "staff/signups/{signup}/check-out/", "staff/hours/{entry}/approve/",
              "staff/hours/{entry}/reject/", "staff/volunteers/{volunteer}/hours/create/",
              "staff/posts/{post}/roster/generate/"]


def test_an_outsider_gets_404_from_every_api_endpoint(rows, outsider):
    client = APIClient()
    client.force_authenticate(outsider)
    for template in API_GETS:
        url = "/api/v1/volunteers/" + template.format(**rows)
        assert client.get(url).status_code == 404, url
    for template in API_POSTS:
        url = "/api/v1/volunteers/" + template.format(**rows)
        assert client.post(url, {"code": "123456", "to_volunteer": rows["volunteer"],
                                 "assignee": rows["volunteer"], "accept": True,
                                 "visited_on": "2026-01-01"}, format="json").status_code == 404, url


def test_an_outsider_gets_404_from_every_page(rows, outsider):
    client = Client()
    client.force_login(outsider)
    for template in PAGE_GETS:
        url = "/volunteers/" + template.format(**rows)
        assert client.get(url).status_code == 404, url
    for template in PAGE_POSTS:
        url = "/volunteers/" + template.format(**rows)
        response = client.post(url, {"code": "123456", "to_volunteer": rows["volunteer"],
                                     "assignee": rows["volunteer"], "hours": "1",
                                     "served_on": "2026-01-01", "note": "x",
                                     "start": "2026-01-01", "end": "2026-01-02",
                                     "visited_on": "2026-01-01", "condition": "good"})
        assert response.status_code == 404, url


def test_anonymous_visitors_are_sent_to_sign_in(rows):
    response = Client().get(f"/volunteers/wishes/{rows['wish']}/")
    assert response.status_code == 302 and response.url.startswith("/accounts/phone/?next=")
    assert APIClient().get("/api/v1/volunteers/wishes/").status_code in (401, 403)


def test_the_beat_tasks_run_their_sweeps(territory, cast, community_staff, resident_user):
    wish = wishes.micro_wish_submit(resident=resident_user.residents.get(), title="心愿")
    wishes.micro_wish_publish(wish=wish, actor=community_staff)
    wishes.micro_wish_claim(wish=wish, user=cast.member_user)
    MicroWish.objects.filter(pk=wish.pk).update(claim_expires_at=timezone.now())
    assert tasks.wish_claims_expire_task.delay().get() == 1
    elder = ResidentFactory(household=territory.household1, name="吴爷爷")
    care.care_file_create(resident=elder, actor=community_staff, category="elder_alone",
                          risk="high", caretaker=cast.carer)
    CareFile.objects.update(next_visit_due=timezone.localdate() - timedelta(days=1))
    assert tasks.care_visits_overdue_task.delay().get() == {"flagged": 1, "alerted": 0}
    assert tasks.shift_reminders_task.delay().get() == 0


def test_a_fulfilment_photo_is_re_encoded(territory, cast, community_staff, resident_user):
    wish = wishes.micro_wish_submit(resident=resident_user.residents.get(), title="心愿")
    wishes.micro_wish_publish(wish=wish, actor=community_staff)
    wishes.micro_wish_claim(wish=wish, user=cast.member_user)
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buffer, format="PNG")
    upload = SimpleUploadedFile("photo.png", buffer.getvalue() + b"<script>", "image/png")
    wishes.micro_wish_fulfil(wish=wish, user=cast.member_user, note="", photo=upload)
    wish.refresh_from_db()
    assert wish.fulfilment_photo.name.endswith(".jpg")
    assert b"<script>" not in wish.fulfilment_photo.read()


def test_team_ranking_page_has_no_n_plus_one(territory, cast, community_staff,
                                             django_assert_max_num_queries):
    for volunteer in (cast.volunteer, cast.carer):
        activities.team_member_add(team=cast.caring_team, volunteer=volunteer)
        activities.hours_entry_add(volunteer=volunteer, actor=community_staff, hours=2,
                                   served_on=timezone.localdate(), note="x")
    client = Client()
    client.force_login(cast.carer_user)
    with django_assert_max_num_queries(8):
        page = client.get(f"/volunteers/teams/{cast.caring_team.pk}/ranking/").content.decode()
    assert page.count("2.0") == 2
