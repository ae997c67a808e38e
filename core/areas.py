"""The territory tree (street → community → grid → microgrid), as core's admin pieces and
protected lookups reach it from below.

The area model lives above core; its app hands core the model and its subtree filter in its
AppConfig.ready() (`area_tree_register`), so core's list filters and lookups need no import of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet

# (rows, path field, area id) → the rows whose path lies under that area (the area included).
WithinFilter = Callable[[QuerySet[Any], str, int | None], QuerySet[Any]]


@dataclass(frozen=True)
class AreaTree:
    """`model` is the area model (a materialised-path node with `kind`, `name` and `path`);
    `steplen` the characters of path per level, so a path of at most `steplen` characters is
    the root, the whole street."""

    model: type[Model]
    steplen: int
    within: WithinFilter


_TREES: dict[str, AreaTree] = {}


def area_tree_register(tree: AreaTree) -> None:
    """The one area tree; registering again replaces it."""
    _TREES["tree"] = tree


def area_tree() -> AreaTree:
    tree = _TREES.get("tree")
    if tree is None:
        # A missing tree is a wiring fault: fail loudly rather than filter nothing.
        raise ImproperlyConfigured("No area tree: the app of the area model registers it "
                                   "in ready().")
    return tree
