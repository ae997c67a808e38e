"""The audit log (PIPL): admin changes and every reveal or export of masked personal data.

Rows name the fields touched, never their values. Admin changes arrive through Django's own
LogEntry (mirrored by a signal, core.apps) so every ModelAdmin, import-export's imports
included, is covered without a mixin on each; LogEntry alone is not enough because it keeps no
IP or request id and can be deleted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone, translation

from core.masking import mask_numbers_in
from core.middleware import current_request
from core.models import AuditEvent

_LOG_ENTRY_ACTIONS = {ADDITION: AuditEvent.Action.ADD, CHANGE: AuditEvent.Action.CHANGE,
                      DELETION: AuditEvent.Action.DELETE}


def audit_event_record(*, action: str, object_type: str, object_id: Any = "",
                       object_repr: str = "", fields: Iterable[str] = (), actor: Any = None,
                       request: HttpRequest | None = None) -> AuditEvent:
    """Write one audit row; the actor, IP and request id come from the request when given."""
    from accounts.ip import client_ip

    request = request if request is not None else current_request()
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    event = AuditEvent.objects.create(
        at=timezone.now(), actor=actor, actor_label=mask_numbers_in(getattr(actor, "username", "")),
        action=action, object_type=object_type, object_id=str(object_id or "")[:64],
        object_repr=mask_numbers_in(object_repr)[:200], fields=sorted(set(fields)),
        ip=client_ip(request) if request is not None else None,
        request_id=getattr(request, "request_id", "") if request is not None else "",
    )
    if request is not None and action in (AuditEvent.Action.REVEAL, AuditEvent.Action.EXPORT):
        # Read by the test suite's leak scan: this response may carry whole numbers.
        request.pii_revealed = True  # type: ignore[attr-defined]
    return event


def object_type_of(obj: Model | type[Model]) -> str:
    return obj._meta.label_lower


def audit_reveal(*, request: HttpRequest, obj: Model, fields: Iterable[str]) -> AuditEvent:
    return audit_event_record(action=AuditEvent.Action.REVEAL, object_type=object_type_of(obj),
                              object_id=obj.pk, object_repr=str(obj), fields=fields,
                              request=request)


def audit_log_entry_mirror(log_entry: LogEntry) -> AuditEvent | None:
    action = _LOG_ENTRY_ACTIONS.get(log_entry.action_flag)
    if action is None:
        return None
    content_type = log_entry.content_type
    model = content_type.model_class() if content_type is not None else None
    return audit_event_record(
        action=action, object_type=(model._meta.label_lower if model is not None
                                    else str(content_type or "")),
        object_id=log_entry.object_id or "", object_repr=log_entry.object_repr or "",
        fields=_changed_fields(log_entry, model), actor=log_entry.user,
    )


def _changed_fields(log_entry: LogEntry, model: type[Model] | None) -> list[str]:
    """Field names from the change message, which holds verbose names in the source language."""
    try:  # import-export writes a plain (lazy) sentence instead of Django's JSON list
        message = json.loads(str(log_entry.change_message or "[]"))
    except ValueError:
        return []
    if not isinstance(message, list):
        return []
    with translation.override(None):
        by_label = ({str(field.verbose_name): field.name for field in model._meta.get_fields()
                     if hasattr(field, "verbose_name")} if model is not None else {})
    names = []
    for part in message:
        changed = part.get("changed", {}) if isinstance(part, dict) else {}
        labels = [by_label.get(label, label) for label in changed.get("fields", [])]
        if "name" in changed:  # an inline's row: its own model's fields, prefixed by its name
            labels = [f"{changed['name']}.{label}" for label in changed.get("fields", [])]
        names += labels
    return names
