"""Reads of households, residents and party members, narrowed to what the viewer may see.

Two questions, two answers (residents.rules' predicates; these functions do the reads):
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

from typing import Any

from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from core.filters import filterset_apply
from core.masking import mask_id_number, mask_name, mask_phone
from core.protected_lookups import ProtectedLookupRefused
from core.scope import EVERYTHING, scope_path
from residents import rules
from residents.filters import (
    HouseholdFilterSet,
    PartyMemberFilterSet,
    PublicPartyMemberFilterSet,
    ResidentFilterSet,
)
from residents.models import Household, PartyMember, Resident
from residents.rules import Viewer


def _path_q(prefix: str | None, path_field: str) -> Q:
    if prefix is None:
        return Q(pk__in=[])
    if prefix == EVERYTHING:
        return Q()
    return Q(**{f"{path_field}__startswith": prefix})


def visibility_q(user: Viewer, path_field: str) -> Q:
    return _path_q(rules.visibility_path(user), path_field)


# --- households ------------------------------------------------------------------------------


def household_list(*, user: Viewer, filters: dict[str, Any] | None = None) -> QuerySet[Household]:
    """Households the user may see: their scope for staff, their own household for residents."""
    queryset = Household.objects.select_related("building__compound", "unit").annotate(
        area_path=F(Household.SCOPE_PATH))
    if rules.visibility_path(user) is not None:
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
    if not rules.may_list_residents(user):
        return Resident.objects.none()
    if rules.is_external_system(user) and (filters or {}).get("id_number"):
        # Not in the integration field set: read, revealed or looked up by staff only.
        raise ProtectedLookupRefused(_("外部系统不能按身份证号查找居民。"))
    queryset = (
        Resident.objects.select_related("household__building__compound", "household__unit")
        .annotate(area_path=F(Resident.SCOPE_PATH))
        .filter(_path_q(rules.register_path(user), Resident.SCOPE_PATH))
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
    if rules.is_own_record(viewer, resident):
        return {"phone": resident.phone, "id_number": resident.id_number}
    return {"phone": mask_phone(resident.phone), "id_number": mask_id_number(resident.id_number)}


# --- party members ---------------------------------------------------------------------------

PARTY_MEMBER_PATH = f"resident__{Resident.SCOPE_PATH}"


def party_member_list(*, user: Viewer,
                      filters: dict[str, Any] | None = None) -> QuerySet[PartyMember]:
    if not rules.may_list_party_members(user):
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
    return mask_name(resident.name) if rules.is_external_system(viewer) else resident.name


def party_member_public_name(member: PartyMember, *, viewer: Viewer) -> str:
    """Full name for staff whose scope covers the member, 张* for everybody else."""
    if rules.sees_member_name(viewer, member):
        return member.resident.name
    return mask_name(member.resident.name)
