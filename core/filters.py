"""Filters shared by every app's FilterSets."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField

from core.dates import check_in_range

# The database's integer range: SQLite raises OverflowError (a 500) on anything wider.
MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A row id in the query string: a whole number the database can hold, else a 400."""

    # django-filter is untyped: mypy takes NumberFilter's default (DecimalField) for the type.
    field_class = forms.IntegerField  # type: ignore[assignment]

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("min_value", -MAX_ID)
        kwargs.setdefault("max_value", MAX_ID)
        # untyped_calls_exclude does not reach a super() call into django-filter.
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]


class _InRangeMixin:
    """A datetime the database and a window's arithmetic can hold (core.dates), else a 400."""

    def to_python(self, value: Any) -> Any:
        result = super().to_python(value)  # type: ignore[misc]
        check_in_range(result)
        return result


class InRangeDateTimeField(_InRangeMixin, forms.DateTimeField):
    pass


class InRangeIsoDateTimeField(_InRangeMixin, IsoDateTimeField):
    pass


class InRangeDateField(_InRangeMixin, forms.DateField):
    pass


class DateTimeFilter(django_filters.DateTimeFilter):
    """django-filter's DateTimeFilter, but 0001-01-01 or 9999-12-31 is a 400, not a 500."""

    field_class = InRangeDateTimeField


class DateFilter(django_filters.DateFilter):
    """django-filter's DateFilter, with the same range as DateTimeFilter."""

    field_class = InRangeDateField


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """django-filter's IsoDateTimeFilter, with the same range as DateTimeFilter."""

    field_class = InRangeIsoDateTimeField
