"""Who may read what of the register: one place for the residents' permission predicates.

- phones and ID numbers are read whole only inside the user's own scope area
  (`personal_data_path`): staff of any role and superusers, and external systems by their key's
  scope area; an external system never reveals an ID number (not in its field set);
- a resident reads their own record whole (`is_own_record`);
- households are listed in the staff scope, or by an external system in its key's scope area
  (street-wide for an unscoped key: an address holds no person) (`visibility_path`); residents
  only in the staff scope or a scoped key's area (`register_path`); party members only in the
  staff scope;
- a party member's whole name on the public board is for staff whose scope covers them.

The selectors do the reads, narrowed by these; core.reveal_scope asks `personal_data_path`
(registered in ResidentsConfig.ready()).
"""

from __future__ import annotations

from typing import TypeAlias, TypeGuard

from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from accounts.rules import is_external_system as is_external_system_account
from core.scope import EVERYTHING, scope_path
from residents.models import PartyMember, Resident

# Who asks: a request's user, or nobody (a serializer without a request).
Viewer: TypeAlias = User | AnonymousUser | None

PERSONAL_DATA_CACHE = "_personal_data_path"


def is_external_system(user: Viewer) -> TypeGuard[User]:
    """An active API key's account."""
    return user is not None and user.is_active and is_external_system_account(user)


def is_staff(user: Viewer) -> TypeGuard[User]:
    """Signed in as staff of any role, or a superuser."""
    return isinstance(user, User) and (user.is_staff_role or user.is_superuser)


def may_read_personal_data(user: User) -> bool:
    """Anywhere at all (where: `personal_data_path`)."""
    return user.is_active and (user.is_superuser or user.is_staff_role
                               or is_external_system(user))


def personal_data_path(user: Viewer) -> str | None:
    """The path prefix under which this user reads phones and ID numbers unmasked.

    "" means everywhere, None nowhere. Cached on the user object for the request.
    """
    if user is None or not user.is_authenticated:
        return None
    if hasattr(user, PERSONAL_DATA_CACHE):
        cached: str | None = getattr(user, PERSONAL_DATA_CACHE)
        return cached
    prefix: str | None
    if not may_read_personal_data(user):
        prefix = None
    elif user.scope_area is not None:
        prefix = user.scope_area.path
    else:
        prefix = scope_path(user)
    setattr(user, PERSONAL_DATA_CACHE, prefix)
    return prefix


def personal_data_visible(user: Viewer, path: str | None) -> TypeGuard[User]:
    """Whether the user reads this row's phone and ID number unmasked (only a signed-in user
    ever does)."""
    prefix = personal_data_path(user)
    return prefix is not None and path is not None and path.startswith(prefix)


def is_own_record(viewer: Viewer, resident: Resident) -> bool:
    return viewer is not None and viewer.is_authenticated and resident.user_id == viewer.pk


def resident_contact_revealable(resident: Resident, *, viewer: Viewer, field: str) -> bool:
    """May this viewer reveal the resident's whole phone or ID number (own scope area only;
    an external system the phone only: the ID number is not in its field set)?"""
    if field == "id_number" and is_external_system(viewer):
        return False
    path = getattr(resident, "area_path", None)
    if path is None:
        path = resident.household.building.micro_grid.path
    return personal_data_visible(viewer, path)


def sees_member_name(viewer: Viewer, member: PartyMember) -> bool:
    """Staff whose scope covers the member read their whole name on the public board."""
    path = getattr(member, "area_path", None)
    return personal_data_visible(viewer, path) and is_staff(viewer)


# --- which rows may a user list ----------------------------------------------------------------


def visibility_path(user: Viewer) -> str | None:
    """The path prefix of the households a staff user or an external system may list."""
    prefix = scope_path(user)
    if prefix is not None:
        return prefix
    if is_external_system(user):
        return EVERYTHING if user.scope_area is None else user.scope_area.path
    return None


def register_path(user: Viewer) -> str | None:
    """The path prefix of the residents a staff user or an external system may list."""
    prefix = scope_path(user)
    if prefix is not None:
        return prefix
    if is_external_system(user) and user.scope_area is not None:
        return user.scope_area.path
    return None


def may_list_residents(user: Viewer) -> bool:
    return register_path(user) is not None


def may_list_party_members(user: Viewer) -> bool:
    return scope_path(user) is not None
