"""Form widgets every app's forms share.

A browser's date picker (`<input type="date">`) takes and shows only an ISO date (YYYY-MM-DD),
and a `datetime-local` one only YYYY-MM-DDTHH:MM, whatever the page's language. Django renders
a date in the active locale's first input format (zh-hans: 2026/12/05), which the picker rejects
and shows as an empty field: a form meant to default to today came up blank. These widgets pin
the rendered format; parsing accepts ISO in every locale anyway.
"""

from __future__ import annotations

from typing import Any

from django import forms

ISO_DATE = "%Y-%m-%d"
ISO_DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class IsoDateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=ISO_DATE)


class IsoDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=ISO_DATETIME_LOCAL)
