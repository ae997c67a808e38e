"""The fuzz lane's database: the demo data (load_demo), loaded once per test process, and a
signed-in session or key for each of the seven callers."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client

from accounts.models import User

# role → the demo account it signs in as (governance/demo.py); None: no credentials.
ROLE_ACCOUNTS = {
    "resident": "resident",
    "microgrid_worker": "micro1",
    "grid_worker": "grid1",
    "community_staff": "community",
    "street_admin": "street",
    "external_system": None,
    "anonymous": None,
}
# Any 32 characters: Django compares an unmasked CSRF secret from the header with the cookie's.
CSRF_SECRET = "fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> dict[str, dict[str, Any]]:
    from governance.demo import demo_load

    with django_db_blocker.unblock():
        state = demo_load(stdout=io.StringIO())
        headers = {role: _session_headers(username)
                   for role, username in ROLE_ACCOUNTS.items() if username}
    headers["external_system"] = {"headers": {"Authorization": f"Api-Key {state.api_key_raw}"}}
    headers["anonymous"] = {}
    return headers


def _session_headers(username: str) -> dict[str, Any]:
    client = Client()
    client.force_login(User.objects.get(username=username))
    session = client.cookies["sessionid"].value
    return {"cookies": {"sessionid": session, "csrftoken": CSRF_SECRET},
            "headers": {"X-CSRFToken": CSRF_SECRET}}


@pytest.fixture(scope="session")
def role_headers(django_db_setup: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return django_db_setup



def keep_the_test_connection() -> None:
    """Schemathesis calls Django's own WSGI handler, whose request signals close the database
    connection after each request; on PostgreSQL that would drop the test transaction. Django's
    test client switches them off around its own requests and back on afterwards, so this is
    called again right before each fuzzing run."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)


@pytest.fixture(scope="session", autouse=True)
def _restore_connection_closing() -> Any:
    yield
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
