from __future__ import annotations

from io import TextIOBase
from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteersConfig(AppConfig):
    name = "volunteers"
    verbose_name = _("志愿服务")

    def ready(self) -> None:
        from core.care_referral import care_visit_links_register
        from core.demo import demo_step_register
        from core.media import media_register
        from volunteers import care_links
        from volunteers.models import MicroWish
        from volunteers.selectors import micro_wish_get_for_media

        # A petition opened from a care visit links back to it (core/care_referral.py).
        care_visit_links_register(care_links)

        media_register(MicroWish, "fulfilment_photo", access=micro_wish_get_for_media)
        demo_step_register("volunteers", order=30, load=_demo_load)


def _demo_load(*, compound: Any, stdout: TextIOBase) -> None:
    # Imported when the demo runs, not at every start: the module holds the whole demo's data.
    from volunteers import demo

    demo.load(compound=compound, stdout=stdout)
