"""The only door between deliberation and petitions: its services (see petitions/CONTRACT.md).

- `read` loads the petition through `petitions.selectors.petition_get_for_user` (404 for
  outsiders) and takes what a topic may say: its compound and, for a petition the resident
  agreed to publish under their name, the text as the public page shows it. A non-public or
  anonymous petition gives no text: staff write the topic's, and `Referral.quotes` tells when
  that text copies the petition's words or the petitioner's name.
- `refer` calls `petitions.services.petition_refer_to_deliberation(petition_id=…, actor=…,
  note=…, topic_id=…)`, which checks that the actor may dispatch it and records the referral.
- `close` calls `petitions.services.petition_close_from_deliberation(petition_id=…, outcome=…,
  actor=…)` when the topic made from the petition is closed.
Both run inside the caller's transaction, so a refusal from petitions rolls the topic back too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from core.exceptions import ApplicationError, PermissionDeniedError

if TYPE_CHECKING:
    from accounts.models import User


# A run of this many characters of the petition's text found in the topic is a quotation; a
# shorter text (or a name) is a quotation when found whole. Shorter runs would refuse a neutral
# summary that happens to share a phrase ("电动车充电难") with the petition.
QUOTE_RUN = 12


def _compact(text: str) -> str:
    return "".join(text.split())


@dataclass(frozen=True)
class Referral:
    """What a topic made from a petition may carry. A private petition (not public, or
    anonymous) carries neither title nor text; `withheld` holds what must not reach the topic."""

    compound_id: int
    is_private: bool
    title: str
    description: str
    withheld: tuple[str, ...]

    def quotes(self, text: str) -> bool:
        """Whether `text` repeats the petition's words or the petitioner's name or phone."""
        text = _compact(text)
        for words in map(_compact, self.withheld):
            if len(words) < 2:
                continue
            run = min(QUOTE_RUN, len(words))
            if any(words[start:start + run] in text for start in range(len(words) - run + 1)):
                return True
        return False


def _service(name: str) -> Any:
    try:
        from petitions import services as petition_services
    except ImportError:
        petition_services = None
    function = getattr(petition_services, name, None)
    if function is None:
        raise ApplicationError(_("诉求模块暂不支持转议，请稍后再试。"))
    return function


def is_available() -> bool:
    try:
        _service("petition_refer_to_deliberation")
        _service("petition_close_from_deliberation")
    except ApplicationError:
        return False
    return True


def read(*, petition_id: int, actor: User) -> Referral:
    """What a topic may take from the petition, read through petitions' scoped getter (404)."""
    from petitions.rules import is_handler_staff
    from petitions.selectors import petition_get_for_user

    petition = petition_get_for_user(user=actor, petition_id=petition_id)
    # Refuse before the topic is written (petitions' refer checks the same rule again, inside
    # the caller's transaction): the owner may read their petition, not refer it.
    if not is_handler_staff(actor, petition):
        raise PermissionDeniedError(_("您无权进行此操作。"))
    return referral_of(petition=petition)


def referral_by_id(*, petition_id: int) -> Referral | None:
    """The rule for a petition read with no user (the redact command); None when it is gone
    or was never placed in a compound."""
    from petitions.models import Petition

    petition = (Petition.objects.select_related("building", "household__building")
                .filter(pk=petition_id).first())
    if petition is None:
        return None
    try:
        return referral_of(petition=petition)
    except ApplicationError:
        return None


def referral_of(*, petition: Any) -> Referral:
    """The rule itself, for a petition already loaded (`read`, the demo loader)."""
    from petitions.views import public_text

    building = petition.building or (petition.household.building if petition.household else None)
    if building is None:
        raise ApplicationError(_("该诉求没有落到具体小区，不能转为议题。"))
    withheld = (petition.contact_name, petition.contact_phone)
    if petition.is_anonymous or not petition.is_public:
        return Referral(compound_id=building.compound_id, is_private=True, title="",
                        description="", withheld=(petition.description, *withheld))
    # The resident agreed to publish the text "with personal data removed": what the 公示 page
    # shows (digit runs such as phones and rooms starred), never their name.
    description = public_text(petition.description)
    return Referral(compound_id=building.compound_id, is_private=False,
                    title=_("诉求转议：%s") % description[:40], description=description,
                    withheld=withheld)


def refer(*, petition_id: int, actor: User, topic_id: int, note: str = "") -> None:
    """Move the petition to "referred" (dispatchers only, petitions decides) and link the topic."""
    _service("petition_refer_to_deliberation")(petition_id=petition_id, actor=actor,
                                               note=note, topic_id=topic_id)


def close(*, petition_id: int, outcome: str, actor: User) -> None:
    _service("petition_close_from_deliberation")(petition_id=petition_id, outcome=outcome,
                                                 actor=actor)
