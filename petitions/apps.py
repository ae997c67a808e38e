from __future__ import annotations

from io import TextIOBase
from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PetitionsConfig(AppConfig):
    name = "petitions"
    verbose_name = _("诉求办理")

    def ready(self) -> None:
        from core.care_referral import petition_opener_register
        from core.demo import demo_step_register
        from core.media import media_never_served, media_register
        from core.referral import petition_source_register
        from notifications.messages import choices_register
        from petitions import care_referral, referral
        from petitions.models import CardStep, PendingPhoto, PetitionEvent, PetitionPhoto, Tier
        from petitions.selectors import petition_photo_get_for_media

        # allows_anonymous: the 公示's photo opens to anyone (the rule's public case).
        media_register(PetitionPhoto, "image", access=petition_photo_get_for_media,
                       allows_anonymous=True)
        # A photo kept across a refused form is shown to its uploader inline (a data: URI);
        # its file opens through /media/ only once a PetitionPhoto points at it.
        media_never_served(PendingPhoto, "image", reason="shown inline to its uploader only")
        # Inbox messages name a tier or an event kind by value, labelled in the reader's language.
        choices_register("petitions.tier", Tier)
        choices_register("petitions.event_kind", PetitionEvent.Kind)
        choices_register("petitions.card_step", CardStep)
        # What deliberation reads from a petition it makes a topic of, and the petition's move.
        petition_source_register(referral)
        # A need found on a volunteers' care visit, opened as a petition (core/care_referral.py).
        petition_opener_register(care_referral)
        demo_step_register("petitions", order=10, load=_demo_load)


def _demo_load(*, compound: Any, stdout: TextIOBase) -> None:
    # Imported when the demo runs, not at every start: the module holds the whole demo's data.
    from petitions import demo

    demo.load(compound=compound, stdout=stdout)
