"""The six-digit session sign-in code cannot be guessed: each user has a few wrong tries in a
window, and a session that takes many wrong codes stops taking any for a while."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from deliberation.models import SessionAttendance
from tests.deliberation.factories import SessionFactory


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_login(user)
    return api


def page_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def limits(settings):
    settings.CODE_GUESSES_PER_USER = 3
    settings.CODE_GUESSES_PER_OBJECT = 5
    settings.CODE_GUESS_WINDOW = timedelta(minutes=15)
    return settings


def test_a_resident_who_keeps_guessing_is_stopped_even_with_the_right_code(
    limits, resident_user, session
):
    url = reverse("api:deliberation-session-sign-in", args=[session.pk])
    api = api_for(resident_user)
    for _ in range(3):
        refused = api.post(url, {"code": wrong(session.sign_in_code)}, format="json")
        assert refused.status_code == 400
    # The right code is refused too while the user is stopped: otherwise guessing would go on.
    blocked = api.post(url, {"code": session.sign_in_code}, format="json")
    assert blocked.status_code == 429
    assert blocked.json()["message"] == "您输错签到码的次数过多，请在 15 分钟后再试。"
    page = page_for(resident_user).post(
        reverse("deliberation:session-sign-in", args=[session.pk]), {"code": session.sign_in_code}
    )
    assert "您输错签到码的次数过多" in page.content.decode()
    # The limit is the user's, over every code: another session's code is refused as well.
    other = SessionFactory(compound=session.compound)
    elsewhere = reverse("api:deliberation-session-sign-in", args=[other.pk])
    assert api.post(elsewhere, {"code": other.sign_in_code}, format="json").status_code == 429
    assert not SessionAttendance.objects.exists()
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert api.post(url, {"code": session.sign_in_code}, format="json").status_code == 204
    assert SessionAttendance.objects.filter(user=resident_user).exists()


def test_a_session_that_takes_many_wrong_codes_pauses_its_sign_in(
    limits, resident_user, neighbour, secretary, session
):
    url = reverse("api:deliberation-session-sign-in", args=[session.pk])
    # Two accounts, each under its own limit, together reach the session's.
    for user, tries in ((resident_user, 3 - 1), (neighbour, 3)):
        api = api_for(user)
        for _ in range(tries):
            api.post(url, {"code": wrong(session.sign_in_code)}, format="json")
    paused = api_for(secretary).post(url, {"code": session.sign_in_code}, format="json")
    assert paused.status_code == 429
    assert paused.json()["message"] == "签到码输错的次数过多，签到已暂停，请在 15 分钟后再试。"
    # Another session is not paused.
    other = SessionFactory(compound=session.compound)
    other_url = reverse("api:deliberation-session-sign-in", args=[other.pk])
    assert (
        api_for(secretary).post(other_url, {"code": other.sign_in_code}, format="json").status_code
        == 204
    )
