"""Request id and the current request, for the audit log (core.audit) and log lines."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

from core.types import app_request

_current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)
# A task's request id: the one of the web request that queued it (monitoring.celery_signals
# carries it in the task's message headers and binds it here while the task runs).
_bound_request_id: ContextVar[str] = ContextVar("bound_request_id", default="")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def current_request() -> HttpRequest | None:
    """The request being served on this thread (None in tasks, commands and the shell)."""
    return _current_request.get()


def is_sane_request_id(value: str) -> bool:
    return bool(_REQUEST_ID.fullmatch(value))


def current_request_id() -> str:
    """The id of the request being served, or of the request that queued the running task."""
    request = _current_request.get()
    if request is not None:
        return str(getattr(request, "request_id", ""))
    return _bound_request_id.get()


def bind_request_id(value: str) -> None:
    """For a task run: log lines and the tasks it queues carry `value` ("" unbinds)."""
    _bound_request_id.set(value if is_sane_request_id(value) else "")


class RequestIdMiddleware:
    """Gives each request an id (a proxy's X-Request-ID when well formed) and echoes it back.

    The request is also kept in a context variable: the audit rows written from signal handlers
    (core.apps mirrors the admin's LogEntry) have no request argument to take it from.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if is_sane_request_id(incoming) else uuid.uuid4().hex
        app_request(request).request_id = request_id
        token = _current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            _current_request.reset(token)
        response["X-Request-ID"] = request_id
        return response
