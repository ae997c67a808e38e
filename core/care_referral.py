"""A need found on an elder's care visit (volunteers) opened as a petition (petitions).

The two apps never import each other. petitions registers a `PetitionOpener` from its
AppConfig.ready(); volunteers calls it inside its own transaction and keeps the petition's id
on the visit, and petitions keeps the visit's id on the petition (and notes it on the timeline):
linked both ways, one action. The petition's staff page links back to the visit through the
`CareVisitLinks` volunteers registers: only for a user who may open the elder's care file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from accounts.models import User


@dataclass(frozen=True)
class NeedCategory:
    id: int
    name: str


class PetitionOpener(Protocol):
    def categories(self) -> list[NeedCategory]:
        """The active categories a need may be filed under."""
        ...

    def open_for_care_visit(self, *, actor: User, household_id: int, category_id: int,
                            description: str, contact_name: str, care_visit_id: int) -> int:
        """Record a petition for the elder's household as a walk-in (代录) by `actor`, noting
        the care visit on its timeline; return its id. Runs inside the caller's transaction:
        PermissionDeniedError / ApplicationError roll the visit's side back too."""
        ...


class CareVisitLinks(Protocol):
    def care_visit_url(self, *, user: User, care_visit_id: int) -> str | None:
        """The page showing the visit, if `user` may read its care file; else None."""
        ...


class _Slots:
    opener: PetitionOpener | None = None
    links: CareVisitLinks | None = None


def petition_opener_register(opener: PetitionOpener) -> None:
    _Slots.opener = opener


def petition_opener() -> PetitionOpener:
    if _Slots.opener is None:
        raise RuntimeError("No petition opener registered (petitions' AppConfig.ready()).")
    return _Slots.opener


def care_visit_links_register(links: CareVisitLinks) -> None:
    _Slots.links = links


def care_visit_url(*, user: User, care_visit_id: int) -> str | None:
    """Where `user` reads the care visit `care_visit_id`, or None (not theirs, or no volunteers
    app installed)."""
    if _Slots.links is None:
        return None
    return _Slots.links.care_visit_url(user=user, care_visit_id=care_visit_id)
