"""Guessing limits for short codes: the six-digit session sign-in and activity check-in codes.

A six-digit code has a million values; unlimited tries find it in hours. Two counters of wrong
codes live in the cache, each for CODE_GUESS_WINDOW from its first wrong code:

- one a user, over every code: past CODE_GUESSES_PER_USER the user is refused for the window;
- one an object (a session, an activity), from anyone: past CODE_GUESSES_PER_OBJECT the object
  takes no code at all for the window, so guessing from many accounts stops as well.

While refused, the right code is refused too: otherwise a guess that hit would still show.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError, RateLimited

# The tests give every test an empty cache of its own (tests/conftest.py).
cache: BaseCache = caches["default"]


def code_check(
    *, given: str | None, expected: str, kind: str, object_id: int, user_id: int
) -> None:
    """Refuse a wrong code, and any code while this user or this object is over its limit."""
    user_key, object_key = f"code-guesses:user:{user_id}", f"code-guesses:{kind}:{object_id}"
    counts = cache.get_many([user_key, object_key])
    minutes = int(settings.CODE_GUESS_WINDOW.total_seconds() // 60)
    if counts.get(user_key, 0) >= settings.CODE_GUESSES_PER_USER:
        raise RateLimited(
            _("您输错签到码的次数过多，请在 %(minutes)d 分钟后再试。") % {"minutes": minutes}
        )
    if counts.get(object_key, 0) >= settings.CODE_GUESSES_PER_OBJECT:
        raise RateLimited(
            _("签到码输错的次数过多，签到已暂停，请在 %(minutes)d 分钟后再试。")
            % {"minutes": minutes}
        )
    given = (given or "").strip()
    # Bytes: compare_digest raises TypeError on str with non-ASCII characters.
    if given and secrets.compare_digest(given.encode(), expected.encode()):
        return
    if given:  # an empty code is a slip, not a guess
        for key in (user_key, object_key):
            _count(key)
    raise ApplicationError(_("签到码不正确。"))


def _count(key: str, seconds: int | None = None) -> int:
    """One more under `key`, in a window of `seconds` (CODE_GUESS_WINDOW) from the first."""
    timeout = seconds or int(settings.CODE_GUESS_WINDOW.total_seconds())
    cache.add(key, 0, timeout=timeout)  # the window starts at the first one
    try:
        return int(cache.incr(key))
    except ValueError:  # the key expired between add and incr
        cache.set(key, 1, timeout=timeout)
        return 1


def attempt_allowed(key: str, *, limit: int, seconds: int) -> bool:
    """Count one attempt under `key` (a window of `seconds` from its first); False past `limit`
    (the attempt is counted all the same)."""
    return _count(key, seconds) <= limit
