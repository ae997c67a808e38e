from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliberationConfig(AppConfig):
    name = "deliberation"
    verbose_name = _("协商议事")

    def ready(self) -> None:
        from core.media import media_register
        from deliberation.models import ActionEvidence
        from deliberation.selectors import action_evidence_get_for_media

        media_register(ActionEvidence, "photo", access=action_evidence_get_for_media)
