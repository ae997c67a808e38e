"""Filters shared by every app's FilterSets."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, TypeVar

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django_filters.fields import IsoDateTimeField
from django_filters.filterset import FilterSet

from core import memo
from core.dates import check_in_range

_M = TypeVar("_M", bound=Model)


def filterset_apply(filterset_class: type[FilterSet],
                    filters: Mapping[str, Any] | None, queryset: QuerySet[_M],
                    **options: Any) -> QuerySet[_M]:
    """Filter `queryset`; bad filter values raise ValidationError (a 400 in the API).

    `options` go to the FilterSet (a ProtectedLookupFilterSet's `viewer`). Only the filters the
    query names are built (`_narrowed`); when it names none (a page's cursor or size alone), the
    queryset is returned as it is: an absent filter filters nothing."""
    base_filters: dict[str, Any] = getattr(filterset_class, "base_filters", {})
    names = frozenset(name for name in (filters or {}) if name in base_filters)
    names |= _required_filters(filterset_class)
    if not names:
        return queryset
    filterset = _narrowed(filterset_class, names)(filters, queryset=queryset, **options)
    if not filterset.is_valid():
        raise ValidationError({
            field: [error["message"] for error in errors]
            for field, errors in filterset.errors.get_json_data().items()
        })
    result: QuerySet[_M] = filterset.qs  # the same model's rows, narrowed
    return result


@functools.cache
def _required_filters(filterset_class: type[FilterSet]) -> frozenset[str]:
    base_filters: dict[str, Any] = getattr(filterset_class, "base_filters", {})
    return frozenset(name for name, field in base_filters.items() if field.extra.get("required"))


@functools.lru_cache(maxsize=256)
def _narrowed(filterset_class: type[FilterSet], names: frozenset[str]) -> type[FilterSet]:
    """`filterset_class` with only the filters in `names`, in their declared order.

    django-filter deep-copies every declared filter and builds and cleans a form field for each
    on every call, named in the query or not: 2.5 ms of CPU for PetitionFilter's 15 on a page
    of the list API that filters by one."""
    narrowed = type(filterset_class.__name__, (filterset_class,), {})
    base_filters: dict[str, Any] = getattr(filterset_class, "base_filters", {})
    narrowed.base_filters = {  # type: ignore[attr-defined]
        name: field for name, field in base_filters.items() if name in names}
    return narrowed


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


class _KnownIdField(forms.IntegerField):
    """A row id that must name an existing row: the ids are remembered a minute per process
    (core.memo), so a valid id costs no query; an id not among them is looked up once more
    (a row added since) before it is refused with ModelChoiceField's message."""

    default_error_messages = {
        "invalid_choice": forms.ModelChoiceField.default_error_messages["invalid_choice"],
    }

    def __init__(self, *args: Any, queryset: QuerySet[Any], **kwargs: Any) -> None:
        kwargs.setdefault("min_value", -MAX_ID)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
        self.queryset = queryset

    def _known(self) -> frozenset[int]:
        model = self.queryset.model
        return memo.remembered(
            ("known-ids", model._meta.label), lambda: frozenset(
                self.queryset.values_list("pk", flat=True)), seconds=60)

    def clean(self, value: Any) -> Any:
        result = super().clean(value)
        if result is None or result in self._known():
            return result
        if not self.queryset.filter(pk=result).exists():
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return result


class KnownIdFilter(django_filters.NumberFilter):
    """A foreign key's id (`category=3`) checked against a small table's remembered ids instead
    of ModelChoiceFilter's query per request: the list API filtered by category spent a query
    and its compilation (~0.4 ms of CPU) on fetching a row it only compares by id.
    For small, rarely changing tables only (categories); the filter compares `<field>_id`."""

    field_class = _KnownIdField  # type: ignore[assignment]


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
