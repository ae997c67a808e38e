from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("账户")

    def ready(self) -> None:
        # Imported for what they register once the apps are loaded (Django's ready() idiom).
        from accounts import checks  # noqa: F401 (registers SMS checks)
        from accounts.api import schema  # noqa: F401 (registers OpenAPI auth)
