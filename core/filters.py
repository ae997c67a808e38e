"""Filters shared by every app's FilterSets."""

from __future__ import annotations

import django_filters
from django import forms

# The database's integer range: SQLite raises OverflowError (a 500) on anything wider.
MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A row id in the query string: a whole number the database can hold, else a 400."""

    field_class = forms.IntegerField

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("min_value", -MAX_ID)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
