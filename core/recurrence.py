"""未诉先办: a suggestion petitions raise when complaints recur becomes, once a staff member
accepts it, a deliberation topic or a needs-list entry. petitions owns the suggestion (its
detection, who may decide it, its link to the petitions); deliberation owns what is made of it.
The two apps never import each other: deliberation registers its `RecurrenceTarget` here from
its AppConfig.ready(), and petitions' accept service calls it inside its own transaction, so a
refusal from deliberation (not staff of the compound) leaves the suggestion open.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from accounts.models import User


class RecurrenceTarget(Protocol):
    """deliberation's side. Each returns the id of the row it made; the text is already checked
    by petitions (it quotes no petition's words or petitioner)."""

    def topic_open(self, *, compound_id: int, actor: User, title: str,
                   description: str) -> int: ...

    def need_add(self, *, compound_id: int, actor: User, title: str, detail: str,
                 petition_id: int) -> int: ...


class _Slot:
    target: RecurrenceTarget | None = None


def recurrence_target_register(target: RecurrenceTarget) -> None:
    _Slot.target = target


def recurrence_target() -> RecurrenceTarget:
    if _Slot.target is None:
        raise RuntimeError("No recurrence target registered (deliberation's AppConfig.ready()).")
    return _Slot.target
