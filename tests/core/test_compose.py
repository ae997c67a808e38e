"""docker-compose.yml read line by line, as no container engine runs here: it must agree with
.env.example, the settings, the nginx configuration and the CI smoke lane (ops/smoke.py), which
runs its app services' commands on the host.
"""

from __future__ import annotations

import ast
import copy
import importlib.util
import re
import runpy
import sys
from datetime import timedelta
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.conf import settings

REPO = Path(__file__).resolve().parent.parent.parent
APP_SERVICES = {"migrate", "web", "worker", "beat"}


@cache
def smoke() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ops_smoke", REPO / "ops" / "smoke.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@cache
def _compose() -> dict[str, Any]:
    return smoke().load_compose(REPO / "docker-compose.yml")


@pytest.fixture
def compose() -> dict[str, Any]:
    return copy.deepcopy(_compose())


@pytest.fixture
def env_example() -> dict[str, str]:
    return smoke().read_env_file(REPO / ".env.example")


def settings_env_reads() -> dict[str, bool]:
    """Every variable config/settings/*.py reads: name → whether it has a default there."""
    reads: dict[str, bool] = {}
    for path in (REPO / "config" / "settings").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                continue
            function = node.func
            is_env = (isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name)
                      and function.value.id == "env") or (
                isinstance(function, ast.Name) and function.id in ("env", "env_secret"))
            if is_env:
                has_default = any(keyword.arg == "default" for keyword in node.keywords)
                name = node.args[0].value
                reads[name] = reads.get(name, True) and has_default
    return reads


def duration(text: str) -> timedelta:
    """Compose's duration syntax (1m30s, 330s, 5m)."""
    units = {"h": "hours", "m": "minutes", "s": "seconds", "ms": "milliseconds"}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", str(text))
    assert parts, f"not a duration: {text!r}"
    return timedelta(**{units[unit]: float(number) for number, unit in parts})


# --- .env.example: every variable that is needed is there --------------------------------------


def test_every_variable_compose_interpolates_is_in_env_example(compose, env_example):
    names = smoke().interpolated_names(compose)
    assert {"PORTAL_VERSION", "POSTGRES_PASSWORD"} <= names
    assert names - set(env_example) == set()


def test_every_variable_production_requires_is_in_env_example(compose, env_example):
    reads = settings_env_reads()
    # Set by compose itself for every app service (DATABASE_URL, from POSTGRES_PASSWORD).
    set_by_compose = set(compose["services"]["web"].get("environment") or {})
    # Read without a default (none today: production refuses with a message instead).
    without_default = {name for name, has_default in reads.items() if not has_default}
    # Refused when empty or wrong (config/refusal.py), and the Alibaba backend's settings.
    refused = {"SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "FIELD_BLIND_INDEX_KEY", "SMS_BACKEND",
               "ALLOWED_HOSTS", "REDIS_URL", "CACHE_REDIS_URL", "ALIYUN_SMS_ACCESS_KEY_ID",
               "ALIYUN_SMS_ACCESS_KEY_SECRET", "ALIYUN_SMS_SIGN_NAME",
               "ALIYUN_SMS_TEMPLATE_CODE", "ALIYUN_SMS_TEMPLATE_NOTICE"}
    assert refused <= set(reads) | {"ALIYUN_SMS_TEMPLATE_CODE", "ALIYUN_SMS_TEMPLATE_NOTICE"}
    # Every variable the refusal speaks of, whatever it learns to refuse later.
    refusal = (REPO / "config/refusal.py").read_text(encoding="utf-8")
    named = {name for name in reads if re.search(rf"\b{name}\b", refusal)}
    assert {"SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "CACHE_REDIS_URL"} <= named
    assert (without_default | refused | named) - set(env_example) - set_by_compose == set()


def test_env_example_ships_no_secret_and_a_recipe_for_each(env_example):
    text = (REPO / ".env.example").read_text(encoding="utf-8")
    for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "FIELD_BLIND_INDEX_KEY",
                 "POSTGRES_PASSWORD", "ALIYUN_SMS_ACCESS_KEY_SECRET"):
        assert env_example[name] == "", name
    assert 'print(secrets.token_urlsafe(50))"\nSECRET_KEY=' in text
    assert 'print(secrets.token_hex(32))"\nFIELD_BLIND_INDEX_KEY=' in text
    assert "base64.urlsafe_b64encode(os.urandom(32))" in text
    assert env_example["SMS_BACKEND"] == "notifications.sms_aliyun.AliyunSmsBackend"
    assert env_example["REDIS_URL"] != env_example["CACHE_REDIS_URL"]
    assert env_example["SECURE_HSTS_PRELOAD"] == "false"


