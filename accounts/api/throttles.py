"""Throttles: one bucket per API key for other systems, per account for people, and per client IP
for phone sign-in."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

from accounts.models import ApiKey
from core.ip import client_ip


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Limits each external system by its key (rate: DEFAULT_THROTTLE_RATES["api_key"]).

    Requests not made with an API key are left to the other throttles on the view.
    """

    scope = "api_key"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not isinstance(request.auth, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class SessionUserRateThrottle(UserRateThrottle):
    """Limits each signed-in person by their account (rate: DEFAULT_THROTTLE_RATES["user"]).

    Requests made with an API key are counted per key instead; anonymous ones are left to the
    per-IP throttles of the views that admit them.
    """

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.auth is not None or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class ClientIpRateThrottle(SimpleRateThrottle):
    """Per client IP, resolved like the rest of the site (settings.NUM_PROXIES)."""

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request) or "none"}


class PhoneCodeRequestThrottle(ClientIpRateThrottle):
    # A burst guard in front of the per-phone/per-IP/global hourly limits in the service.
    scope = "phone_code"
    rate = "10/min"


class PhoneCodeVerifyThrottle(ClientIpRateThrottle):
    scope = "phone_verify"
    rate = "20/min"
