"""The unread count in every page's header (signed-in users only, one indexed COUNT)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from notifications.selectors import notification_unread_count


def unread(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Lazy: pages that do not render the header (partials, downloads) run no query.
    return {"unread_count": SimpleLazyObject(lambda: notification_unread_count(user_id=user.pk))}
