"""What production refuses to start with. config/settings/production.py calls refuse_to_start
at import, so gunicorn, the Celery worker and beat and every manage.py command stop at once with
one message listing every problem, each naming its variable and how to make a good value.

The deploy checks share these rules (core.crypto: core.E101-E103; accounts.checks:
accounts.E001) and still report them where settings change after start-up (tests); the values
and the key test they share live in core.refusal, which those checks can import.

Pure functions of a settings mapping, importable while settings load: no app's models are
imported here (core.refusal is plain values), and no secret value is ever written into a
message (it would end up in a log).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured

from core.refusal import (
    ALIYUN_SMS_BACKEND,
    GENERATE_FERNET_KEY,
    NON_DELIVERING_SMS_BACKENDS,
    is_fernet_key,
    wechat_missing,
)

# Words that mark a value copied from an example, never generated (.env.example once shipped
# SECRET_KEY=change-me-to-a-long-random-string; local.py's key contains "insecure").
PLACEHOLDER_MARKERS = ("change-me", "changeme", "placeholder", "insecure")
BLIND_INDEX_KEY_MIN_LENGTH = 32
# Documentation domains (RFC 2606) and their hosts.
EXAMPLE_DOMAINS = ("example.org", "example.com", "example.net", "example")

# How to make each value (token_urlsafe: no "$" or "#" that .env or compose would interpret).
GENERATE_SECRET_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"  # noqa: S105
GENERATE_BLIND_INDEX_KEY = "python -c 'import secrets; print(secrets.token_hex(32))'"


def _placeholder_marker(value: str) -> str:
    lowered = value.lower()
    return next((marker for marker in PLACEHOLDER_MARKERS if marker in lowered), "")


def _secret_key_problem(key: str) -> str:
    if not key:
        return f"SECRET_KEY is empty: generate one with {GENERATE_SECRET_KEY}"
    reasons = []
    if marker := _placeholder_marker(key):
        reasons.append(f"is a placeholder (it contains {marker!r})")
    # Django's own rule for a weak key (security.W009), from Django's own constants.
    if key.startswith(SECRET_KEY_INSECURE_PREFIX):
        reasons.append(f"starts with {SECRET_KEY_INSECURE_PREFIX!r} (a development key)")
    if len(key) < SECRET_KEY_MIN_LENGTH:
        reasons.append(f"is shorter than {SECRET_KEY_MIN_LENGTH} characters")
    if len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        reasons.append(f"has fewer than {SECRET_KEY_MIN_UNIQUE_CHARACTERS} different characters")
    if not reasons:
        return ""
    return f"SECRET_KEY {' and '.join(reasons)}: generate one with {GENERATE_SECRET_KEY}"


def _encryption_keys_problem(keys: list[str]) -> str:
    if not keys:
        return ("FIELD_ENCRYPTION_KEYS is empty (personal data would be encrypted under a key "
                f"derived from SECRET_KEY): generate a key with {GENERATE_FERNET_KEY}")
    bad = [f"FIELD_ENCRYPTION_KEYS[{index}]" for index, key in enumerate(keys)
           if not is_fernet_key(key)]
    if not bad:
        return ""
    verb = "is not a Fernet key" if len(bad) == 1 else "are not Fernet keys"
    return (f"{', '.join(bad)} {verb} (32 url-safe base64-encoded bytes; comma-separated, "
            f"the first encrypts): generate one with {GENERATE_FERNET_KEY}")


def _blind_index_key_problem(key: str) -> str:
    if not key:
        return ("FIELD_BLIND_INDEX_KEY is empty (ID-number digests would be keyed with a key "
                f"derived from SECRET_KEY): generate one with {GENERATE_BLIND_INDEX_KEY}")
    reasons = []
    if marker := _placeholder_marker(key):
        reasons.append(f"is a placeholder (it contains {marker!r})")
    if len(key) < BLIND_INDEX_KEY_MIN_LENGTH:
        reasons.append(f"is shorter than {BLIND_INDEX_KEY_MIN_LENGTH} characters")
    if not reasons:
        return ""
    return (f"FIELD_BLIND_INDEX_KEY {' and '.join(reasons)}: generate one with "
            f"{GENERATE_BLIND_INDEX_KEY}")


def _sms_backend_problem(backend: str) -> str:
    if backend not in NON_DELIVERING_SMS_BACKENDS:
        return ""
    return (f"SMS_BACKEND is {backend}, which delivers nothing (sign-in codes would never reach "
            f"a resident): set SMS_BACKEND={ALIYUN_SMS_BACKEND} and its ALIYUN_SMS_* variables")


ALIYUN_SMS_REQUIRED = ("ALIYUN_SMS_ACCESS_KEY_ID", "ALIYUN_SMS_ACCESS_KEY_SECRET",
                       "ALIYUN_SMS_SIGN_NAME")
ALIYUN_SMS_TEMPLATE_VARIABLES = {"code": "ALIYUN_SMS_TEMPLATE_CODE",
                                 "notice": "ALIYUN_SMS_TEMPLATE_NOTICE"}


def _aliyun_sms_problem(settings: Mapping[str, Any]) -> str:
    """The Alibaba Cloud backend with an empty credential, signature or template sends nothing
    either: every code would fail at the gateway."""
    if (settings.get("SMS_BACKEND") or "") != ALIYUN_SMS_BACKEND:
        return ""
    templates = settings.get("ALIYUN_SMS_TEMPLATES") or {}
    missing = [name for name in ALIYUN_SMS_REQUIRED if not settings.get(name)]
    missing += [variable for key, variable in ALIYUN_SMS_TEMPLATE_VARIABLES.items()
                if not templates.get(key)]
    if not missing:
        return ""
    return (f"SMS_BACKEND is the Alibaba Cloud gateway but {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} empty: copy them from the SMS console "
            "(AccessKey pair of a RAM user allowed to send, the approved signature 签名 and the "
            "two approved template codes)")


def _wechat_problem(settings: Mapping[str, Any]) -> str:
    missing = wechat_missing(settings)
    if not missing:
        return ""
    return (f"WeChat is half configured: {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} empty (copy the AppID and AppSecret from "
            "the Official Account's 基本配置 and the template id from 模板消息), or unset every "
            "WECHAT_* variable to run without WeChat")


def _site_url_problem(site_url: str) -> str:
    """SMS and messages carry absolute links built on SITE_URL: a resident's phone cannot open
    base.py's http://127.0.0.1:8000, nor a plain-http link under HSTS."""
    parts = urlsplit(site_url.strip())
    if parts.scheme == "https" and parts.hostname and not is_default_host(parts.hostname):
        return ""
    return ("SITE_URL must be the portal's public https address (links in SMS and messages are "
            f"built on it; now {site_url.strip() or 'empty'!r}): e.g. "
            "SITE_URL=https://portal.your-street.gov.cn")


