"""What the production start-up refusal (config/refusal.py) shares with the apps' own system
checks (core.crypto: core.E101; accounts.checks: accounts.E001-E002), kept here so those checks
need nothing above core. Pure values and one predicate: importable while settings load.
"""

from __future__ import annotations

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
