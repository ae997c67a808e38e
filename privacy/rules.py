"""Who may ask for and who may decide an account's deletion: the privacy permission predicates.

- a resident asks for their own account's deletion (staff accounts are closed by the street
  admin), and may cancel their own request;
- community staff and street admins whose scope covers the household decide it; the admin's
  list of requests is theirs (each sees the requests in their scope).

The resident pages and the API are gated by accounts.rules.is_resident.
"""

from __future__ import annotations

from accounts.models import User
from accounts.rules import is_resident
from core.scope import path_in_scope
from core.types import AnyUser
from privacy.models import DeletionRequest

DELETION_DECIDERS = frozenset({User.Role.COMMUNITY_STAFF, User.Role.STREET_ADMIN})


def may_request_deletion(user: User) -> bool:
    return is_resident(user)


def is_own_request(user: User, deletion_request: DeletionRequest) -> bool:
    return deletion_request.user_id == user.pk


def is_decider(user: AnyUser) -> bool:
    """Opens the admin's deletion requests (the admin's staff flag set)."""
    return bool(user.is_active and user.is_staff and getattr(user, "role", None)
                in DELETION_DECIDERS)


def may_decide(user: User, deletion_request: DeletionRequest) -> bool:
    return (user.role in DELETION_DECIDERS
            and path_in_scope(user, deletion_request.household_path))
