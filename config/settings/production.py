"""Production only tightens what base.py sets. SECRET_KEY has no default here."""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
# A signed-in session lasts one working day, counted from sign-in (not from the last request:
# no SESSION_SAVE_EVERY_REQUEST, which would write the session row on every page), and its
# cookie ends when the browser closes: community offices share computers. Residents sign in
# again with a code; tests/core/test_security_settings.py holds both to this.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
