"""Who may do what in a compound's deliberation: the app's permission predicates, in one place.

- staff: community staff / street admins whose scope covers the compound's community
  (core.scope on `compound.community.path`), superusers, and the compound's branch secretary
  (OrgNode(kind=branch, compound=…).secretary is the user's Resident);
- residents: users with a Resident in a household of one of the compound's buildings.
The roles themselves are core.scope's (its scope paths by `User.Role`); selectors scope their
reads by these compound sets, services refuse through `require_*`, and the staff pages' gate
(core's `StaffRequiredMixin`, through views.StaffMixin) asks `user_is_deliberation_staff_anywhere`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import PermissionDeniedError
from core.masking import mask_name
from core.scope import EVERYTHING, scope_path, scope_q
from deliberation.models import REFERRAL_PROPOSER, ActionItem, Topic
from governance.models import OrgNode
from residents.models import Resident
from territory.models import Compound

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser



def staff_compounds(user: User | AnonymousUser | None) -> QuerySet[Compound]:
    """Compounds this user may run deliberation for (staff in scope or branch secretary)."""
    if user is None or not user.is_authenticated:
        return Compound.objects.none()
    if scope_path(user) == EVERYTHING:
        # Q() | Q(x) collapses to Q(x) in Django, so "everything" must not be OR-ed.
        return Compound.objects.all()
    secretary = Q(
        pk__in=OrgNode.objects.filter(kind=OrgNode.Kind.COMPOUND_BRANCH,
                                      secretary__user=user).values("compound_id")
    )
    return Compound.objects.filter(scope_q(user, "community__path") | secretary)


def resident_compounds(user: User | AnonymousUser | None) -> QuerySet[Compound]:
    if user is None or not user.is_authenticated:
        return Compound.objects.none()
    return Compound.objects.filter(
        pk__in=Resident.objects.filter(user=user).values("household__building__compound_id")
    )


def visible_compounds(user: User | AnonymousUser | None) -> QuerySet[Compound]:
    return (staff_compounds(user) | resident_compounds(user)).distinct()


def user_is_deliberation_staff(user: User | AnonymousUser | None, compound_id: int) -> bool:
    return staff_compounds(user).filter(pk=compound_id).exists()


def user_is_compound_resident(user: User | AnonymousUser | None, compound_id: int) -> bool:
    return resident_compounds(user).filter(pk=compound_id).exists()


def user_is_deliberation_staff_anywhere(user: User | AnonymousUser | None) -> bool:
    return staff_compounds(user).exists()


def require_staff(actor: User | AnonymousUser | None, compound_id: int) -> None:
    if not user_is_deliberation_staff(actor, compound_id):
        raise PermissionDeniedError(_("只有社区工作人员或小区党支部书记可以办理。"))


def require_resident(actor: User | AnonymousUser | None, compound_id: int) -> None:
    if not user_is_compound_resident(actor, compound_id):
        raise PermissionDeniedError(_("只有本小区居民可以参与。"))


def require_attendee(actor: User | AnonymousUser | None, compound_id: int) -> None:
    """Who may sign in at a session: the compound's residents and its staff."""
    if not (user_is_compound_resident(actor, compound_id)
            or user_is_deliberation_staff(actor, compound_id)):
        raise PermissionDeniedError(_("只有本小区居民和工作人员可以签到。"))


def require_progress_reporter(actor: User, item: ActionItem) -> None:
    """Who may report an action item's progress: its owner, or the compound's staff."""
    if item.owner_user_id != actor.pk:
        require_staff(actor, item.topic.compound_id)


def proposer_label(topic: Topic, viewer: User | AnonymousUser | None, *,
                   staff_of: dict[int, bool] | None = None) -> str:
    """The proposer as VIEWER may read them: in full for the compound's staff and for the
    proposer, masked (王**) for the other residents, as a comment's author is; a referral's
    generic 居民 as it is. STAFF_OF remembers, for a list, whether the viewer is each
    compound's staff (one check a compound, not one a topic)."""
    name = topic.proposer_name
    if not name or name == REFERRAL_PROPOSER:
        return name
    if not isinstance(viewer, User):
        return mask_name(name)
    if viewer.pk == topic.proposer_id:
        return name
    known = {} if staff_of is None else staff_of
    if topic.compound_id not in known:
        known[topic.compound_id] = user_is_deliberation_staff(viewer, topic.compound_id)
    return name if known[topic.compound_id] else mask_name(name)
