"""A process-local memo with a short lifetime, for lookups a hot page repeats on every request
and whose answer changes rarely (the workbench's filter options: a scope's buildings and the
categories). A hit costs a dict lookup — no query, no cache round trip; an answer is at most
`seconds` old in each process, then computed again. Never for anything a permission or a count
depends on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from django.db import models
from django.utils.translation import get_language

T = TypeVar("T")
MAX_ENTRIES = 2048  # past this the memo starts over (a street has a few hundred scopes)

_entries: dict[Hashable, tuple[float, object]] = {}  # key: (computed at, answer)


def remembered(key: Hashable, compute: Callable[[], T], *, seconds: float) -> T:
    """compute()'s answer for KEY, computed again once it is SECONDS old."""
    now = time.monotonic()
    entry = _entries.get(key)
    if entry is not None and now - entry[0] < seconds:
        return entry[1]  # type: ignore[return-value]
    value = compute()
    if len(_entries) >= MAX_ENTRIES:
        _entries.clear()
    _entries[key] = (now, value)
    return value


def forget_all() -> None:
    """Drop every answer (tests: ids repeat from one test to the next)."""
    _entries.clear()


_choice_labels: dict[tuple[type, str | None], dict[str, str]] = {}


def choice_labels(choices: type[models.Choices]) -> dict[str, str]:
    """{value: label} of a Choices enum in the active language, translated once per language
    in each process (labels are lazy: str() asks gettext on every call)."""
    key = (choices, get_language())
    labels = _choice_labels.get(key)
    if labels is None:
        labels = _choice_labels[key] = {str(value): str(label)
                                        for value, label in choices.choices}
    return labels
