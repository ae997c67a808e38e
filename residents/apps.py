from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResidentsConfig(AppConfig):
    name = "residents"
    verbose_name = _("居民与党员")

    def ready(self) -> None:
        from core.reveal_scope import reveal_scope_register
        from residents.rules import personal_data_path

        reveal_scope_register(personal_data_path)

        from accounts.signals import phone_verified
        from residents.signals import resident_records_link

        phone_verified.connect(resident_records_link, dispatch_uid="residents.records_link")
