"""The demo's parts above the base: each feature app registers its step here from its
AppConfig.ready(), with an order; governance's `demo_load` builds the base (territory, homes,
people, accounts) and then runs these, so it never imports the apps above it."""

from __future__ import annotations

from dataclasses import dataclass
from io import TextIOBase
from typing import Any, Protocol


class DemoStep(Protocol):
    # `compound` is governance's Compound: core sits below governance and cannot name it.
    def __call__(self, *, compound: Any, stdout: TextIOBase) -> None: ...


@dataclass(frozen=True)
class DemoEntry:
    name: str
    order: int
    load: DemoStep


_STEPS: dict[str, DemoEntry] = {}


def demo_step_register(name: str, *, order: int, load: DemoStep) -> None:
    """`load` adds `name`'s demo data; lower orders run first (a step may read an earlier
    one's rows). Registering a name twice replaces its step."""
    _STEPS[name] = DemoEntry(name=name, order=order, load=load)


def demo_steps() -> list[DemoEntry]:
    return sorted(_STEPS.values(), key=lambda entry: (entry.order, entry.name))
