"""Production's security settings, read from config/settings/production.py and checked on real
responses: removing HSTS, a cookie flag or the CSP there (or a middleware in base.py) fails here.

The test settings import base.py; `production` below applies on top of them every setting that
production.py changes, so what is checked is what production.py says, not a copy of it.
"""

from __future__ import annotations

import importlib
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from tests.core.production_env import production_module

pytestmark = pytest.mark.django_db

STAFF_PAGE = "/petitions/staff/"


def production_only(**environment: str) -> dict[str, Any]:
    """Every setting production.py sets to something other than base.py's value (imported on
    top of a production environment it accepts: tests/core/production_env.py), with
    `environment` set for what production.py reads itself."""
    base = importlib.import_module("config.settings.base")
    with production_module(environment=environment) as production:
        return {name: value for name, value in vars(production).items()
                if name.isupper() and (not hasattr(base, name) or getattr(base, name) != value)}


@pytest.fixture
def production() -> Any:
    with override_settings(**production_only()):
        yield


def behind_the_proxy() -> Client:
    """A client whose requests arrive as production's TLS-terminating proxy forwards them."""
    return Client(HTTP_X_FORWARDED_PROTO="https")


@pytest.fixture
def https() -> Client:
    return behind_the_proxy()


def test_production_changes_the_settings_this_file_relies_on():
    changed = production_only()
    assert {"SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
            "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_AGE",
            "SESSION_EXPIRE_AT_BROWSER_CLOSE"} <= set(changed)


def test_a_page_carries_every_security_header(production, https):
    response = https.get("/")
    assert response.status_code == 200
    hsts = response.headers["Strict-Transport-Security"]
    assert "includeSubDomains" in hsts
    assert "preload" not in hsts  # opt-in: SECURE_HSTS_PRELOAD
    assert int(hsts.split("max-age=")[1].split(";")[0]) >= 365 * 24 * 3600
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = {}
    for directive in response.headers["Content-Security-Policy"].split(";"):
        name, _, sources = directive.strip().partition(" ")
        policy[name] = sources
    assert policy["default-src"] == "'self'"
    assert policy["script-src"].split()[0] == "'self'"
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert "'unsafe-inline'" not in policy["style-src"]
    assert set(policy["img-src"].split()) == {"'self'", "data:", "blob:"}
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert policy["object-src"] == "'none'"


def test_hsts_preload_is_sent_once_opted_in(https):
    with override_settings(**production_only(SECURE_HSTS_PRELOAD="true")):
        hsts = https.get("/").headers["Strict-Transport-Security"]
    assert hsts.endswith("; includeSubDomains; preload")


def test_api_and_admin_responses_carry_the_headers_too(production, https, grid_worker,
                                                       street_admin):
    https.force_login(grid_worker)
    api = https.get("/api/v1/me/", HTTP_ACCEPT="application/json")
    https.force_login(street_admin)
    admin = https.get("/admin/")
    for response in (api, admin):
        assert response.status_code == 200
        assert "max-age=" in response.headers["Strict-Transport-Security"]
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_an_inline_script_gets_this_responses_nonce(production, https):
    response = https.get("/api/docs/")
    nonce = response.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in response.text
    assert "cdn." not in response.text  # Swagger UI is served from our own static files
    assert https.get("/api/docs/").headers["Content-Security-Policy"].count(nonce) == 0


def test_plain_http_is_sent_to_https_except_the_health_check(production):
    http = Client()
    response = http.get("/petitions/public/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    assert http.get("/healthz").status_code == 200


def test_the_staff_session_cookie_is_secure_httponly_samesite_and_ends_with_the_browser(
        production, https, grid_worker):
    response = https.post(reverse("accounts:login"),
                          {"username": "gridw", "password": "pass-1234"})
    assert response.status_code == 302
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["secure"] is True
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    assert session["max-age"] == "" and session["expires"] == ""  # a browser-session cookie
    csrf = https.get(reverse("accounts:login")).cookies[settings.CSRF_COOKIE_NAME]
    assert csrf["secure"] is True
    assert csrf["samesite"] == "Lax"


def test_a_staff_session_expires_eight_hours_after_sign_in(production, grid_worker):
    assert settings.SESSION_COOKIE_AGE == 8 * 3600
    https = behind_the_proxy()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        https.post(reverse("accounts:login"), {"username": "gridw", "password": "pass-1234"})
        assert https.get(STAFF_PAGE).status_code == 200
    # Using the site does not extend it: the lifetime counts from sign-in.
    with time_machine.travel(start + timedelta(hours=7, minutes=59), tick=False):
        assert https.get(STAFF_PAGE).status_code == 200
    with time_machine.travel(start + timedelta(hours=8, minutes=1), tick=False):
        response = https.get(STAFF_PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_check_deploy_is_clean_at_warning_level(production, monkeypatch):
    # CI also runs `DJANGO_ENV=production manage.py check --deploy --fail-level WARNING`.
    # tests/e2e/conftest.py sets this for Playwright when it is collected (async.E001 otherwise).
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)
    with override_settings(SECRET_KEY="k" * 20 + "-production-like-secret-of-fifty-chars+"):
        call_command("check", "--deploy", "--fail-level", "WARNING", verbosity=0)
