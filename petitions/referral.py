"""petitions' side of a referral to the deliberation day (core/referral.py): registered as the
`PetitionSource` in PetitionsConfig.ready(), so deliberation reads a petition and moves it
without importing this app.

A topic is read by every resident of the compound. `read` loads the petition through
`selectors.petition_get_for_user` (404 for outsiders) and takes what a topic may say: its
compound and, for a petition the resident agreed to publish under their name, the text as the
public page shows it. A non-public or anonymous petition gives no text: staff write the
topic's, and `Referral.quotes` tells when that text copies the petition's words or the
petitioner's name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from core.exceptions import ApplicationError, PermissionDeniedError
from core.referral import Referral, ReferredPetition
from petitions import services
from petitions.models import Petition
from petitions.rules import is_handler_staff
from petitions.selectors import petition_get_for_user, petition_public_text

if TYPE_CHECKING:
    from accounts.models import User


def read(*, petition_id: int, actor: User) -> Referral:
    """What a topic may take from the petition, read through the scoped getter (404)."""
    petition = petition_get_for_user(user=actor, petition_id=petition_id)
    # Refuse before the topic is written (`refer` checks the same rule again, inside the
    # caller's transaction): the owner may read their petition, not refer it.
    if not is_handler_staff(actor, petition):
        raise PermissionDeniedError(_("您无权进行此操作。"))
    return referral_of(petition)


def referral_by_id(*, petition_id: int) -> Referral | None:
    """The rule for a petition read with no user (the redact command); None when it is gone
    or was never placed in a compound."""
    petition = (Petition.objects.select_related("building", "household__building")
                .filter(pk=petition_id).first())
    if petition is None:
        return None
    try:
        return referral_of(petition)
    except ApplicationError:
        return None


def referral_of(petition: Petition) -> Referral:
    """The rule itself, for a petition already loaded."""
    building = petition.building or (petition.household.building if petition.household else None)
    if building is None:
        raise ApplicationError(_("该诉求没有落到具体小区，不能转为议题。"))
    withheld = (petition.contact_name, petition.contact_phone)
    if petition.is_anonymous or not petition.is_public:
        return Referral(compound_id=building.compound_id, is_private=True, title="",
                        description="", withheld=(petition.description, *withheld))
    # The resident agreed to publish the text "with personal data removed": what the 公示 page
    # shows (digit runs such as phones and rooms starred), never their name.
    description = petition_public_text(petition.description)
    return Referral(compound_id=building.compound_id, is_private=False,
                    title=_("诉求转议：%s") % description[:40], description=description,
                    withheld=withheld)


def refer(*, petition_id: int, actor: User, topic_id: int, note: str) -> None:
    """Move the petition to "referred" (who may refer it is decided here) and link the topic."""
    services.petition_refer_to_deliberation(petition_id=petition_id, actor=actor, note=note,
                                            topic_id=topic_id)


def close(*, petition_id: int, outcome: str, actor: User | None) -> None:
    services.petition_close_from_deliberation(petition_id=petition_id, outcome=outcome,
                                              actor=actor)


def link_topic(*, petition_id: int, topic_id: int) -> None:
    services.petition_link_topic(petition_id=petition_id, topic_id=topic_id)


def referred(*, compound_id: int, limit: int) -> list[ReferredPetition]:
    """The compound's referred petitions, oldest first (the demo makes them topics)."""
    petitions = (Petition.objects.filter(state=Petition.State.REFERRED,
                                         building__compound_id=compound_id)
                 .select_related("building", "household__building", "category")
                 .order_by("id")[:limit])
    return [ReferredPetition(petition_id=petition.pk, category=petition.category.name,
                             referral=referral_of(petition))
            for petition in petitions]


def hotline_closed_ids(*, compound_id: int, limit: int) -> list[int]:
    """The compound's closed petitions from the 12345 hotline and 诉速办, oldest first."""
    return list(Petition.objects.filter(channel__in=["hotline_12345", "susuban"],
                                        state=Petition.State.CLOSED,
                                        building__compound_id=compound_id)
                .order_by("id").values_list("id", flat=True)[:limit])
