"""A production environment that config/settings/production.py accepts, as settings (for the
in-process import) and as environment variables (for a real start in a subprocess).

production.py refuses to import with the test process's own values (a short SECRET_KEY, no
field keys, the locmem SMS backend, loopback hosts), so `production_module` imports it afresh on
top of base.py's values patched to these.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALIYUN = "notifications.sms_aliyun.AliyunSmsBackend"


def fixed_key(purpose: str) -> str:
    """A well-formed key that is the same in every process (pytest-xdist's workers must collect
    the same parametrized ids), never used outside the tests."""
    return hashlib.sha256(f"tests:{purpose}".encode()).hexdigest()


def fixed_fernet_key(purpose: str) -> str:
    return base64.urlsafe_b64encode(bytes.fromhex(fixed_key(purpose))).decode()


GOOD_SETTINGS: dict[str, Any] = {
    "SECRET_KEY": fixed_key("secret-key") + "/" + fixed_fernet_key("secret-key"),
    "FIELD_ENCRYPTION_KEYS": [fixed_fernet_key("field-encryption")],
    "FIELD_BLIND_INDEX_KEY": fixed_key("blind-index"),
    "SMS_BACKEND": ALIYUN,
    "ALLOWED_HOSTS": ["portal.test"],
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "CACHE_REDIS_URL": "redis://127.0.0.1:6379/1",
    "ALIYUN_SMS_ACCESS_KEY_ID": "ci", "ALIYUN_SMS_ACCESS_KEY_SECRET": "ci",
    "ALIYUN_SMS_SIGN_NAME": "CI",
    "ALIYUN_SMS_TEMPLATES": {"code": "SMS_1", "notice": "SMS_2"},
    "SITE_URL": "https://portal.test",
    "DATABASES": {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "portal"}},
}

# The same, as a deployment sets them (plus the Alibaba gateway's, which `check` requires).
GOOD_ENVIRONMENT: dict[str, str] = {
    **{name: value for name, value in GOOD_SETTINGS.items() if isinstance(value, str)},
    "FIELD_ENCRYPTION_KEYS": ",".join(GOOD_SETTINGS["FIELD_ENCRYPTION_KEYS"]),
    "ALLOWED_HOSTS": ",".join(GOOD_SETTINGS["ALLOWED_HOSTS"]),
    "ALIYUN_SMS_TEMPLATE_CODE": "SMS_1", "ALIYUN_SMS_TEMPLATE_NOTICE": "SMS_2",
    "DATABASE_URL": "postgres://portal@127.0.0.1:5432/portal",
}


def production_process_environment(**changes: str) -> dict[str, str]:
    """The environment of a production process: DJANGO_ENV=production and GOOD_ENVIRONMENT
    with `changes`, nothing else of this test process (its DJANGO_SETTINGS_MODULE, DATABASE_URL
    or REDIS_URL must not leak in)."""
    kept = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR")
            if name in os.environ}
    return {**kept, "DJANGO_ENV": "production", "PYTHONDONTWRITEBYTECODE": "1",
            **GOOD_ENVIRONMENT, **changes}


@contextmanager
def production_module(settings: dict[str, Any] | None = None,
                      environment: dict[str, str] | None = None) -> Iterator[ModuleType]:
    """config.settings.production imported afresh, base.py's values patched to GOOD_SETTINGS
    updated with `settings`, and `environment` set for what production.py reads itself."""
    base = importlib.import_module("config.settings.base")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**GOOD_SETTINGS, **(settings or {})}.items():
            patch.setattr(base, name, value)
        for name, value in (environment or {}).items():
            patch.setenv(name, value)
        sys.modules.pop("config.settings.production", None)
        try:
            yield importlib.import_module("config.settings.production")
        finally:
            sys.modules.pop("config.settings.production", None)
