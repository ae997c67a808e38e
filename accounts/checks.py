"""System checks for the SMS gateway: production never prints sign-in codes to a log (production
settings also refuse to load with such a backend: config/refusal.py)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from core.refusal import ALIYUN_SMS_BACKEND as ALIYUN_BACKEND
from core.refusal import NON_DELIVERING_SMS_BACKENDS as NON_DELIVERING_BACKENDS
from core.refusal import wechat_missing

ALIYUN_REQUIRED = ("ALIYUN_SMS_ACCESS_KEY_ID", "ALIYUN_SMS_ACCESS_KEY_SECRET",
                   "ALIYUN_SMS_SIGN_NAME")


def _is_production() -> bool:
    return getattr(settings, "DJANGO_ENV", "") == "production"


@checks.register(checks.Tags.security)
def sms_backend_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Production must send SMS through a real gateway, configured completely."""
    backend = settings.SMS_BACKEND
    errors: list[checks.CheckMessage] = []
    if _is_production() and backend in NON_DELIVERING_BACKENDS:
        errors.append(checks.Error(
            f"SMS_BACKEND is {backend} in production: sign-in codes would be printed to the "
            "server log and never reach the resident.",
            hint=f"Set SMS_BACKEND={ALIYUN_BACKEND} and its ALIYUN_SMS_* settings.",
            id="accounts.E001"))
    if backend == ALIYUN_BACKEND:
        missing = [name for name in ALIYUN_REQUIRED if not getattr(settings, name, "")]
        templates = getattr(settings, "ALIYUN_SMS_TEMPLATES", {}) or {}
        missing += [f"ALIYUN_SMS_TEMPLATES[{key!r}]" for key in ("code", "notice")
                    if not templates.get(key)]
        if missing:
            errors.append(checks.Error(
                "The Alibaba Cloud SMS backend is not configured: " + ", ".join(missing) + ".",
                id="accounts.E002"))
    return errors


@checks.register(checks.Tags.security)
def wechat_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """WeChat wholly configured or not at all (config.refusal.wechat_missing says which)."""
    names = ("WECHAT_APP_ID", "WECHAT_APP_SECRET", "WECHAT_TEMPLATES")
    missing = wechat_missing({name: getattr(settings, name, "") for name in names})
    if not missing:
        return []
    return [checks.Error("WeChat is half configured: " + ", ".join(missing) + " empty.",
                         hint="Set every WECHAT_* variable, or none.", id="accounts.E003")]
