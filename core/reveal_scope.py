"""Where a user may read phones and ID numbers unmasked: residents' rule, asked from core.

The rule lives with the people it protects (residents.rules.personal_data_path); core's
masked admin columns, its reveal view and its protected lookups need it but sit below
residents, so residents hands the rule over in its AppConfig.ready() (`reveal_scope_register`).
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured

from core.types import AnyUser

# user → the path prefix under which they read whole values: "" everywhere, None nowhere.
RevealScopeRule = Callable[["AnyUser | None"], str | None]

_RULES: dict[str, RevealScopeRule] = {}


def reveal_scope_register(rule: RevealScopeRule) -> None:
    """The one rule; registering again replaces it."""
    _RULES["rule"] = rule


def reveal_prefix(user: AnyUser | None) -> str | None:
    """Where `user` may reveal whole numbers: "" everywhere, None nowhere (the reveal rule)."""
    rule = _RULES.get("rule")
    if rule is None:
        # A missing rule is a wiring fault: fail loudly rather than reveal or hide silently.
        raise ImproperlyConfigured("No reveal scope rule: residents registers it in ready().")
    return rule(user)


def reveal_visible(user: AnyUser | None, path: str | None) -> bool:
    """May `user` read the whole values of a row hanging from `path`?"""
    prefix = reveal_prefix(user)
    return prefix is not None and path is not None and path.startswith(prefix)
