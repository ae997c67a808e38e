"""Which app holds which personal data: each app's privacy.py, found at start-up.

Like the admin's autodiscover, but the other way up: privacy sits above every app, so the apps
cannot import a register() from here. Each app's privacy.py declares its part at module level,
importing only its own and lower layers, and this module reads it:

- EXPORT_SECTIONS: {section key: function(*, user) -> JSON-ready data}, the app's sections of
  the resident's data download (privacy.selectors puts them in its fixed order);
- anonymise(*, user, identifiers): makes the app's rows about the person anonymous when the
  account is deleted (privacy.services.account_anonymise);
- RETENTION_STEPS: {step name: core.retention.RetentionStep}, what the daily retention purge
  deletes or anonymises (privacy.retention); the names key the purge's counts.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import autodiscover_modules

from accounts.models import User
from accounts.personal_data import Identifiers
from core.retention import RetentionStep

MODULE = "privacy"


class Exporter(Protocol):
    """One section of the download: JSON-ready data about `user`."""

    def __call__(self, *, user: User) -> Any: ...


class Anonymiser(Protocol):
    """Makes the app's rows about the person anonymous, inside the caller's transaction."""

    def __call__(self, *, user: User, identifiers: Identifiers) -> None: ...


@dataclass(frozen=True)
class PersonalData:
    """One app's part: its export sections, its anonymisation step (None: nothing to do) and
    its retention steps."""

    app_label: str
    sections: Mapping[str, Exporter]
    anonymise: Anonymiser | None
    retention: Mapping[str, RetentionStep]

    def export(self, key: str, *, user: User) -> Any:
        return self.sections[key](user=user)

    def anonymise_rows(self, *, user: User, identifiers: Identifiers) -> None:
        if self.anonymise is not None:
            self.anonymise(user=user, identifiers=identifiers)


# In INSTALLED_APPS order, filled once by autodiscover().
parts: list[PersonalData] = []


def part_of(app_label: str, module: ModuleType) -> PersonalData:
    sections = getattr(module, "EXPORT_SECTIONS", {})
    anonymise = getattr(module, "anonymise", None)
    retention = getattr(module, "RETENTION_STEPS", {})
    for name, mapping in (("EXPORT_SECTIONS", sections), ("RETENTION_STEPS", retention)):
        if not isinstance(mapping, Mapping) or not all(map(callable, mapping.values())):
            raise ImproperlyConfigured(f"{module.__name__}.{name} must map keys to functions")
    if anonymise is not None and not callable(anonymise):
        raise ImproperlyConfigured(f"{module.__name__}.anonymise must be a function")
    return PersonalData(app_label=app_label, sections=dict(sections), anonymise=anonymise,
                        retention=dict(retention))


def autodiscover() -> None:
    """Import every installed app's privacy.py and record its part (PrivacyConfig.ready)."""
    autodiscover_modules(MODULE)
    found = []
    for app_config in apps.get_app_configs():
        module = _module_of(app_config.name)
        if module is not None:
            found.append(part_of(app_config.label, module))
    parts[:] = found


def _module_of(app_name: str) -> ModuleType | None:
    return sys.modules.get(f"{app_name}.{MODULE}")


def section_owners() -> dict[str, PersonalData]:
    """Export section key -> the part that gives it; a key given twice is a mistake."""
    owners: dict[str, PersonalData] = {}
    for part in parts:
        for key in part.sections:
            if key in owners:
                raise ImproperlyConfigured(f"Export section {key!r} is declared by both "
                                           f"{owners[key].app_label} and {part.app_label}")
            owners[key] = part
    return owners


def retention_steps() -> dict[str, RetentionStep]:
    """Step name -> step, in INSTALLED_APPS order; a name given twice is a mistake."""
    steps: dict[str, RetentionStep] = {}
    owner: dict[str, str] = {}
    for part in parts:
        for name, step in part.retention.items():
            if name in steps:
                raise ImproperlyConfigured(f"Retention step {name!r} is declared by both "
                                           f"{owner[name]} and {part.app_label}")
            steps[name] = step
            owner[name] = part.app_label
    return steps
