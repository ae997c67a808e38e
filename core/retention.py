"""The shape of a PIPL retention step, shared by every app's privacy.py (privacy.retention runs
them daily). Here, in the lowest layer, because notifications declares steps too and sits below
accounts, whose personal_data module holds the rest of the privacy.py kernel."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from django.db.models import Model

# (now, each RETENTION period) → how many rows the step deleted or anonymised.
RetentionStep = Callable[[datetime, Mapping[str, timedelta]], int]


def rows_older_than(model: type[Model], field: str, period: str) -> RetentionStep:
    """A step deleting the rows of `model` whose `field` is older than the `period`."""

    def step(now: datetime, periods: Mapping[str, timedelta]) -> int:
        return model._default_manager.filter(**{f"{field}__lt": now - periods[period]}).delete()[0]

    return step
