"""External systems (the 12345 hotline, 诉速办) authenticate with `Authorization: Api-Key <key>`."""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.models import ApiKey, User

KEYWORD = "Api-Key"
LAST_USED_PRECISION = timedelta(minutes=1)


def api_key_user(raw_key: str) -> tuple[User, ApiKey] | None:
    """The active system user for a raw key, or None. Compares hashes, never raw keys."""
    prefix = raw_key.split(".", 1)[0]
    api_key = ApiKey.objects.select_related("user").filter(prefix=prefix, is_active=True).first()
    if api_key is None or not hmac.compare_digest(api_key.key_hash, ApiKey.hash_key(raw_key)):
        return None
    if not api_key.user.is_active:
        return None
    now = timezone.now()
    # A write on every keyed request was the hot path's biggest cost; a minute's precision is
    # all "last used" needs, so most requests write nothing.
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_PRECISION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    return api_key.user, api_key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).decode(errors="ignore")
        if not header.startswith(f"{KEYWORD} "):
            return None
        found = api_key_user(header[len(KEYWORD) + 1 :].strip())
        if found is None:
            raise exceptions.AuthenticationFailed(_("API 密钥无效。"))
        return found

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD
