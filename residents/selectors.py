"""Reads of households, residents and party members, narrowed to what the viewer may see.

Two questions, two answers:
- which rows may a user list? Staff: their scope (core.scope). Residents: only their own
  household (households API). External systems (the 12345 hotline …), by their key's scope
  area: households there, or the whole street's for an unscoped key (an address holds no
  person, and a complaint must be placed); residents only there, in the integration field set
  (residents.api.serializers), and none for an unscoped key, which would otherwise read the
  whole street's register; the party-member register never (the public board is open to all).
- whose phone and ID number may they read unmasked? Only rows inside the user's own scope area
  (`personal_data_path`). For ordinary staff that is the same subtree as the rows they list; a
  superuser given a narrow scope area sees the rest masked.
"""

from __future__ import annotations

from typing import Any, TypeGuard

from django.contrib.auth.models import AnonymousUser
from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from accounts.models import User
from core.filters import filterset_apply
from core.masking import mask_id_number, mask_name, mask_phone
from core.protected_lookups import ProtectedLookupRefused
from core.scope import EVERYTHING, scope_path
from residents.filters import (
    HouseholdFilterSet,
    PartyMemberFilterSet,
    PublicPartyMemberFilterSet,
    ResidentFilterSet,
)
from residents.models import Household, PartyMember, Resident

PERSONAL_DATA_CACHE = "_personal_data_path"

# Who asks: a request's user, or nobody (a serializer without a request).
Viewer = User | AnonymousUser | None


def is_external_system(user: Viewer) -> TypeGuard[User]:
    return bool(user is not None and user.is_authenticated and user.is_active
                and user.role == User.Role.EXTERNAL_SYSTEM)


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
    may_read = user.is_active and (user.is_superuser or user.is_staff_role
                                   or is_external_system(user))
    if not may_read:
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


def _path_q(prefix: str | None, path_field: str) -> Q:
    if prefix is None:
        return Q(pk__in=[])
    if prefix == EVERYTHING:
        return Q()
    return Q(**{f"{path_field}__startswith": prefix})


def visibility_q(user: Viewer, path_field: str) -> Q:
    return _path_q(visibility_path(user), path_field)


def may_list_residents(user: Viewer) -> bool:
    return register_path(user) is not None


def may_list_party_members(user: Viewer) -> bool:
    return scope_path(user) is not None


# --- households ------------------------------------------------------------------------------


def household_list(*, user: Viewer, filters: dict[str, Any] | None = None) -> QuerySet[Household]:
    """Households the user may see: their scope for staff, their own household for residents."""
    queryset = Household.objects.select_related("building__compound", "unit").annotate(
        area_path=F(Household.SCOPE_PATH))
    if visibility_path(user) is not None:
        queryset = queryset.filter(visibility_q(user, Household.SCOPE_PATH))
    elif user is not None and user.is_authenticated:
        queryset = queryset.filter(residents__user=user).distinct()
    else:
        return queryset.none()
    return filterset_apply(HouseholdFilterSet, filters, queryset)


def household_get_for_user(*, user: Viewer, household_id: int) -> Household:
    household = household_list(user=user).filter(pk=household_id).first()
    if household is None:
        raise Http404
    return household


# --- residents -------------------------------------------------------------------------------


def resident_list(*, user: Viewer, filters: dict[str, Any] | None = None) -> QuerySet[Resident]:
    if not may_list_residents(user):
        return Resident.objects.none()
    if is_external_system(user) and (filters or {}).get("id_number"):
        # Not in the integration field set: read, revealed or looked up by staff only.
        raise ProtectedLookupRefused(_("外部系统不能按身份证号查找居民。"))
    queryset = (
        Resident.objects.select_related("household__building__compound", "household__unit")
        .annotate(area_path=F(Resident.SCOPE_PATH))
        .filter(_path_q(register_path(user), Resident.SCOPE_PATH))
    )
    return filterset_apply(ResidentFilterSet, filters, queryset, viewer=user)


def resident_get_for_user(*, user: Viewer, resident_id: int) -> Resident:
    resident = resident_list(user=user).filter(pk=resident_id).first()
    if resident is None:
        raise Http404
    return resident


def resident_contact(resident: Resident, *, viewer: Viewer) -> dict[str, str]:
    """Phone and ID number masked, except on the viewer's own record. Staff whose scope covers
    the resident ask for one whole value at a time (the reveal API), and each reveal is audited."""
    if viewer is not None and viewer.is_authenticated and resident.user_id == viewer.pk:
        return {"phone": resident.phone, "id_number": resident.id_number}
    return {"phone": mask_phone(resident.phone), "id_number": mask_id_number(resident.id_number)}


def resident_contact_revealable(resident: Resident, *, viewer: Viewer, field: str) -> bool:
    """May this viewer reveal the resident's whole phone or ID number (own scope area only;
    an external system the phone only: the ID number is not in its field set)?"""
    if field == "id_number" and is_external_system(viewer):
        return False
    path = getattr(resident, "area_path", None)
    if path is None:
        path = resident.household.building.micro_grid.path
    return personal_data_visible(viewer, path)


# --- party members ---------------------------------------------------------------------------

PARTY_MEMBER_PATH = f"resident__{Resident.SCOPE_PATH}"


def party_member_list(*, user: Viewer,
                      filters: dict[str, Any] | None = None) -> QuerySet[PartyMember]:
    if not may_list_party_members(user):
        return PartyMember.objects.none()
    queryset = (
        PartyMember.objects.select_related("resident__household__building__compound",
                                           "resident__household__unit", "org_node")
        .annotate(area_path=F(PARTY_MEMBER_PATH))
        .filter(_path_q(scope_path(user), PARTY_MEMBER_PATH))
    )
    return filterset_apply(PartyMemberFilterSet, filters, queryset)


def party_member_get_for_user(*, user: Viewer, party_member_id: int) -> PartyMember:
    member = party_member_list(user=user).filter(pk=party_member_id).first()
    if member is None:
        raise Http404
    return member


def party_member_public_list(*, filters: dict[str, Any] | None = None) -> QuerySet[PartyMember]:
    """The 亮身份 board: members who agreed to be shown publicly, anyone may read it."""
    queryset = (
        PartyMember.objects.filter(is_public=True)
        .select_related("resident", "org_node")
        .annotate(area_path=F(PARTY_MEMBER_PATH))
    )
    return filterset_apply(PublicPartyMemberFilterSet, filters, queryset)


def resident_name_for(resident: Resident, *, viewer: Viewer) -> str:
    """The whole name for staff; masked (张*) for an external system, which needs only to tell
    the residents of a household apart."""
    return mask_name(resident.name) if is_external_system(viewer) else resident.name


def party_member_public_name(member: PartyMember, *, viewer: Viewer) -> str:
    """Full name for staff whose scope covers the member, 张* for everybody else."""
    path = getattr(member, "area_path", None)
    if personal_data_visible(viewer, path) and (viewer.is_staff_role or viewer.is_superuser):
        return member.resident.name
    return mask_name(member.resident.name)
