"""One guard for every workflow: transitions are data next to the TextChoices they move."""

from __future__ import annotations

from collections.abc import Mapping, Set

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