# --- compose: start order, commands, signals, logs, secrets, tags ---------------------------------


def test_web_worker_and_beat_start_only_after_migrate_completed(compose):
    services = compose["services"]
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert str(services["migrate"]["restart"]) == "no"
    for name in ("web", "worker", "beat"):
        depends_on = services[name]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully", name
        assert depends_on["postgres"]["condition"] == "service_healthy", name
        assert depends_on["redis"]["condition"] == "service_healthy", name
        assert "migrate" not in " ".join(services[name]["command"]), name


def test_every_command_is_exec_form_under_an_init(compose):
    for name, service in compose["services"].items():
        command = service.get("command")
        if command is None:
            continue
        assert isinstance(command, list), f"{name}: a shell-form command {command!r}"
        assert command[:2] not in (["sh", "-c"], ["bash", "-c"], ["/bin/sh", "-c"]), name
        if name in APP_SERVICES:
            assert service.get("init") is True, name


def test_the_worker_may_finish_its_longest_task_before_it_is_killed(compose):
    grace = duration(compose["services"]["worker"]["stop_grace_period"])
    assert grace > timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)


def test_every_container_log_is_rotated(compose):
    for name, service in compose["services"].items():
        logging = service.get("logging") or {}
        assert logging.get("driver") == "json-file", name
        assert {"max-size", "max-file"} <= set(logging.get("options", {})), name


def test_postgres_gets_only_its_own_variables(compose):
    postgres = compose["services"]["postgres"]
    assert "env_file" not in postgres
    assert set(postgres["environment"]) == {"POSTGRES_USER", "POSTGRES_DB", "POSTGRES_PASSWORD"}
    assert postgres["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")


def test_every_image_built_here_is_tagged_with_the_release(compose):
    built = {name: service for name, service in compose["services"].items() if "build" in service}
    assert set(built) == APP_SERVICES | {"nginx"}
    for name, service in built.items():
        # The release's tag, required (":?"): never an untagged, that is :latest, image.
        assert re.fullmatch(r"community-portal(-nginx)?:\$\{PORTAL_VERSION:\?[^}]+\}",
                            service["image"]), f"{name}: {service['image']}"


def test_nginx_serves_the_media_volume_read_only_behind_the_protected_location(compose,
                                                                               env_example):
    nginx = compose["services"]["nginx"]
    assert nginx["image"].startswith("community-portal-nginx:")
    assert "media:/app/var/media:ro" in nginx["volumes"]
    assert all(port.startswith("127.0.0.1:") for port in nginx["ports"])
    assert "media:/app/var/media" in compose["services"]["web"]["volumes"]
    assert "ports" not in compose["services"]["web"]
    conf = (REPO / "ops/nginx/portal.conf").read_text(encoding="utf-8")
    prefix = env_example["MEDIA_ACCEL_REDIRECT"]
    assert re.search(rf"location {prefix} {{\s*internal;\s*alias /app/var/media/;", conf)


def test_nginx_accepts_a_petition_with_every_photo_at_its_largest():
    from petitions.models import MAX_PHOTOS

    conf = (REPO / "ops/nginx/portal.conf").read_text(encoding="utf-8")
    megabytes = int(re.search(r"client_max_body_size (\d+)m;", conf).group(1))
    assert megabytes * 1024 * 1024 > MAX_PHOTOS * settings.PHOTO_MAX_BYTES


# --- the smoke lane runs exactly compose's commands ---------------------------------------------


def test_the_smoke_lane_runs_every_app_service_with_composes_own_command(compose):
    plan = smoke().app_services(compose)
    app = {name: service for name, service in compose["services"].items()
           if service.get("build", {}).get("target") == "app"}
    assert plan[0].name == "migrate"
    assert sorted(service.name for service in plan) == sorted(app) == sorted(APP_SERVICES)
    for service in plan:
        assert list(service.command) == app[service.name]["command"], service.name


def test_the_smoke_lane_fails_when_a_service_no_longer_waits_for_migrate(compose):
    worker = compose["services"]["worker"]
    # A new mapping: the services share x-app's through the YAML anchor.
    worker["depends_on"] = {name: condition for name, condition in worker["depends_on"].items()
                            if name != "migrate"}
    with pytest.raises(smoke().SmokeError, match="worker does not wait for migrate"):
        smoke().app_services(compose)


