from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteersConfig(AppConfig):
    name = "volunteers"
    verbose_name = _("志愿服务")

    def ready(self) -> None:
        from core.media import media_register
        from notifications.services import retention_register, rows_older_than
        from volunteers.models import CareFileAccessLog, MicroWish
        from volunteers.selectors import micro_wish_get_for_media

        media_register(MicroWish, "fulfilment_photo", access=micro_wish_get_for_media)
        # PIPL retention: who read a care file is kept as long as settings.RETENTION says.
        retention_register("care_access_logs",
                           rows_older_than(CareFileAccessLog, "at", "care_access_log"))
