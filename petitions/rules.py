"""Who may see and who may do what with a petition: one place for the permission matrix.

- resident (owner): sees their own; adds notes, rates, asks to reopen.
- holder: checks in, adds notes, resolves, returns to the dispatcher, escalates by hand.
- handler staff (grid worker, community staff, street admin) whose scope covers the petition:
  everything the holder may, plus verify (not their own resolution), close (once rated, or the
  rating window passed) and refer to deliberation.
- dispatcher (community staff, street admin): dispatch, triage, reroute, reject.
- external system: sees and rates what it submitted (or its scope_area, when one is set).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Q

from core.scope import EVERYTHING, scope_path
from petitions.policy import rating_window_passed

if TYPE_CHECKING:
    from petitions.models import Petition

HANDLER_ROLES = frozenset({"grid_worker", "community_staff", "street_admin"})
DISPATCHER_ROLES = frozenset({"community_staff", "street_admin"})
EXTERNAL_ROLE = "external_system"


def visibility_prefix(user: Any) -> str | None:
    """The area-path prefix a user sees by scope ("" = all, None = none by scope)."""
    if (user is not None and user.is_authenticated and user.is_active
            and user.role == EXTERNAL_ROLE and user.scope_area_id is not None):
        return str(user.scope_area.path)
    return scope_path(user)


def visibility_q(user: Any) -> Q:
    """Rows of Petition this user may see."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    prefix = visibility_prefix(user)
    if prefix == EVERYTHING:
        return Q()
    condition = Q(submitter_id=user.pk) | Q(holder_id=user.pk)
    if user.role == EXTERNAL_ROLE:
        condition |= Q(external_system_id=user.pk)
    if prefix is not None:
        condition |= Q(area_path__startswith=prefix) | Q(origin_path__startswith=prefix)
    return condition


def covers(user: Any, petition: Petition) -> bool:
    if not user.is_staff_role and not user.is_superuser:
        return False
    prefix = visibility_prefix(user)
    if prefix is None:
        return False
    return petition.area_path.startswith(prefix) or petition.origin_path.startswith(prefix)


def can_view(user: Any, petition: Petition) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.pk in (petition.submitter_id, petition.holder_id, petition.external_system_id):
        return True
    prefix = visibility_prefix(user)
    if prefix is None:
        return False
    return petition.area_path.startswith(prefix) or petition.origin_path.startswith(prefix)


def is_owner(user: Any, petition: Petition) -> bool:
    return user.pk is not None and user.pk in (petition.submitter_id,
                                               petition.external_system_id)


def is_holder(user: Any, petition: Petition) -> bool:
    return petition.holder_id is not None and petition.holder_id == user.pk


def is_handler_staff(user: Any, petition: Petition) -> bool:
    return (user.is_superuser or user.role in HANDLER_ROLES) and covers(user, petition)


def is_dispatcher(user: Any, petition: Petition) -> bool:
    return (user.is_superuser or user.role in DISPATCHER_ROLES) and covers(user, petition)


def is_resolver(user: Any, petition: Petition) -> bool:
    """Who resolved the current round: they may not verify it."""
    return petition.resolved_by_id is not None and petition.resolved_by_id == user.pk


def can_handle(user: Any, petition: Petition) -> bool:
    return is_holder(user, petition) or is_handler_staff(user, petition)


def has_own_rater(petition: Petition) -> bool:
    """Someone rates the result online: the submitting resident, or the external system."""
    return petition.submitter_id is not None or petition.external_system_id is not None


def may_record_callback(user: Any, petition: Petition, now: datetime) -> bool:
    """A staff callback (回访) records the rating of someone who does not rate online: handler
    staff in scope other than the resolver (as for verification), and for a petition with its
    own rater only once that rater's window has passed unused."""
    return (is_handler_staff(user, petition) and not is_resolver(user, petition)
            and (not has_own_rater(petition) or rating_window_passed(petition, now)))
