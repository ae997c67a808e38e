"""Production refuses to start wrong (config/refusal.py, called by config/settings/production.py
at import): a placeholder or weak secret, missing or malformed field keys, an SMS backend that
delivers nothing, default hosts, the cache on the broker's Redis database.

The rules are checked in-process, case by case; two subprocesses show that a real start obeys
them (gunicorn loads the application with a good environment and refuses a bad one).
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.refusal import problems, refuse_to_start
from tests.core.production_env import (
    GOOD_SETTINGS,
    ROOT,
    fixed_fernet_key,
    fixed_key,
    production_module,
    production_process_environment,
)

TOKEN = fixed_key("token")  # 64 characters
GENERATE_SECRET = "secrets.token_urlsafe(50)"
GENERATE_FERNET = "Fernet.generate_key()"
GENERATE_HEX = "secrets.token_hex(32)"


def test_the_good_environment_has_no_problem():
    assert problems(GOOD_SETTINGS) == []


@pytest.mark.parametrize(("name", "value"), [
    ("REDIS_URL", ""),  # no Redis at all: nothing shared
    ("CACHE_REDIS_URL", "redis://127.0.0.1:6380/0"),  # another server, same number
    ("ALLOWED_HOSTS", ["portal.test", ".jiedao.gov.cn", "10.0.0.5"]),
    ("FIELD_ENCRYPTION_KEYS", [fixed_fernet_key("new"), fixed_fernet_key("old")]),
    ("SMS_BACKEND", "notifications.sms_aliyun.AliyunSmsBackend"),
])
def test_acceptable_values_are_not_refused(name: str, value: Any):
    assert problems({**GOOD_SETTINGS, name: value}) == []


@pytest.mark.parametrize(("name", "value", "says"), [
    ("SECRET_KEY", "", GENERATE_SECRET),
    ("SECRET_KEY", "change-me-to-a-long-random-string", GENERATE_SECRET),  # .env.example's
    ("SECRET_KEY", TOKEN + "-ChangeMe", "placeholder"),
    ("SECRET_KEY", "placeholder-" + TOKEN, "placeholder"),
    ("SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production" + TOKEN, "placeholder"),
    ("SECRET_KEY", "django-insecure-" + TOKEN, "django-insecure-"),
    ("SECRET_KEY", TOKEN[:49], "50 characters"),
    ("SECRET_KEY", "ab" * 40, "5 different characters"),
    ("FIELD_ENCRYPTION_KEYS", [], GENERATE_FERNET),
    ("FIELD_ENCRYPTION_KEYS", ["not-a-key"], "FIELD_ENCRYPTION_KEYS[0]"),
    ("FIELD_ENCRYPTION_KEYS", [GOOD_SETTINGS["FIELD_ENCRYPTION_KEYS"][0], TOKEN],
     "FIELD_ENCRYPTION_KEYS[1]"),
    ("FIELD_BLIND_INDEX_KEY", "", GENERATE_HEX),
    ("FIELD_BLIND_INDEX_KEY", TOKEN[:31], "32 characters"),
    ("FIELD_BLIND_INDEX_KEY", "change-me-" + TOKEN[:32], "placeholder"),
    ("SMS_BACKEND", "notifications.sms.ConsoleSmsBackend",
     "notifications.sms_aliyun.AliyunSmsBackend"),
    ("SMS_BACKEND", "notifications.sms.LocmemSmsBackend",
     "notifications.sms_aliyun.AliyunSmsBackend"),
    ("ALLOWED_HOSTS", [], "the host name"),
    ("ALLOWED_HOSTS", ["127.0.0.1", "localhost"], "'127.0.0.1', 'localhost'"),  # base.py's
    ("ALLOWED_HOSTS", ["portal.test", "::1"], "'::1'"),
    ("ALLOWED_HOSTS", ["[::1]"], "'[::1]'"),
    ("ALLOWED_HOSTS", ["*"], "'*'"),
    ("ALLOWED_HOSTS", ["portal.example.org"], "'portal.example.org'"),  # .env.example's
    ("ALLOWED_HOSTS", [".Example.COM"], "'.Example.COM'"),
    ("ALLOWED_HOSTS", ["example.net"], "'example.net'"),
    ("CACHE_REDIS_URL", GOOD_SETTINGS["REDIS_URL"], "redis://redis:6379/1"),
    ("CACHE_REDIS_URL", "redis://127.0.0.1:6379", "the same Redis database"),  # db 0 implied
])
def test_each_problem_names_its_variable_and_the_fix(name: str, value: Any, says: str):
    [problem] = problems({**GOOD_SETTINGS, name: value})
    assert problem.startswith(name)
    assert says in problem


@pytest.mark.parametrize(("changes", "says"), [
    ({"ALIYUN_SMS_ACCESS_KEY_SECRET": ""}, "ALIYUN_SMS_ACCESS_KEY_SECRET is empty"),
    ({"ALIYUN_SMS_SIGN_NAME": "", "ALIYUN_SMS_TEMPLATES": {"code": "SMS_1", "notice": ""}},
     "ALIYUN_SMS_SIGN_NAME, ALIYUN_SMS_TEMPLATE_NOTICE are empty"),
])
def test_the_alibaba_gateway_with_an_empty_credential_or_template_is_refused(
        changes: dict[str, Any], says: str):
    [problem] = problems({**GOOD_SETTINGS, **changes})
    assert problem.startswith("SMS_BACKEND is the Alibaba Cloud gateway")
    assert says in problem


@pytest.mark.parametrize(("name", "value", "says"), [
    ("SITE_URL", "http://127.0.0.1:8000", "SITE_URL must be the portal's public https address"),
    ("SITE_URL", "", "now 'empty'"),
    ("SITE_URL", "http://portal.test", "https"),
    ("DATABASES", {"default": {"ENGINE": "django.db.backends.sqlite3"}}, "DATABASE_URL must"),
])
def test_links_and_the_database_must_be_production_ones(name: str, value: Any, says: str):
    [problem] = problems({**GOOD_SETTINGS, name: value})
    assert says in problem


def test_one_refusal_lists_every_problem_and_prints_no_secret():
    secret_key, blind_key = "changeme-" + TOKEN, "placeholder" + TOKEN[:32]
    fernet_key = "x" * 44
    broken = {"SECRET_KEY": secret_key, "FIELD_ENCRYPTION_KEYS": [fernet_key],
              "FIELD_BLIND_INDEX_KEY": blind_key,
              "SMS_BACKEND": "notifications.sms.ConsoleSmsBackend",
              "ALLOWED_HOSTS": ["localhost"], "REDIS_URL": "redis://:pass-word@redis:6379/0",
              "CACHE_REDIS_URL": "redis://:pass-word@redis:6379/0"}
    with pytest.raises(ImproperlyConfigured, match=r"^Production refuses to start") as refused:
        refuse_to_start(broken)
    message = str(refused.value)
    for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "FIELD_BLIND_INDEX_KEY", "SMS_BACKEND",
                 "ALLOWED_HOSTS", "CACHE_REDIS_URL"):
        assert f"\n  - {name}" in message
    for secret in (secret_key, fernet_key, blind_key, "pass-word"):
        assert secret not in message


def test_the_production_settings_module_refuses_at_import():
    with pytest.raises(ImproperlyConfigured, match=r"(?s)SECRET_KEY.*placeholder.*SMS_BACKEND"), \
            production_module({"SECRET_KEY": "change-me-" + TOKEN,
                               "SMS_BACKEND": "notifications.sms.ConsoleSmsBackend"}):
        pass
    assert "config.settings.production" not in sys.modules


def test_production_reads_hsts_preload_from_the_environment_off_by_default():
    with production_module() as production:
        assert production.SECURE_HSTS_PRELOAD is False
        assert "security.W021" in production.SILENCED_SYSTEM_CHECKS  # off is deliberate
    with production_module(environment={"SECURE_HSTS_PRELOAD": "true"}) as production:
        assert production.SECURE_HSTS_PRELOAD is True
        assert "security.W021" not in production.SILENCED_SYSTEM_CHECKS


def test_collectstatic_reads_nothing_production_changes():
    """So an image build can collect static files with DJANGO_ENV=local (no secrets needed)."""
    local = importlib.import_module("config.settings.local")
    names = ("INSTALLED_APPS", "STATIC_ROOT", "STATIC_URL", "STATICFILES_DIRS", "STORAGES",
             "STATICFILES_FINDERS")
    with production_module() as production:
        assert {name: getattr(production, name, None) for name in names} == \
            {name: getattr(local, name, None) for name in names}


# --- real starts: gunicorn loads the WSGI application as in production (about 1.5 s CPU) -----

def gunicorn_check_config(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own gunicorn, fixed arguments
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi:application",
         "--check-config"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60, check=False)


def test_gunicorn_starts_with_a_good_environment():
    result = gunicorn_check_config(production_process_environment())
    assert result.returncode == 0, result.stderr


def test_gunicorn_refuses_to_start_with_a_bad_environment():
    environment = production_process_environment(
        SMS_BACKEND="notifications.sms.ConsoleSmsBackend", ALLOWED_HOSTS="localhost")
    del environment["SECRET_KEY"]
    result = gunicorn_check_config(environment)
    assert result.returncode != 0
    assert "ImproperlyConfigured: Production refuses to start" in result.stderr
    for problem in ("SECRET_KEY is empty", "SMS_BACKEND is", "ALLOWED_HOSTS holds"):
        assert problem in result.stderr


def test_an_sms_backend_named_by_its_old_module_is_read_as_the_new_one():
    """.env files written before the backends moved to notifications name accounts.sms…: the
    console one is still refused (it would otherwise start and print every code)."""
    environment = production_process_environment(SMS_BACKEND="accounts.sms.ConsoleSmsBackend")
    result = gunicorn_check_config(environment)
    assert result.returncode != 0
    assert "SMS_BACKEND is notifications.sms.ConsoleSmsBackend" in result.stderr
