"""django-axes: staff password sign-in locks per username + client IP, then cools off."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.models import LoginAttempt

LOGIN = reverse("accounts:login")

pytestmark = pytest.mark.django_db


def fail(client, settings, username="gridw", **extra):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(LOGIN, {"username": username, "password": "wrong"}, **extra)
    return response


def test_repeated_failures_lock_the_username_from_that_ip(client, grid_worker, settings):
    response = fail(client, settings)
    assert response.status_code == 429
    assert "登录已暂停" in response.text
    assert "15 分钟" in response.text
    # Even the right password is refused while locked.
    response = client.post(LOGIN, {"username": "gridw", "password": "pass-1234"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lock_holds_only_for_that_username_and_ip(client, grid_worker, microgrid_worker,
                                                      settings):
    fail(client, settings)
    other_user = client.post(LOGIN, {"username": "micro", "password": "pass-1234"})
    assert other_user.status_code == 302
    client.logout()
    other_ip = client.post(LOGIN, {"username": "gridw", "password": "pass-1234"},
                           REMOTE_ADDR="198.51.100.7")
    assert other_ip.status_code == 302


def test_a_forged_x_forwarded_for_does_not_escape_the_lock(client, grid_worker, settings):
    settings.NUM_PROXIES = 0
    fail(client, settings)
    response = client.post(LOGIN, {"username": "gridw", "password": "pass-1234"},
                           HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert response.status_code == 429


def test_the_lock_cools_off_after_fifteen_minutes(client, grid_worker, settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail(client, settings)
    with time_machine.travel(start + timedelta(minutes=14), tick=False):
        assert client.post(LOGIN, {"username": "gridw", "password": "pass-1234"}
                           ).status_code == 429
    # The refused try at minute 14 restarted the cool-off (a guesser keeps himself locked).
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        assert client.post(LOGIN, {"username": "gridw", "password": "pass-1234"}
                           ).status_code == 429
    with time_machine.travel(start + timedelta(minutes=16 + 16), tick=False):
        response = client.post(LOGIN, {"username": "gridw", "password": "pass-1234"})
    assert response.status_code == 302


def test_fewer_failures_than_the_limit_do_not_lock(client, grid_worker, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(LOGIN, {"username": "gridw", "password": "wrong"})
    response = client.post(LOGIN, {"username": "gridw", "password": "pass-1234"})
    assert response.status_code == 302


def test_the_admin_login_is_covered_too(client, street_admin, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(reverse("admin:login"), {"username": "street",
                                                        "password": "wrong"})
    assert response.status_code == 429


def test_authenticate_needs_the_request_so_no_path_skips_the_lockout(grid_worker):
    # Tests sign in with client.force_login; a bare authenticate() (as client.login does)
    # fails loudly instead of silently bypassing the lockout.
    from axes.exceptions import AxesBackendRequestParameterRequired

    with pytest.raises(AxesBackendRequestParameterRequired):
        authenticate(username="gridw", password="pass-1234")
    request = RequestFactory().post(LOGIN)
    assert authenticate(request, username="gridw", password="pass-1234") == grid_worker


def test_an_admin_sees_the_lockout_in_chinese_and_lifts_it(client, grid_worker, street_admin,
                                                           settings):
    fail(client, settings)
    admin_client = Client()
    admin_client.force_login(street_admin)
    url = reverse("admin:accounts_loginattempt_changelist")
    listing = admin_client.get(url)
    assert "登录失败记录" in listing.text
    assert "gridw" in listing.text
    attempt = LoginAttempt.objects.get(username="gridw")
    response = admin_client.post(url, {"action": "unlock", "_selected_action": [attempt.pk]})
    assert response.status_code == 302
    assert not LoginAttempt.objects.filter(username="gridw").exists()
    assert client.post(LOGIN, {"username": "gridw", "password": "pass-1234"}).status_code == 302
