"""Inbox messages stored as a msgid and its parameters, rendered in the reader's language.

A service passes `Message(gettext_noop("…%(name)s…"), {"name": …})` as a title or body:
`notifications_create` keeps the msgid and the parameters beside the Chinese text (the text is
what SMS, exports and rows written before this show), and the inbox renders the msgid in the
language of whoever reads it. A parameter that is itself translatable (a tier, an event kind) is
stored as its raw value with `choice("<name>", value)` and labelled at read time; the choices
are registered by the app that owns them (`choices_register`, from its AppConfig.ready).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, override

_CHOICES: dict[str, type[models.Choices]] = {}


def choices_register(name: str, choices: type[models.Choices]) -> None:
    """Let messages carry a raw value of `choices`, labelled when read (`choice(name, value)`)."""
    _CHOICES[name] = choices


def choice(name: str, value: str) -> dict[str, str]:
    """A parameter stored as a raw choice value, shown as its label in the reader's language."""
    return {"choice": name, "value": str(value)}


def _param(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"choice", "value"}:
        choices = _CHOICES.get(value["choice"])
        if choices is None:
            return value["value"]
        try:
            return str(choices(value["value"]).label)
        except ValueError:
            return value["value"]
    return value


def message_render(msgid: str, params: Mapping[str, Any], *, fallback: str = "") -> str:
    """`msgid` in the active language with its parameters; `fallback` (the stored text) when it
    cannot be rendered (a parameter missing from a row edited by hand)."""
    try:
        return gettext(msgid) % {key: _param(value) for key, value in params.items()}
    except (KeyError, TypeError, ValueError):
        return fallback or msgid


@dataclass(frozen=True)
class Message:
    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def stored_text(self) -> str:
        """The text kept in the row: the site's language (Chinese), whoever caused it."""
        with override(settings.LANGUAGE_CODE):
            return message_render(self.msgid, self.params)
