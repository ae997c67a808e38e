"""A faster timestamptz loader for PostgreSQL connections.

Django (django.db.backends.postgresql.psycopg_any.BaseTzLoader) loads every timestamptz through
a subclass of psycopg's pure-Python loader, to set the tzinfo it wants: 2.4 µs a value, 1.4 ms
of the 5 ms an Open311 answer of 200 requests costs (600 values). psycopg's C loader (the binary
package) cannot be subclassed, so this loader wraps one and sets the tzinfo the same way
(`replace`, as Django does): 0.8 µs a value. Its `timezone` is the connection's, so Django's
create_cursor, which compares the two, leaves it in place.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg import adapters
from psycopg.adapt import Buffer, Loader
from psycopg.postgres import types
from psycopg.pq import Format

TIMESTAMPTZ_OID = types["timestamptz"].oid
# psycopg's own loader: the C one when psycopg[binary] or [c] is installed.
PARSER = adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)


class FastTzLoader(Loader):
    timezone: tzinfo | None = None

    def __init__(self, oid: int, context: Any = None) -> None:
        super().__init__(oid, context)
        self._parse = PARSER(oid, context).load  # type: ignore[misc]

    def load(self, data: Buffer) -> datetime:
        return self._parse(data).replace(tzinfo=self.timezone)  # type: ignore[no-any-return]


def fast_tz_loader_register(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """connection_created: the fast loader on each new PostgreSQL connection, in the zone
    Django would have set (UTC with USE_TZ; None chops it off without)."""
    if connection.vendor != "postgresql" or not hasattr(connection.connection, "adapters"):
        return
    loader = type("ConnectionTzLoader", (FastTzLoader,), {"timezone": connection.timezone})
    connection.connection.adapters.register_loader("timestamptz", loader)
