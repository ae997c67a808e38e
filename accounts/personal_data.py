"""The shared kernel of personal-data handling (PIPL): what every app's privacy.py uses to
export a person's rows and to anonymise them. The apps declare their part in their own
privacy.py; the privacy app runs export, anonymisation and deletion requests over them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Model

REDACTED = "***"
ANONYMISED_NAME = "已注销居民"


@dataclass(frozen=True)
class Identifiers:
    """What names one person, collected before anything is changed (privacy.anonymise): every
    app's step redacts by these and finds its rows by the ids, whatever ran before it."""

    phones: frozenset[str]
    names: frozenset[str]
    id_numbers: frozenset[str]
    usernames: frozenset[str]
    resident_ids: tuple[int, ...]
    volunteer_ids: tuple[int, ...]

    def redact(self, text: str) -> str:
        if not text:
            return text
        values = [value for value in (*self.phones, *self.id_numbers, *self.names)
                  if len(value) >= 2]
        if not values:
            return text
        pattern = "|".join(re.escape(value)
                           for value in sorted(values, key=len, reverse=True))
        return re.sub(pattern, REDACTED, text, flags=re.IGNORECASE)

    def redact_json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, list):
            return [self.redact_json(item) for item in value]
        if isinstance(value, dict):
            return {key: self.redact_json(item) for key, item in value.items()}
        return value


def redact_rows(queryset: Any, fields: tuple[str, ...], identifiers: Identifiers,
                *, json_fields: tuple[str, ...] = ()) -> None:
    rows = list(queryset.only("pk", *fields, *json_fields))
    for row in rows:
        for field in fields:
            setattr(row, field, identifiers.redact(getattr(row, field)))
        for field in json_fields:
            setattr(row, field, identifiers.redact_json(getattr(row, field)))
    if rows:
        queryset.model.objects.bulk_update(rows, [*fields, *json_fields], batch_size=500)


def export_row(instance: Model, fields: tuple[str, ...]) -> dict[str, Any]:
    """`fields` of one row as JSON-ready values (dates as ISO text, related rows as str())."""
    row = {}
    for name in fields:
        value = getattr(instance, name)
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif value is not None and not isinstance(value, (str, int, float, bool, list, dict)):
            value = str(value)
        row[name] = value
    return row
