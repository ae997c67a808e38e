from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("账户")

    def ready(self) -> None:
        from accounts import checks  # noqa: F401  (registers the SMS gateway checks)
        from accounts.api import schema  # noqa: F401  (registers the OpenAPI auth extensions)
        from accounts.models import PhoneCode
        from notifications.services import retention_register, rows_older_than

        # PIPL retention: sign-in codes go after settings.RETENTION["phone_code"] days.
        retention_register("phone_codes", rows_older_than(PhoneCode, "created_at", "phone_code"))
