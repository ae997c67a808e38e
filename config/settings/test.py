"""Test settings: fast hasher, locmem mail, eager Celery for the few tests that need it."""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key")
os.environ.setdefault("DEBUG", "false")

from .base import *  # noqa: F403
from .base import CACHES, DATABASES, REDIS_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# The session from the database in both lanes (base.py reads it from Redis where there is one):
# the asserted query counts are the same with and without Redis. The smoke lane runs cached_db.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
if not REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
elif os.environ.get("PYTEST_XDIST_WORKER"):
    # The services lane's two workers share one Redis database: each keeps its keys apart, or
    # one's test clears or takes a key (a WeChat token, its lock) another's test is waiting on.
    CACHES["default"]["KEY_PREFIX"] = f"test-{os.environ['PYTEST_XDIST_WORKER']}"
if DATABASES["default"]["ENGINE"].endswith(".sqlite3"):
    DATABASES["default"]["NAME"] = ":memory:"
    DATABASES["default"]["OPTIONS"] = {}
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
SMS_BACKEND = "notifications.sms.LocmemSmsBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LANGUAGE_CODE = "zh-hans"
STATIC_ROOT = None  # whitenoise serves from the finders in tests; no collectstatic
WHITENOISE_USE_FINDERS = True
# django-prometheus' request middleware costs the suite about a sixth of its time (a test client
# loads the middleware anew, and every request is timed and labelled): off in the tests, but for
# the one that reads its counters (tests/monitoring/test_metrics.py puts it back). The database
# wrapper stays (no measurable cost); production, `make run` and the smoke lane keep both.
PROMETHEUS_MIDDLEWARE = ("django_prometheus.middleware.PrometheusBeforeMiddleware",
                         "django_prometheus.middleware.PrometheusAfterMiddleware")
MIDDLEWARE = [name for name in MIDDLEWARE if name not in PROMETHEUS_MIDDLEWARE]  # noqa: F405
# WhiteNoise looks a static file up when it is asked for, not by scanning every file of the
# finders when a middleware chain is built: each test client builds one, and the scan (~200
# files stat'ed and their headers prepared) was a fifth of the suite's time.
WHITENOISE_AUTOREFRESH = True
