from __future__ import annotations

from io import TextIOBase
from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core.demo import demo_step_register
from core.media import media_register
from core.recurrence import recurrence_target_register
from core.referral import referrer_register
from notifications.messages import choices_register


class DeliberationConfig(AppConfig):
    name = "deliberation"
    verbose_name = _("协商议事")

    def ready(self) -> None:
        # They import models, which cannot load before the app registry is ready.
        from deliberation import recurrence
        from deliberation.models import ActionEvidence, Topic
        from deliberation.selectors import action_evidence_get_for_media
        from deliberation.services.topics import topic_propose_from_petition

        # The proposer's "your topic moved" message names the step in the reader's language.
        choices_register("topic_status", Topic.Status)
        media_register(ActionEvidence, "photo", access=action_evidence_get_for_media)
        # petitions' refer pages and API make the topic through this service.
        referrer_register(topic_propose_from_petition)
        # petitions' 未诉先办 suggestions, once accepted, open a topic or a need here.
        recurrence_target_register(recurrence)
        # After petitions (10): its demo's referred petitions become topics here.
        demo_step_register("deliberation", order=20, load=_demo_load)


def _demo_load(*, compound: Any, stdout: TextIOBase) -> None:
    # Imported when the demo runs, not at every start: the module holds the whole demo's data.
    from deliberation import demo

    demo.load(compound=compound, stdout=stdout)
