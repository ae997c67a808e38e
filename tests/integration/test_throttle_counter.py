"""The counting throttle on a real Redis: one counter per bucket, refused past the rate."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from django.utils.connection import ConnectionProxy
from rest_framework.throttling import SimpleRateThrottle

from accounts.api.throttles import ApiKeyRateThrottle
from accounts.models import ApiKey

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis"),
]


@pytest.fixture
def redis_buckets(monkeypatch: pytest.MonkeyPatch) -> Iterator[RedisCache]:
    # A prefix of its own, and only its own keys deleted: clear() would flush the whole database.
    prefix = f"throttle-test-{uuid.uuid4().hex}"
    cache = RedisCache(os.environ["REDIS_URL"], {"KEY_PREFIX": prefix})
    monkeypatch.setattr(SimpleRateThrottle, "cache", cache)
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "2/min"})
    yield cache
    client = cache._cache.get_client(write=True)
    keys = client.keys(f"{prefix}:*")
    if keys:
        client.delete(*keys)


def test_drf_s_default_cache_proxy_counts_on_the_redis_behind_it(monkeypatch):
    # SimpleRateThrottle.cache is django.core.cache.cache, a proxy: the counter must see the
    # RedisCache behind it (the test settings' default cache is Redis when REDIS_URL is set).
    default = caches[DEFAULT_CACHE_ALIAS]
    assert isinstance(default, RedisCache)
    monkeypatch.setattr(SimpleRateThrottle, "cache", ConnectionProxy(caches, DEFAULT_CACHE_ALIAS))
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "2/min"})
    key_id = uuid.uuid4().int % 10**12
    counter = default.make_and_validate_key(f"throttle_api_key_{key_id}:count")
    try:
        assert [_allowed(key_id)[0] for _index in range(3)] == [True, True, False]
        assert int(default._cache.get_client(write=True).get(counter)) == 3
    finally:
        default._cache.get_client(write=True).delete(counter)


def _allowed(key_id: int) -> tuple[bool, ApiKeyRateThrottle]:
    throttle = ApiKeyRateThrottle()
    request = SimpleNamespace(auth=ApiKey(pk=key_id))
    return throttle.allow_request(request, None), throttle  # type: ignore[arg-type]


def test_a_key_is_refused_past_its_rate_and_told_when_its_window_ends(redis_buckets):
    assert [_allowed(1)[0], _allowed(1)[0]] == [True, True]
    refused, throttle = _allowed(1)
    assert not refused
    assert 0 < throttle.wait() <= 60
    assert _allowed(2)[0]  # another key's bucket is its own


def test_the_bucket_is_one_counter_that_expires_with_the_rate(redis_buckets):
    _allowed(3)
    _allowed(3)
    client = redis_buckets._cache.get_client(write=True)
    counter = redis_buckets.make_and_validate_key("throttle_api_key_3:count")
    assert int(client.get(counter)) == 2
    assert 0 < client.ttl(counter) <= 60
    # DRF's list of request times is not written at all.
    assert redis_buckets.get("throttle_api_key_3") is None
