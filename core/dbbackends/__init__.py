"""Database backends: Django's, with django-prometheus' query metrics counted for less.

django-prometheus' wrappers (django_prometheus.db.backends.*) look their labelled children up
on every statement (`execute_total.labels(alias, vendor)`, the histogram's, a dict copied for
the error counter), and on SQLite build a new cursor class for every cursor. These backends
are those wrappers with a cursor class built once per (cursor class, alias, vendor, process)
holding its children: the same metrics, names and labels (`/metrics`, ops/prometheus), about
a third of the wrapper's cost a statement (bench/db_wrapper.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from typing import Any

from django_prometheus.db import (
    errors_total,
    execute_many_total,
    execute_total,
    query_duration_seconds,
)

# Per process: a child made before a fork would write to the parent's values (multiprocess mode
# keys its files by pid).
_classes: dict[tuple[type, str, str, int], type] = {}


def counting_cursor_class(cursor_class: type, alias: str, vendor: str) -> type:
    """`cursor_class` counting each statement, its duration and its errors as
    django-prometheus does (django_db_execute_total, django_db_execute_many_total,
    django_db_query_duration_seconds, django_db_errors_total by exception type)."""
    key = (cursor_class, alias, vendor, os.getpid())
    found = _classes.get(key)
    if found is not None:
        return found
    executed = execute_total.labels(alias, vendor)
    executed_many = execute_many_total.labels(alias, vendor)
    duration = query_duration_seconds.labels(alias, vendor)
    clock = time.perf_counter

    class CountingCursor(cursor_class):  # type: ignore[misc]
        def execute(self, *args: Any, **kwargs: Any) -> Any:
            executed.inc()
            started = clock()
            try:
                return super().execute(*args, **kwargs)
            except Exception as error:
                errors_total.labels(alias, vendor, type(error).__name__).inc()
                raise
            finally:
                duration.observe(clock() - started)

        def executemany(self, query: Any, param_list: Iterable[Any], *args: Any,
                        **kwargs: Any) -> Any:
            params = param_list if isinstance(param_list, list | tuple) else list(param_list)
            executed.inc(len(params))
            executed_many.inc(len(params))
            started = clock()
            try:
                return super().executemany(query, params, *args, **kwargs)
            except Exception as error:
                errors_total.labels(alias, vendor, type(error).__name__).inc()
                raise
            finally:
                duration.observe(clock() - started)

    CountingCursor.__name__ = CountingCursor.__qualname__ = f"Counting{cursor_class.__name__}"
    _classes[key] = CountingCursor
    return CountingCursor
