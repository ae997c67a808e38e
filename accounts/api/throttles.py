"""Throttles: one bucket per API key for other systems, per account for people, and per client IP
for phone sign-in."""

from __future__ import annotations

from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from django.utils.connection import ConnectionProxy
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

from accounts.models import ApiKey
from core import metrics
from core.ip import client_ip


class CountingRateThrottle(SimpleRateThrottle):
    """DRF's limit as one counter on Redis: one round trip per request (SET NX EX and INCR in a
    pipeline) where DRF reads and writes back the list of every request's time in the window,
    600 floats both ways at 600/min. The window starts at the bucket's first request and lasts
    the rate's duration, so a caller may reach twice the rate across two windows' edge; the
    hot API buckets count volume, not secrets (the sign-in and protected-lookup limits keep
    DRF's sliding window).

    Other caches (the database cache in development, LocMem in the tests) keep DRF's way: their
    incr() is a get and a set that would push the window's expiry back on every request.
    """

    num_requests: int  # both set by SimpleRateThrottle.__init__ from the rate
    duration: int
    refused_ttl: int | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        redis = _redis_backend(self.cache)
        if redis is None or self.rate is None:
            return super().allow_request(request, view)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        # Its own key: DRF's history list under self.key is a pickle INCR cannot count.
        counter = redis.make_and_validate_key(f"{self.key}:count")
        client = redis._cache.get_client(counter, write=True)
        pipeline = client.pipeline(transaction=False)
        pipeline.set(counter, 0, ex=self.duration, nx=True)
        pipeline.incr(counter)
        _created, count = pipeline.execute()
        if count <= self.num_requests:
            return True
        self.refused_ttl = client.ttl(counter)  # a second round trip, for refusals only
        return False

    def wait(self) -> float | None:
        if self.refused_ttl is None:
            return super().wait()
        return float(self.refused_ttl if self.refused_ttl > 0 else self.duration)


def _redis_backend(cache: Any) -> RedisCache | None:
    """The Redis backend behind `cache`, if it is one. DRF's default is django.core.cache.cache,
    a proxy to the default backend, which isinstance does not see through."""
    if isinstance(cache, ConnectionProxy):
        cache = caches[getattr(cache, "_alias", DEFAULT_CACHE_ALIAS)]
    return cache if isinstance(cache, RedisCache) else None


class ApiKeyRateThrottle(CountingRateThrottle):
    """Limits each external system by its key (rate: DEFAULT_THROTTLE_RATES["api_key"]).

    Requests not made with an API key are left to the other throttles on the view.
    """

    scope = "api_key"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not isinstance(request.auth, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class SessionUserRateThrottle(CountingRateThrottle, UserRateThrottle):
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

    def throttle_failure(self) -> bool:
        metrics.SIGNIN_CODE_REQUESTS.labels(outcome="throttled").inc()
        return super().throttle_failure()


class PhoneCodeVerifyThrottle(ClientIpRateThrottle):
    scope = "phone_verify"
    rate = "20/min"
