"""The account's part of personal-data handling (run by the privacy app): its section of a
resident's data download, and the retention of sign-in codes."""

from __future__ import annotations

from typing import Any

from accounts.models import PhoneCode, User
from accounts.personal_data import export_row
from core.retention import RetentionStep, rows_older_than


def account_export(*, user: User) -> dict[str, Any]:
    return export_row(user, ("username", "display_name", "phone", "role", "date_joined",
                             "last_login"))


EXPORT_SECTIONS = {"account": account_export}

# PIPL retention: sign-in codes go after settings.RETENTION["phone_code"] days.
RETENTION_STEPS: dict[str, RetentionStep] = {
    "phone_codes": rows_older_than(PhoneCode, "created_at", "phone_code"),
}
