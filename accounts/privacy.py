"""The account's part of a resident's data download (privacy.export)."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from accounts.personal_data import export_row


def account_export(*, user: User) -> dict[str, Any]:
    return export_row(user, ("username", "display_name", "phone", "role", "date_joined",
                             "last_login"))


EXPORT_SECTIONS = {"account": account_export}
