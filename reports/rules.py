"""Who may open and who may (re)generate a street's report.

A report holds counts and petition numbers, no names or phones; it speaks for the whole street,
so it opens to those who answer for the street's figures: its street admins and the community
staff of its communities. Grid and micro-grid workers see their own grid's figures on the
petitions stats page, not the street's report. Only a street admin (re)generates one.
"""

from __future__ import annotations

from django.db.models import Q

from accounts.models import User
from core.scope import scope_path
from core.types import AnyUser
from territory.models import Area

Role = User.Role
REPORT_ROLES = frozenset({Role.STREET_ADMIN, Role.COMMUNITY_STAFF})


def may_open_reports(user: AnyUser | None) -> bool:
    """May open the reports page at all (the page then lists only streets in scope)."""
    if not isinstance(user, User) or not user.is_active:
        return False
    return user.is_superuser or user.role in REPORT_ROLES


def may_view(user: AnyUser | None, street: Area) -> bool:
    """May read the reports of `street`: a report role whose scope meets the street's."""
    prefix = scope_path(user)
    if prefix is None or not may_open_reports(user):
        return False
    return street.path.startswith(prefix) or prefix.startswith(street.path)


def may_generate(user: AnyUser | None, street: Area) -> bool:
    """May (re)generate `street`'s reports: a street admin over the whole street."""
    prefix = scope_path(user)
    if prefix is None or not isinstance(user, User):
        return False
    return user.is_superuser or (user.role == Role.STREET_ADMIN
                                 and street.path.startswith(prefix))


def visible_q(user: AnyUser | None) -> Q:
    """Rows of MonthlyReport the user may read (may_view as a query; a street is a root area,
    so a scope inside it starts with the street's path)."""
    prefix = scope_path(user)
    if prefix is None or not may_open_reports(user):
        return Q(pk__in=[])
    return Q(scope__path=prefix[:Area.steplen]) if prefix else Q()


def may_open_map(user: AnyUser | None) -> bool:
    """May open the one map: any staff role (or a superuser). It shows counts per building,
    no person, and each user only the buildings of their own scope (selectors.petition_map)."""
    if not isinstance(user, User) or not user.is_active:
        return False
    return user.is_superuser or user.is_staff_role
