"""Settings for the HTTP benchmark (bench/http.md): production-like, on loopback, unthrottled.

DEBUG off, the production middleware, but plain HTTP on 127.0.0.1 and throttle rates high enough
that wrk measures the views rather than the 429 path.
"""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("DEBUG", "false")

from config.settings.base import *  # noqa: F403
from config.settings.base import REST_FRAMEWORK

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"api_key": "1000000/min", "anon": "1000000/min",
                               "user": "1000000/min", "protected_lookup": "1000000/min"},
}
SMS_BACKEND = "notifications.sms.LocmemSmsBackend"