def _database_problem(databases: Mapping[str, Any]) -> str:
    engine = (databases.get("default") or {}).get("ENGINE", "")
    # django-prometheus' wrapper of the PostgreSQL backend (settings/base.py) is PostgreSQL.
    if engine in ("django.db.backends.postgresql", "django_prometheus.db.backends.postgresql",
                  "core.dbbackends.postgresql"):
        return ""
    return (f"DATABASE_URL must name the PostgreSQL database (now {engine or 'unset'}: the "
            "SQLite file of make run is for one machine and a demo): e.g. "
            "DATABASE_URL=postgres://portal:PASSWORD@postgres:5432/portal")


def is_default_host(entry: str) -> bool:
    """localhost, a loopback or unspecified address, '*', or a documentation domain's host."""
    host = entry.strip().lower().strip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host == "*" or host == "localhost" or host.endswith(".localhost"):
        return True
    if any(host == domain or host.endswith(f".{domain}") for domain in EXAMPLE_DOMAINS):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _allowed_hosts_problem(hosts: list[str]) -> str:
    how = ("set it to the host name(s) the portal is served at, comma-separated "
           "(e.g. ALLOWED_HOSTS=portal.your-street.gov.cn)")
    hosts = [host for host in hosts if host.strip()]
    if not hosts:
        return f"ALLOWED_HOSTS is empty: {how}"
    defaults = [host for host in hosts if is_default_host(host)]
    if not defaults:
        return ""
    listed = ", ".join(repr(host) for host in defaults)
    return f"ALLOWED_HOSTS holds defaults ({listed}): {how}"


def _redis_database(url: str) -> tuple[Any, ...]:
    """(server, database number) of a redis:// rediss:// or unix:// URL, as redis-py reads it."""
    try:
        parts = urlsplit(url.strip())
        database = parse_qs(parts.query).get("db", ["0"])[0]
        if parts.scheme == "unix":
            return (parts.path, database)
        return (parts.hostname or "localhost", parts.port or 6379,
                parts.path.strip("/") or database)
    except ValueError:
        return (url.strip(),)


def _cache_problem(broker_url: str, cache_url: str) -> str:
    if not broker_url or not cache_url:
        return ""
    if _redis_database(broker_url) != _redis_database(cache_url):
        return ""
    return ("CACHE_REDIS_URL is the same Redis database as REDIS_URL, the Celery broker (clearing "
            "the cache would drop queued tasks): give the cache its own database, e.g. "
            "REDIS_URL=redis://redis:6379/0 and CACHE_REDIS_URL=redis://redis:6379/1")


def problems(settings: Mapping[str, Any]) -> list[str]:
    """Every reason production must not start with these settings, one line per variable."""
    found = [
        _secret_key_problem(settings.get("SECRET_KEY") or ""),
        _encryption_keys_problem(list(settings.get("FIELD_ENCRYPTION_KEYS") or [])),
        _blind_index_key_problem(settings.get("FIELD_BLIND_INDEX_KEY") or ""),
        _sms_backend_problem(settings.get("SMS_BACKEND") or ""),
        _aliyun_sms_problem(settings),
        _wechat_problem(settings),
        _site_url_problem(settings.get("SITE_URL") or ""),
        _database_problem(settings.get("DATABASES") or {}),
        _allowed_hosts_problem(list(settings.get("ALLOWED_HOSTS") or [])),
        _cache_problem(settings.get("REDIS_URL") or "",
                       settings.get("CACHE_REDIS_URL") or ""),
    ]
    return [problem for problem in found if problem]


def refuse_to_start(settings: Mapping[str, Any]) -> None:
    """Raise ImproperlyConfigured listing every problem, if there is any."""
    found = problems(settings)
    if found:
        raise ImproperlyConfigured(
            "Production refuses to start (DJANGO_ENV=production). Set these environment "
            "variables (or NAME_FILE, a file holding the value, for the secrets):\n"
            + "\n".join(f"  - {problem}" for problem in found))
