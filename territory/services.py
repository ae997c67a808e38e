"""Writes for the territory tree, and the kind rule every tree (governance's OrgNode too) obeys."""

from __future__ import annotations

from django.db import transaction

from territory.models import Area, KindTreeNode, check_kind_rule


def tree_kind_check(*, node_class: type[KindTreeNode], kind: str,
                    parent: KindTreeNode | None) -> None:
    """Raise ValidationError (Chinese) unless a `kind` node may sit directly under `parent`.

    `node_class` is a tree model with ALLOWED_PARENT and Kind: Area, or governance's OrgNode.
    """
    check_kind_rule(node_class.ALLOWED_PARENT, kind, parent.kind if parent else None,
                    labels=node_class.kind_labels())


def area_create(*, parent: Area | None, name: str, kind: str, code: str = "") -> Area:
    tree_kind_check(node_class=Area, kind=kind, parent=parent)
    values = {"name": name, "kind": kind, "code": code}
    with transaction.atomic():
        if parent is None:
            return Area.objects.add_root(values)
        return Area.objects.add_child(Area.objects.get(pk=parent.pk), values)


def area_move(*, area: Area, parent: Area) -> Area:
    """Move `area` (and its subtree) under `parent`, if the kind rule allows it."""
    with transaction.atomic():
        area = Area.objects.select_for_update().get(pk=area.pk)
        parent = Area.objects.get(pk=parent.pk)
        tree_kind_check(node_class=Area, kind=area.kind, parent=parent)
        Area.objects.move(area, parent, pos="sorted-child")
        return Area.objects.get(pk=area.pk)
