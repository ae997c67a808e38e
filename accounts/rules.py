"""Who an account is, for the gates: the accounts' permission predicates.

- residents sign in by phone and reach the resident pages (我的信息, the deletion request);
- staff, and a superuser made with createsuperuser (who keeps the default role), sign in with
  a password; external systems never sign in to the pages, they call the API with a key;
- only a superuser grants privileges (role, staff flags, groups, permissions) in the admin.

`User.is_staff_role` stays on the model: it is a property of the row, these are decisions.
"""

from __future__ import annotations

from typing import TypeGuard

from accounts.models import User
from core.types import AnyUser


def is_resident(user: AnyUser) -> TypeGuard[User]:
    return user.is_authenticated and user.role == User.Role.RESIDENT


def is_external_system(user: AnyUser) -> TypeGuard[User]:
    """An API key's account, whether or not it is active."""
    return user.is_authenticated and user.role == User.Role.EXTERNAL_SYSTEM


def signs_in_with_password(user: User) -> bool:
    return user.is_staff_role or user.is_staff or user.is_superuser


def may_grant_privileges(user: AnyUser) -> bool:
    return user.is_superuser
