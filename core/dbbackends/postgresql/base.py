"""PostgreSQL (psycopg 3) with the query metrics (core.dbbackends)."""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base
from django_prometheus.db.backends.postgresql.base import DatabaseWrapper as PrometheusWrapper

from core.dbbackends import counting_cursor_class


class DatabaseWrapper(PrometheusWrapper):  # type: ignore[misc]  # untyped
    def get_connection_params(self) -> dict[str, Any]:
        # Django's parameters, not django-prometheus' (which wraps the cursor factory anew).
        params: dict[str, Any] = base.DatabaseWrapper.get_connection_params(self)
        params["cursor_factory"] = counting_cursor_class(params["cursor_factory"], self.alias,
                                                         self.vendor)
        return params
