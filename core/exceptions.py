"""Domain errors. The API exception handler turns them into one JSON error shape."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A domain rule refused the request. `message` is shown to the user (Chinese first)."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class InvalidTransition(ApplicationError):
    code = "invalid_transition"
    status_code = 409


class PermissionDeniedError(ApplicationError):
    code = "permission_denied"
    status_code = 403


class RateLimited(ApplicationError):
    code = "rate_limited"
    status_code = 429
