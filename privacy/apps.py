from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = _("个人信息保护")

    def ready(self) -> None:
        from privacy import registry, selectors

        registry.autodiscover()
        selectors.sections_check()
