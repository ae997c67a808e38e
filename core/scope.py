"""What may this user see? One answer, from the user's scope in the territory tree.

Every area-bound row (a building, a household, a petition) reaches a node of the territory tree.
treebeard's materialised path makes "everything under my scope" one `path LIKE 'prefix%'` filter,
whatever the depth, so views, the API and the admin all filter with `scope_filter`.
"""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, Q, QuerySet

from core.types import AnyUser

M = TypeVar("M", bound=Model)

EVERYTHING = ""


def scope_path(user: AnyUser | None) -> str | None:
    """The path prefix this user may see: "" for everything, None for nothing."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return EVERYTHING
    if not user.is_staff_role:
        return None
    if user.scope_area_id is None:
        return EVERYTHING if user.role == user.Role.STREET_ADMIN else None
    area = user.scope_area  # set, since scope_area_id is: the foreign key is enforced
    return None if area is None else area.path


def scope_q(user: AnyUser | None, path_field: str) -> Q:
    """A Q selecting rows whose `path_field` (an area's `path`) lies in the user's scope."""
    prefix = scope_path(user)
    if prefix is None:
        return Q(pk__in=[])
    if prefix == EVERYTHING:
        return Q()
    return Q(**{f"{path_field}__startswith": prefix})


def scope_filter(queryset: QuerySet[M], user: AnyUser | None, path_field: str) -> QuerySet[M]:
    return queryset.filter(scope_q(user, path_field))


def path_in_scope(user: AnyUser | None, path: str | None) -> bool:
    prefix = scope_path(user)
    if prefix is None or path is None:
        return False
    return path.startswith(prefix)
