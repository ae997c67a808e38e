"""Who may open and who may (re)generate a street's report.

A report holds counts and petition numbers, no names or phones; it speaks for the whole street,
so it opens to those who answer for the street's figures: its street admins and the community
staff of its communities. Grid and micro-grid workers see their own grid's figures on the
petitions stats page, not the street's report. Only a street admin (re)generates one.

The stats API (/api/v1/stats/) gives the same figures for any area to the same roles, each
within their own scope, and to an external system within its key's scope area.
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


def screen_areas_q(user: AnyUser | None) -> Q:
    """The areas whose big screen (大屏) the user may open: the streets and communities inside
    their scope, or their scope area itself — a street admin the street and each of its
    communities, community staff their own community only (never the street's whole figures,
    unlike the report, which speaks for the street)."""
    prefix = scope_path(user)
    if prefix is None or not may_open_reports(user):
        return Q(pk__in=[])
    return (Q(kind__in=(Area.Kind.STREET, Area.Kind.COMMUNITY), path__startswith=prefix)
            | Q(path=prefix))


def visible_q(user: AnyUser | None) -> Q:
    """Rows of MonthlyReport the user may read (may_view as a query; a street is a root area,
    so a scope inside it starts with the street's path)."""
    prefix = scope_path(user)
    if prefix is None or not may_open_reports(user):
        return Q(pk__in=[])
    return Q(scope__path=prefix[:Area.steplen]) if prefix else Q()


# --- 考核排名 (reports/rankings.py) -------------------------------------------------------------
# Every staff role opens the rankings page; what it shows depends on the role: a street admin
# the whole street, community staff their community's grids and workers, a grid or micro-grid
# worker their own grid's row and their own (each with the street's median beside it).


def may_open_rankings(user: AnyUser | None) -> bool:
    if not isinstance(user, User) or not user.is_active:
        return False
    return user.is_superuser or user.is_staff_role


def sees_whole_street(user: AnyUser | None) -> bool:
    return isinstance(user, User) and (user.is_superuser or user.role == Role.STREET_ADMIN)


def ranking_grid_prefix(user: AnyUser | None) -> str | None:
    """The grids whose rows the user sees, as a path prefix ("" = every one, None = none): the
    street admin's scope, community staff's community, a worker's own grid (a micro-grid
    worker's is the grid above their micro-grid)."""
    prefix = scope_path(user)
    if prefix is None or not may_open_rankings(user) or not isinstance(user, User):
        return None
    if sees_whole_street(user) or user.role == Role.COMMUNITY_STAFF:
        return prefix
    grid_length = Area.steplen * 3  # street → community → grid
    return prefix[:grid_length] if len(prefix) >= grid_length else None


def sees_worker_row(user: AnyUser | None, worker_id: int, worker_path: str) -> bool:
    """A worker's row: to street admins, to community staff for workers of their community,
    and to the worker themself."""
    if not isinstance(user, User):
        return False
    if user.pk == worker_id or sees_whole_street(user):
        return True
    prefix = scope_path(user)
    return (user.role == Role.COMMUNITY_STAFF and prefix is not None
            and worker_path.startswith(prefix))


def ranking_streets_q(user: AnyUser | None) -> Q:
    """The streets (Area rows) whose rankings the user may open: the street their scope lies
    in, or every street for a scope over everything."""
    prefix = scope_path(user)
    if prefix is None or not may_open_rankings(user):
        return Q(pk__in=[])
    return Q(path=prefix[:Area.steplen]) if prefix else Q()


def stats_scope_path(user: AnyUser | None) -> str | None:
    """The path prefix of the areas whose figures the user may read through the stats API
    ("" every area, None none): a report role's own scope (community staff read their
    community and its grids, not the street), or an external system's key's scope area. A key
    without a scope area reads nothing: a system is given the area it answers for, never the
    whole tree by omission."""
    if not isinstance(user, User) or not user.is_active:
        return None
    if user.is_superuser:
        return ""
    if user.role == Role.EXTERNAL_SYSTEM:
        area = user.scope_area
        return None if area is None else area.path
    return scope_path(user) if user.role in REPORT_ROLES else None



def may_open_map(user: AnyUser | None) -> bool:
    """May open the one map: any staff role (or a superuser). It shows counts per building,
    no person, and each user only the buildings of their own scope (selectors.petition_map)."""
    if not isinstance(user, User) or not user.is_active:
        return False
    return user.is_superuser or user.is_staff_role
