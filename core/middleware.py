"""Request id and the current request, for the audit log (core.audit) and log lines."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

from core.types import app_request

_current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def current_request() -> HttpRequest | None:
    """The request being served on this thread (None in tasks, commands and the shell)."""
    return _current_request.get()


class RequestIdMiddleware:
    """Gives each request an id (a proxy's X-Request-ID when well formed) and echoes it back.

    The request is also kept in a context variable: the audit rows written from signal handlers
    (core.apps mirrors the admin's LogEntry) have no request argument to take it from.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        app_request(request).request_id = request_id
        token = _current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            _current_request.reset(token)
        response["X-Request-ID"] = request_id
        return response
