"""Reads of households, residents and party members, narrowed to what the viewer may see.

Two questions, two answers:
- which rows may a user list? Staff: their scope (core.scope). External systems (the 12345
  hotline …): the whole street their account belongs to, so a complaint can be matched to a
  household. Residents: only their own household (households API).
- whose phone and ID number may they read unmasked? Only rows inside the user's own scope area
  (`personal_data_path`). For ordinary staff that is the same subtree as the rows they list; a
  street-level external system (or a superuser) given a narrow scope area sees the rest masked.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q, QuerySet
from django.http import Http404

from accounts.models import User
from core.masking import mask_id_number, mask_name, mask_phone
from core.scope import EVERYTHING, scope_path
from governance.filters import filterset_apply
from governance.models import Area
from residents.filters import (
    HouseholdFilterSet,
    PartyMemberFilterSet,
    PublicPartyMemberFilterSet,
    ResidentFilterSet,
)
from residents.models import Household, PartyMember, Resident

PERSONAL_DATA_CACHE = "_personal_data_path"


def _is_external_system(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active
                and user.role == User.Role.EXTERNAL_SYSTEM)


def personal_data_path(user: Any) -> str | None:
    """The path prefix under which this user reads phones and ID numbers unmasked.

    "" means everywhere, None nowhere. Cached on the user object for the request.
    """
    if user is None or not user.is_authenticated:
        return None
    if hasattr(user, PERSONAL_DATA_CACHE):
        return getattr(user, PERSONAL_DATA_CACHE)
    prefix: str | None
    may_read = user.is_active and (user.is_superuser or user.is_staff_role
                                   or _is_external_system(user))
    if not may_read:
        prefix = None
    elif user.scope_area_id is not None:
        prefix = user.scope_area.path
    else:
        prefix = scope_path(user)
    setattr(user, PERSONAL_DATA_CACHE, prefix)
    return prefix


def personal_data_visible(user: Any, path: str | None) -> bool:
    prefix = personal_data_path(user)
    return prefix is not None and path is not None and path.startswith(prefix)


def visibility_path(user: Any) -> str | None:
    """The path prefix of the rows a staff user or an external system may list."""
    prefix = scope_path(user)
    if prefix is not None:
        return prefix
    if _is_external_system(user):
        if user.scope_area_id is None:
            return EVERYTHING
        return user.scope_area.path[: Area.steplen]
    return None


def visibility_q(user: Any, path_field: str) -> Q:
    prefix = visibility_path(user)
    if prefix is None:
        return Q(pk__in=[])
    if prefix == EVERYTHING:
        return Q()
    return Q(**{f"{path_field}__startswith": prefix})


def may_list_people(user: Any) -> bool:
    return visibility_path(user) is not None


# --- households ------------------------------------------------------------------------------


def household_list(*, user: Any, filters: dict[str, Any] | None = None) -> QuerySet[Household]:
    """Households the user may see: their scope for staff, their own household for residents."""
    queryset = Household.objects.select_related("building__compound", "unit").annotate(
        area_path=F(Household.SCOPE_PATH))
    if may_list_people(user):
        queryset = queryset.filter(visibility_q(user, Household.SCOPE_PATH))
    elif user is not None and user.is_authenticated:
        queryset = queryset.filter(residents__user=user).distinct()
    else:
        return queryset.none()
    return filterset_apply(HouseholdFilterSet, filters, queryset)


def household_get_for_user(*, user: Any, household_id: int) -> Household:
    household = household_list(user=user).filter(pk=household_id).first()
    if household is None:
        raise Http404
    return household


# --- residents -------------------------------------------------------------------------------


def resident_list(*, user: Any, filters: dict[str, Any] | None = None) -> QuerySet[Resident]:
    if not may_list_people(user):
        return Resident.objects.none()
    queryset = (
        Resident.objects.select_related("household__building__compound", "household__unit")
        .annotate(area_path=F(Resident.SCOPE_PATH))
        .filter(visibility_q(user, Resident.SCOPE_PATH))
    )
    return filterset_apply(ResidentFilterSet, filters, queryset, viewer=user)


def resident_get_for_user(*, user: Any, resident_id: int) -> Resident:
    resident = resident_list(user=user).filter(pk=resident_id).first()
    if resident is None:
        raise Http404
    return resident


def resident_contact(resident: Resident, *, viewer: Any) -> dict[str, str]:
    """Phone and ID number masked, except on the viewer's own record. Staff whose scope covers
    the resident ask for one whole value at a time (the reveal API), and each reveal is audited."""
    if viewer is not None and viewer.is_authenticated and resident.user_id == viewer.pk:
        return {"phone": resident.phone, "id_number": resident.id_number}
    return {"phone": mask_phone(resident.phone), "id_number": mask_id_number(resident.id_number)}


def resident_contact_revealable(resident: Resident, *, viewer: Any) -> bool:
    """May this viewer reveal the resident's whole phone and ID number (own scope area only)?"""
    path = getattr(resident, "area_path", None)
    if path is None:
        path = resident.household.building.micro_grid.path
    return personal_data_visible(viewer, path)


# --- party members ---------------------------------------------------------------------------

PARTY_MEMBER_PATH = f"resident__{Resident.SCOPE_PATH}"


def party_member_list(*, user: Any,
                      filters: dict[str, Any] | None = None) -> QuerySet[PartyMember]:
    if not may_list_people(user):
        return PartyMember.objects.none()
    queryset = (
        PartyMember.objects.select_related("resident__household__building__compound",
                                           "resident__household__unit", "org_node")
        .annotate(area_path=F(PARTY_MEMBER_PATH))
        .filter(visibility_q(user, PARTY_MEMBER_PATH))
    )
    return filterset_apply(PartyMemberFilterSet, filters, queryset)


def party_member_get_for_user(*, user: Any, party_member_id: int) -> PartyMember:
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


def party_member_public_name(member: PartyMember, *, viewer: Any) -> str:
    """Full name for staff whose scope covers the member, 张* for everybody else."""
    path = getattr(member, "area_path", None)
    if personal_data_visible(viewer, path) and (viewer.is_staff_role or viewer.is_superuser):
        return member.resident.name
    return mask_name(member.resident.name)
