"""The street's own name for every page that shows it (the home page's tagline), read from the
territory, not written into a template. Lazy: a page that does not print it costs no query."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from territory.selectors import street_name


def street(request: HttpRequest) -> dict[str, object]:
    return {"street_name": SimpleLazyObject(street_name)}
