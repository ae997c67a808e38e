"""Dates and times from outside (query strings, form bodies): only those every step can hold.

Python's datetime ends at years 1 and 9999, and a value near either end overflows (a 500) once
it is moved to UTC for the database or a window is added to it. Input is held to a range far
wider than any date the portal means and far inside those ends.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

EARLIEST_YEAR = 1900
LATEST_YEAR = 2999


def is_in_range(value: date) -> bool:
    """A date or datetime (in any zone: a day's shift cannot leave the range's margin)."""
    return EARLIEST_YEAR <= value.year <= LATEST_YEAR


def out_of_range_message() -> str:
    return _("日期须在 %(earliest)s 年至 %(latest)s 年之间。") % {
        "earliest": EARLIEST_YEAR, "latest": LATEST_YEAR}


def check_in_range(value: date | None) -> None:
    if value is not None and not is_in_range(value):
        raise ValidationError(out_of_range_message(), code="out_of_range")
