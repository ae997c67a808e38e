"""The six-digit activity check-in code cannot be guessed: each user has a few wrong tries in a
window, and an activity that takes many wrong codes stops taking any for a while."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from tests.volunteers.factories import ActivityFactory, VolunteerFactory
from volunteers.models import ActivitySignup
from volunteers.services import activities

BASE = "/api/v1/volunteers"
CODE = "246810"
WRONG = "135790"

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    settings.CODE_GUESSES_PER_USER = 3
    settings.CODE_GUESSES_PER_OBJECT = 5
    settings.CODE_GUESS_WINDOW = timedelta(minutes=15)
    return settings


def signed_up(activity, user, territory) -> ActivitySignup:
    volunteer = getattr(user, "volunteer", None) or VolunteerFactory(
        compound=territory.compound, user=user, resident=user.residents.get()
    )
    return activities.activity_signup(activity=activity, volunteer=volunteer)


def test_a_volunteer_who_keeps_guessing_is_stopped_on_the_api_and_the_page(limits, territory, cast):
    activity = ActivityFactory(compound=territory.compound, checkin_code=CODE)
    signup = signed_up(activity, cast.volunteer_user, territory)
    api = APIClient()
    api.force_login(cast.volunteer_user)
    page = Client()
    page.force_login(cast.volunteer_user)
    url = f"{BASE}/signups/{signup.pk}/check-in/"
    with time_machine.travel(activity.starts_at, tick=False):
        for _ in range(3):
            assert api.post(url, {"code": WRONG}, format="json").status_code == 400
        blocked = api.post(url, {"code": CODE}, format="json")
        assert blocked.status_code == 429
        assert blocked.json()["message"] == "您输错签到码的次数过多，请在 15 分钟后再试。"
        response = page.post(
            f"/volunteers/signups/{signup.pk}/check-in/", {"code": CODE}, follow=True
        )
        assert "您输错签到码的次数过多" in response.content.decode()
        signup.refresh_from_db()
        assert signup.checked_in_at is None
    with time_machine.travel(activity.starts_at + timedelta(minutes=16), tick=False):
        assert api.post(url, {"code": CODE}, format="json").status_code == 200


def test_an_activity_that_takes_many_wrong_codes_pauses_its_check_in_but_staff_still_can(
    limits, territory, cast, community_staff
):
    activity = ActivityFactory(compound=territory.compound, checkin_code=CODE)
    signups = {
        user.pk: signed_up(activity, user, territory)
        for user in (cast.volunteer_user, cast.member_user, cast.carer_user)
    }
    with time_machine.travel(activity.starts_at, tick=False):
        for user, tries in ((cast.volunteer_user, 3 - 1), (cast.member_user, 3)):
            api = APIClient()
            api.force_login(user)
            for _ in range(tries):
                api.post(
                    f"{BASE}/signups/{signups[user.pk].pk}/check-in/",
                    {"code": WRONG},
                    format="json",
                )
        api = APIClient()
        api.force_login(cast.carer_user)
        paused = api.post(
            f"{BASE}/signups/{signups[cast.carer_user.pk].pk}/check-in/",
            {"code": CODE},
            format="json",
        )
        assert paused.status_code == 429
        assert paused.json()["message"] == "签到码输错的次数过多，签到已暂停，请在 15 分钟后再试。"
        # The check-in desk needs no code, so staff check people in meanwhile.
        checked = activities.signup_check_in(signup=signups[cast.carer_user.pk],
                                             user=community_staff)
        assert checked.checked_in_at is not None
