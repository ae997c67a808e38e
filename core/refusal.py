"""What the production start-up refusal (config/refusal.py) shares with the apps' own system
checks (core.crypto: core.E101; accounts.checks: accounts.E001-E002), kept here so those checks
need nothing above core. Pure values and one predicate: importable while settings load.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet

# Backends that deliver nothing: they print (console) or keep messages in memory (tests).
NON_DELIVERING_SMS_BACKENDS = frozenset({
    "notifications.sms.ConsoleSmsBackend",
    "notifications.sms.LocmemSmsBackend",
})
ALIYUN_SMS_BACKEND = "notifications.sms_aliyun.AliyunSmsBackend"

GENERATE_FERNET_KEY = ("python -c 'from cryptography.fernet import Fernet; "
                       "print(Fernet.generate_key().decode())'")


def is_fernet_key(key: str) -> bool:
    """32 url-safe base64-encoded bytes, as Fernet itself decides."""
    try:
        Fernet(key.encode())
    except ValueError:
        return False
    return True


WECHAT_VARIABLES = ("WECHAT_APP_ID", "WECHAT_APP_SECRET")
WECHAT_TEMPLATE_VARIABLES = {"petition_status": "WECHAT_TEMPLATE_PETITION_STATUS"}


def wechat_missing(settings: Mapping[str, Any]) -> list[str]:
    """The WeChat variables still empty when some are set (none set: WeChat is off, fine).
    Half a configuration fails late and quietly: sign-in redirects to WeChat and comes back
    refused, or every message falls back to SMS with no one told why."""
    templates = settings.get("WECHAT_TEMPLATES") or {}
    values = {**{name: settings.get(name) or "" for name in WECHAT_VARIABLES},
              **{variable: templates.get(key) or ""
                 for key, variable in WECHAT_TEMPLATE_VARIABLES.items()}}
    if not any(values.values()):
        return []
    return [name for name, value in values.items() if not value]
