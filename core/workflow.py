"""One guard for every workflow: transitions are data next to the TextChoices they move."""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any

from django.utils.translation import gettext as _

from core.exceptions import InvalidTransition


def check_transition(
    table: Mapping[str, Set[str]], current: str, target: str, *, labels: Mapping[str, str]
) -> None:
    """Raise InvalidTransition unless `target` may follow `current` in `table`."""
    if target not in table.get(current, frozenset()):
        raise InvalidTransition(
            _("不能从“%(current)s”变为“%(target)s”。")
            % {"current": labels.get(current, current), "target": labels.get(target, target)}
        )


def transition(obj: Any, target: str, *, table: Mapping[str, Set[str]],
               field: str = "status") -> str:
    """Move `obj.<field>` to `target` if `table` allows it (else InvalidTransition, worded with
    the field's choice labels); return the value it had. Saving and history stay the caller's:
    each workflow keeps its own event rows."""
    current: str = getattr(obj, field)
    check_transition(table, current, target, labels=dict(obj._meta.get_field(field).choices))
    setattr(obj, field, target)
    return current
