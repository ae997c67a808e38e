"""Template context every page gets."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from core.workdays import CalendarStatus, calendar_status


def calendar_notice(request: HttpRequest) -> dict[str, Any]:
    """For street admins only: the holiday table's status when it ends within WARNING_DAYS
    (None otherwise). Lazy, so a page that does not render the banner costs no query."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not (
            user.is_superuser or getattr(user, "role", "") == user.Role.STREET_ADMIN):
        return {}

    def ending() -> CalendarStatus | None:
        status = calendar_status()
        return status if status.is_ending else None

    return {"calendar_notice": SimpleLazyObject(ending)}
