"""Who may do what in volunteering: one place for the permission predicates.

- staff whose scope covers a compound's community manage its activities, hours, wishes, proxy
  services and rosters (`is_staff_for_compound`);
- care files are read in scope by community staff and the street above them, never by grid
  workers (`reads_care_files_in_scope`); otherwise only by the elder's caretaker (the selector);
- staff whose scope reaches an elder's home open their care file (`covers_resident`);
- a party member of the compound claims its published wishes (`is_member_in_compound`);
- a volunteer acts on their own shifts and sign-ups, a resident on their own wishes and proxy
  services, the claimer on the wish they claimed, the assignee on the service given to them;
- hours are certified by someone else: never by the volunteer themself (`is_own_volunteer`).

Which rows a user may see stays in core.scope and the selectors; these say what a user may do.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from core.scope import path_in_scope
from residents.models import PartyMember, Resident
from territory.models import Compound
from volunteers.models import (
    ActivitySignup,
    MicroWish,
    ProxyService,
    Shift,
    ShiftSwap,
    Volunteer,
)

# Care files are read by community staff (and the street above them), never by grid workers.
CARE_STAFF_ROLES = frozenset({User.Role.COMMUNITY_STAFF, User.Role.STREET_ADMIN})



def is_staff_for_compound(user: User | AnonymousUser, compound: Compound) -> bool:
    return path_in_scope(user, compound.community.path)


def covers_resident(user: User | AnonymousUser, resident: Resident) -> bool:
    """Staff whose scope reaches the resident's home (a care file is opened for them)."""
    return path_in_scope(user, resident.household.building.micro_grid.path)


def is_staff_user(user: User | AnonymousUser) -> bool:
    """Staff of any role, or a superuser."""
    return user.is_superuser or (user.is_authenticated and user.is_staff_role)


def reads_care_files_in_scope(user: User | AnonymousUser) -> bool:
    return user.is_superuser or (user.is_authenticated and user.role in CARE_STAFF_ROLES)


def is_shift_holder(user: User | AnonymousUser, shift: Shift) -> bool:
    return shift.volunteer.user_id == user.pk


def is_swap_target(user: User | AnonymousUser, swap: ShiftSwap) -> bool:
    return swap.to_volunteer.user_id == user.pk


def is_signup_owner(user: User | AnonymousUser, signup: ActivitySignup) -> bool:
    return signup.volunteer.user_id == user.pk


def is_wish_owner(user: User | AnonymousUser, wish: MicroWish) -> bool:
    return wish.resident.user_id == user.pk


def is_wish_claimer(user: User | AnonymousUser, wish: MicroWish) -> bool:
    return wish.claimed_by is not None and wish.claimed_by.resident.user_id == user.pk


def is_member_in_compound(member: PartyMember, compound_id: int) -> bool:
    """A party member of the compound (by home): who may claim its micro-wishes."""
    return member.resident.household.building.compound_id == compound_id


def is_claiming_member(member: PartyMember, wish: MicroWish) -> bool:
    return wish.claimed_by_id == member.pk


def is_service_owner(user: User | AnonymousUser, service: ProxyService) -> bool:
    return service.resident.user_id == user.pk


def is_service_assignee(user: User | AnonymousUser, service: ProxyService) -> bool:
    return service.assignee is not None and service.assignee.user_id == user.pk


def is_own_volunteer(user: User, volunteer: Volunteer) -> bool:
    """The volunteer is this user, by their account or through their resident record."""
    return volunteer.user_id == user.pk or (volunteer.resident_id is not None and (
        Resident.objects.filter(pk=volunteer.resident_id, user_id=user.pk).exists()))
