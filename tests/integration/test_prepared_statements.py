"""PostgreSQL plans the hot statements once per connection: parameters are bound on the server
and a statement run DB_PREPARE_THRESHOLD times is prepared (config/settings/base.py)."""

from __future__ import annotations

import os

import pytest
from django.db import connection

from accounts.models import User
from core.queries import instance_by_pk
from tests.accounts.factories import UserFactory

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                       reason="needs PostgreSQL"),
]


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


@pytest.mark.django_db
def test_a_statement_the_pages_repeat_is_prepared_on_the_server_after_five_runs():
    user = UserFactory(username="prepared")
    assert connection.settings_dict["OPTIONS"]["server_side_binding"] is True
    for _ in range(4):
        assert instance_by_pk(User, user.pk).username == "prepared"
    assert not [sql for sql in _prepared() if '"accounts_user"' in sql]
    for _ in range(2):
        assert instance_by_pk(User, user.pk).username == "prepared"
    [statement] = [sql for sql in _prepared() if '"accounts_user"' in sql]
    assert "$1" in statement  # bound on the server, not written into the text
