"""Production only tightens what base.py sets, and refuses to start wrong (config/refusal.py):
a placeholder or weak SECRET_KEY, missing field keys, an SMS backend that delivers nothing,
hosts left at defaults, the cache on the broker's Redis database."""

from __future__ import annotations

from config.refusal import refuse_to_start

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Probes and Prometheus reach gunicorn directly over plain http, inside the compose network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Preload is opt-in: once browsers ship the domain in their preload list, every subdomain is
# https-only for months whatever the header says later. Off, Django's security.W021 would
# fail `check --deploy --fail-level WARNING`; off is the decision, so it is silenced.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# A signed-in session lasts one working day, counted from sign-in (not from the last request:
# no SESSION_SAVE_EVERY_REQUEST, which would write the session row on every page), and its
# cookie ends when the browser closes: community offices share computers. Residents sign in
# again with a code; tests/core/test_security_settings.py holds both to this.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Last: gunicorn, the Celery worker and beat and every manage.py command stop here, with one
# ImproperlyConfigured listing every problem (not only `check --deploy`).
refuse_to_start(globals())
