from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PetitionsConfig(AppConfig):
    name = "petitions"
    verbose_name = _("诉求办理")

    def ready(self) -> None:
        from core.media import media_register
        from petitions.models import PetitionPhoto
        from petitions.selectors import petition_photo_get_for_media

        # allows_anonymous: the 公示's photo opens to anyone (the rule's public case).
        media_register(PetitionPhoto, "image", access=petition_photo_get_for_media,
                       allows_anonymous=True)