def test_the_smoke_lane_refuses_a_shell_form_command(compose):
    compose["services"]["web"]["command"] = "sh -c 'python manage.py migrate && gunicorn'"
    with pytest.raises(smoke().SmokeError, match="web: the command must be a list"):
        smoke().app_services(compose)


def test_the_smoke_lane_interpolates_as_compose_does():
    interpolate = smoke().interpolate
    variables = {"SET": "value", "EMPTY": ""}
    assert interpolate("${SET}-${EMPTY:-default}-${EMPTY-kept}-$$HOSTNAME", variables) == (
        "value-default--$HOSTNAME")
    assert interpolate("${MISSING:-fallback}", variables) == "fallback"
    with pytest.raises(smoke().SmokeError, match=r"EMPTY: set EMPTY in \.env"):
        interpolate("${EMPTY:?set EMPTY in .env}", variables)


def test_the_smoke_lane_substitutes_only_the_upstream_paths_and_port_in_nginx():
    conf = (REPO / "ops/nginx/portal.conf").read_text(encoding="utf-8")
    site = smoke().nginx_site(conf, upstream="127.0.0.1:9", static_root=Path("/s"),
                              media_root=Path("/m"), port=7)
    directives = [line for line in site.splitlines() if not line.lstrip().startswith("#")]
    assert not [line for line in directives if "web:8000" in line or "/app/var" in line]
    changed = [line for line in site.splitlines() if line not in conf.splitlines()]
    assert sorted(line.strip() for line in changed) == [
        "alias /m/;", "alias /s/;", "listen 127.0.0.1:7;", "proxy_pass http://127.0.0.1:9;"]
    with pytest.raises(smoke().SmokeError, match="expected 'proxy_pass http://web:8000;' once"):
        smoke().nginx_site(conf.replace("web:8000", "portal:8000"), upstream="x",
                           static_root=Path("/s"), media_root=Path("/m"), port=7)


# --- gunicorn and the cache read the environment ------------------------------------------------


def test_gunicorn_takes_its_workers_timeout_and_recycling_from_the_environment(monkeypatch):
    for name in ("GUNICORN_BIND", "GUNICORN_WORKERS", "GUNICORN_TIMEOUT",
                 "GUNICORN_MAX_REQUESTS", "GUNICORN_MAX_REQUESTS_JITTER"):
        monkeypatch.delenv(name, raising=False)
    defaults = runpy.run_path(str(REPO / "config/gunicorn.conf.py"))
    assert defaults["bind"] == "0.0.0.0:8000"
    monkeypatch.setenv("GUNICORN_BIND", "127.0.0.1:9000")
    monkeypatch.setenv("GUNICORN_WORKERS", "7")
    monkeypatch.setenv("GUNICORN_TIMEOUT", "45")
    monkeypatch.setenv("GUNICORN_MAX_REQUESTS", "500")
    monkeypatch.setenv("GUNICORN_MAX_REQUESTS_JITTER", "50")
    configured = runpy.run_path(str(REPO / "config/gunicorn.conf.py"))
    assert (configured["bind"], configured["workers"], configured["timeout"],
            configured["max_requests"], configured["max_requests_jitter"]) == (
        "127.0.0.1:9000", 7, 45, 500, 50)
    assert configured["access_log_format"] == defaults["access_log_format"]
    assert "%(U)s" in configured["access_log_format"]


def test_the_cache_uses_its_own_redis_database_not_the_brokers(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("REDIS_URL", "redis://redis:6379/0")
    monkeypatch.setenv("CACHE_REDIS_URL", "redis://redis:6379/1")
    base = runpy.run_path(str(REPO / "config/settings/base.py"))
    assert base["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    assert base["CACHES"]["default"]["LOCATION"] == "redis://redis:6379/1"
    monkeypatch.delenv("CACHE_REDIS_URL")
    base = runpy.run_path(str(REPO / "config/settings/base.py"))
    assert base["CACHES"]["default"]["LOCATION"] == "redis://redis:6379/0"


def test_the_documented_photo_backup_copies_the_path_compose_mounts(compose):
    docs = (REPO / "docs/operations.md").read_text(encoding="utf-8")
    media = {volume.split(":")[1] for volume in compose["services"]["web"]["volumes"]
             if volume.startswith("media:")}
    copied = set(re.findall(r"exec -T web tar -C (\S+) -cf", docs))
    restored = set(re.findall(r"exec -T web tar -C (\S+) -xf", docs))
    assert media == {"/app/var/media"}
    assert copied == restored == media
