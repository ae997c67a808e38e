"""Log filters: no whole phone or ID number in a log line (PIPL)."""

from __future__ import annotations

import logging
from typing import Any

from core.masking import mask_numbers_in


class MaskedRequest:
    """A request that shows itself with its numbers masked; everything else is the request's."""

    def __init__(self, request: Any) -> None:
        self._request = request

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)

    def __repr__(self) -> str:
        return mask_numbers_in(repr(self._request))


class MaskedRequestFilter(logging.Filter):
    """django.request logs every 4xx and 5xx answer with its request, whose repr carries the
    query string: an exact lookup's phone or ID number (`?phone=…`, refused or throttled) would
    land whole in the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if request is not None and not isinstance(request, MaskedRequest):
            record.request = MaskedRequest(request)
        return True
