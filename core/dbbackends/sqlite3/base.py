"""SQLite with the query metrics (core.dbbackends)."""

from __future__ import annotations

from typing import Any

from django_prometheus.db.backends.sqlite3.base import DatabaseWrapper as PrometheusWrapper

from core.dbbackends import counting_cursor_class


class DatabaseWrapper(PrometheusWrapper):  # type: ignore[misc]  # untyped
    def create_cursor(self, name: str | None = None) -> Any:
        return self.connection.cursor(
            factory=counting_cursor_class(self.CURSOR_CLASS, self.alias, self.vendor))
