"""The audit log (PIPL): admin changes and every reveal or export of masked personal data.

Rows name the fields touched, never their values. Admin changes arrive through Django's own
LogEntry (mirrored by a signal, core.apps) so every ModelAdmin, import-export's imports
included, is covered without a mixin on each; LogEntry alone is not enough because it keeps no
IP or request id and can be deleted.
"""

from __future__ import annotations

import json
import logging
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone, translation

from core.ip import client_ip
from core.masking import mask_numbers_in
from core.middleware import current_request
from core.models import AuditEvent
from core.types import app_request

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)
_LOG_ENTRY_ACTIONS = {ADDITION: AuditEvent.Action.ADD, CHANGE: AuditEvent.Action.CHANGE,
                      DELETION: AuditEvent.Action.DELETE}


def audit_event_record(*, action: str, object_type: str, object_id: Any = "",
                       object_repr: str = "", fields: Iterable[str] = (), actor: User | None = None,
                       request: HttpRequest | None = None) -> AuditEvent:
    """Write one audit row; the actor, IP and request id come from the request when given."""
    event = _event_build(action=action, object_type=object_type, object_id=object_id,
                         object_repr=object_repr, fields=fields, actor=actor, request=request)
    event.save()
    if action in (AuditEvent.Action.REVEAL, AuditEvent.Action.EXPORT,
                  AuditEvent.Action.MEDIA_VIEW):
        # Ids and field names only, never the values shown (nor object_repr: a name).
        logger.info("audit %s of %s #%s (%s) by user %s", action, object_type, event.object_id,
                    ",".join(event.fields), event.actor_id or "-",
                    extra={"event": f"audit.{action}", "audit_event_id": event.pk,
                           "object_type": object_type, "object_id": event.object_id,
                           "fields": event.fields, "actor_id": event.actor_id})
    return event


def _event_build(*, action: str, object_type: str, object_id: Any = "", object_repr: str = "",
                 fields: Iterable[str] = (), actor: User | None = None,
                 request: HttpRequest | None = None, shows_values: bool = True) -> AuditEvent:
    request = request if request is not None else current_request()
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    if (request is not None and shows_values
            and action in (AuditEvent.Action.REVEAL, AuditEvent.Action.EXPORT)):
        # Read by the test suite's leak scan: this response may carry whole numbers.
        app_request(request).pii_revealed = True
    return AuditEvent(
        at=timezone.now(), actor=actor, actor_label=mask_numbers_in(getattr(actor, "username", "")),
        action=action, object_type=object_type, object_id=str(object_id or "")[:64],
        object_repr=mask_numbers_in(object_repr)[:200], fields=sorted(set(fields)),
        ip=client_ip(request) if request is not None else None,
        request_id=getattr(request, "request_id", "") if request is not None else "",
    )


def object_type_of(obj: Model | type[Model]) -> str:
    return obj._meta.label_lower


def audit_reveal(*, request: HttpRequest, obj: Model, fields: Iterable[str]) -> AuditEvent:
    return audit_event_record(action=AuditEvent.Action.REVEAL, object_type=object_type_of(obj),
                              object_id=obj.pk, object_repr=str(obj), fields=fields,
                              request=request)


def audit_lookup_matches(*, objects: Iterable[Model], fields: Iterable[str],
                         actor: User) -> list[AuditEvent]:
    """One reveal row per row an exact lookup over a protected field found (core.
    protected_lookups): the match confirmed the value the caller typed. The answer still shows
    the values masked, so the leak scan keeps reading it."""
    fields = sorted(set(fields))
    request = current_request()
    events = [_event_build(action=AuditEvent.Action.REVEAL, object_type=object_type_of(obj),
                           object_id=obj.pk, object_repr=str(obj), fields=fields, actor=actor,
                           request=request, shows_values=False)
              for obj in objects]
    if not events:
        return []
    created = AuditEvent.objects.bulk_create(events)
    logger.info("audit lookup confirmed %s of %s %s by user %s", ",".join(fields),
                len(created), created[0].object_type, actor.pk,
                extra={"event": "audit.lookup", "object_type": created[0].object_type,
                       "object_ids": [event.object_id for event in created], "fields": fields,
                       "actor_id": actor.pk})
    return created


def audit_log_entries_mirror(log_entries: Iterable[LogEntry]) -> list[AuditEvent]:
    """One audit row per admin LogEntry (saved one by one, or bulk-created by a bulk delete or an
    import, which sends no post_save: core.apps hooks both)."""
    request = current_request()
    events = [event for event in (_log_entry_event(entry, request) for entry in log_entries)
              if event is not None]
    return AuditEvent.objects.bulk_create(events)


# Rows the post_save handler has mirrored: the wrapped log_actions must not mirror them again.
_mirrored_entries: weakref.WeakSet[LogEntry] = weakref.WeakSet()
# The wrappers log_actions_audited made, so that ready() running twice wraps once.
_audited_wrappers: set[Callable[..., Any]] = set()


def log_entry_saved(sender: type[LogEntry], instance: LogEntry, created: bool,
                    **kwargs: Any) -> None:
    """post_save of a LogEntry (core.apps connects it): one admin change, mirrored."""
    if created:
        audit_log_entries_mirror([instance])
        _mirrored_entries.add(instance)


def log_actions_audited(log_actions: Callable[..., Any]) -> Callable[..., Any]:
    """LogEntryManager.log_actions, mirroring the rows it bulk-creates (which send no
    post_save); a row it saves one by one was mirrored by log_entry_saved already."""
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = log_actions(self, *args, **kwargs)
        entries = result if isinstance(result, list) else [result]
        audit_log_entries_mirror([entry for entry in entries
                                  if entry is not None and entry not in _mirrored_entries])
        return result

    _audited_wrappers.add(wrapper)
    return wrapper


def log_actions_is_audited(log_actions: Callable[..., Any]) -> bool:
    return log_actions in _audited_wrappers


def _log_entry_event(log_entry: LogEntry, request: HttpRequest | None) -> AuditEvent | None:
    action = _LOG_ENTRY_ACTIONS.get(log_entry.action_flag)
    if action is None:
        return None
    content_type = (ContentType.objects.get_for_id(log_entry.content_type_id)
                    if log_entry.content_type_id else None)
    model = content_type.model_class() if content_type is not None else None
    user = getattr(request, "user", None)
    actor = user if user is not None and user.pk == log_entry.user_id else log_entry.user
    return _event_build(
        action=action, object_type=(model._meta.label_lower if model is not None
                                    else str(content_type or "")),
        object_id=log_entry.object_id or "", object_repr=log_entry.object_repr or "",
        fields=_changed_fields(log_entry, model), actor=actor, request=request,
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
