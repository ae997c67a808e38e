from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "privacy"
    # The admin heading over its one model, the deletion requests (a msgid already translated).
    verbose_name = _("注销申请")

    def ready(self) -> None:
        # They import models, which cannot load before the app registry is ready.
        from privacy import registry, selectors

        registry.autodiscover()
        selectors.sections_check()
        registry.retention_steps()  # a step name declared twice stops start-up
