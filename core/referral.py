"""Referral: a petition sent to the monthly deliberation day becomes a topic there.

deliberation owns it: its service writes the topic and decides what the topic may say.
petitions owns only the petition's side (who may refer it, its move to "referred", its close).
The two apps never import each other; each fills one slot here from its AppConfig.ready():

- petitions registers a `PetitionSource`: what a topic may take from a petition (a `Referral`
  of plain values) and the petition's side of refer / close;
- deliberation registers the `Referrer`: the service petitions' refer pages and API call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

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


@dataclass(frozen=True)
class ReferredPetition:
    """A petition already referred (the demo turns these into topics)."""

    petition_id: int
    category: str
    referral: Referral


class PetitionSource(Protocol):
    """petitions' side. `refer` and `close` run inside the caller's transaction, so a refusal
    from petitions rolls the topic back too."""

    def read(self, *, petition_id: int, actor: User) -> Referral:
        """The petition as the actor may refer it (Http404 for outsiders, 403 for who may
        not refer it); ApplicationError when it lies in no compound."""
        ...

    def referral_by_id(self, *, petition_id: int) -> Referral | None:
        """Read with no user (the redact command); None when gone or in no compound."""
        ...

    def refer(self, *, petition_id: int, actor: User, topic_id: int, note: str) -> None: ...

    def close(self, *, petition_id: int, outcome: str, actor: User | None) -> None: ...

    def link_topic(self, *, petition_id: int, topic_id: int) -> None: ...

    def referred(self, *, compound_id: int, limit: int) -> list[ReferredPetition]: ...

    def hotline_closed_ids(self, *, compound_id: int, limit: int) -> list[int]: ...


class Referrer(Protocol):
    """deliberation's service: the topic and the petition's move in one transaction."""

    def __call__(self, *, petition_id: int, actor: User, title: str = "",
                 description: str = "", note: str = "") -> object: ...


class _Slots:
    source: PetitionSource | None = None
    referrer: Referrer | None = None


def petition_source_register(source: PetitionSource) -> None:
    _Slots.source = source


def referrer_register(referrer: Referrer) -> None:
    _Slots.referrer = referrer


def petition_source() -> PetitionSource:
    if _Slots.source is None:
        raise RuntimeError("No petition source registered (petitions' AppConfig.ready()).")
    return _Slots.source


def referrer() -> Referrer:
    if _Slots.referrer is None:
        raise RuntimeError("No referrer registered (deliberation's AppConfig.ready()).")
    return _Slots.referrer
