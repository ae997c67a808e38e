"""Where a staff member may place a node of a tree: the territory's (and governance's party
organisation, whose admin is territory's tree admin) scope predicate.

Which rows a user may pick is the admin's choice scope (core.admin_scope), registered per model
in each app's admin.py; a node goes only under a parent among them.
"""

from __future__ import annotations

from django.db.models import Model

from core.admin_scope import choice_scope_q
from core.types import AnyUser


def parent_in_scope(model: type[Model], parent: Model | None,
                    user: AnyUser) -> bool:
    """A tree node may be placed only under a node in the user's scope (a root: street-wide)."""
    condition = choice_scope_q(model, user)
    if not condition:
        return True
    # _default_manager: the tree's `objects` (a type[Model] names no manager for mypy).
    return (parent is not None
            and model._default_manager.filter(condition, pk=parent.pk).exists())
