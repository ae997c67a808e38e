"""core.db's timestamptz loader: the values Django's loader gives, on every cursor (PostgreSQL)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from django.db import connection
from psycopg.postgres import types
from psycopg.pq import Format

from core.db import FastTzLoader

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                       reason="needs PostgreSQL"),
]

TIMESTAMPTZ = types["timestamptz"].oid


@pytest.mark.django_db
def test_every_cursor_loads_timestamptz_with_the_fast_loader_in_the_connections_zone():
    with connection.cursor() as cursor:
        loader = cursor.cursor.adapters.get_loader(TIMESTAMPTZ, Format.TEXT)
    assert issubclass(loader, FastTzLoader)
    assert loader.timezone is connection.timezone


@pytest.mark.django_db
@pytest.mark.parametrize(("literal", "expected"), [
    ("2026-05-06 09:30:00.5+08", datetime(2026, 5, 6, 1, 30, 0, 500000, tzinfo=UTC)),
    ("2026-12-31 23:59:59.999999-05", datetime(2027, 1, 1, 4, 59, 59, 999999, tzinfo=UTC)),
    ("1999-01-01 00:00:00+00", datetime(1999, 1, 1, tzinfo=UTC)),
    ("0001-01-01 08:05:43+08:05:43", datetime(1, 1, 1, tzinfo=UTC)),
])
def test_a_timestamptz_loads_as_the_same_moment_in_utc(literal, expected):
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz", [literal])
        [(moment,)] = cursor.fetchall()
    assert moment == expected and moment.tzinfo is UTC
