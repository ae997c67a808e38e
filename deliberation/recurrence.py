"""deliberation's side of 未诉先办 (core/recurrence.py): registered as the `RecurrenceTarget` in
DeliberationConfig.ready(), so petitions' accept service opens a topic or adds a need here
without importing this app.

The topic has no `petition_id`: that field means "this petition was referred and closes with
the topic" (services.topics._close_petition), while the recurring petitions go on under their
own clocks. petitions keeps the link (RecurrenceSuggestion.topic_id and its petitions). The
need carries the latest petition's id, as a need from one petition does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from deliberation.models import REFERRAL_PROPOSER, Need, Topic
from deliberation.rules import require_staff
from deliberation.services.lists import need_create
from deliberation.services.topics import _topic_create
from territory.models import Compound

if TYPE_CHECKING:
    from accounts.models import User


def topic_open(*, compound_id: int, actor: User, title: str, description: str) -> int:
    """提 on the residents' behalf: the proposer is 居民 (who petitioned), staff recorded it."""
    require_staff(actor, compound_id)
    with transaction.atomic():
        topic = _topic_create(compound_id=compound_id, title=title[:200],
                              description=description, scale=Topic.Scale.BIG,
                              channel=Topic.Channel.PETITION, proposer_name=REFERRAL_PROPOSER,
                              recorded_by=actor)
    return topic.pk


def need_add(*, compound_id: int, actor: User, title: str, detail: str, petition_id: int) -> int:
    compound = Compound.objects.get(pk=compound_id)
    need = need_create(compound=compound, actor=actor, title=title[:200], detail=detail,
                       source=Need.Source.PETITION, petition_id=petition_id)
    return need.pk
