from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("公共")

    def ready(self) -> None:
        from django.contrib.admin.models import LogEntry, LogEntryManager

        from core import checks  # noqa: F401 - registers the system checks

        # Every admin change becomes an audit row, whichever ModelAdmin made it (import-export
        # and third-party admins log through LogEntry too), rather than relying on a mixin on
        # each admin. A single LogEntry is saved (post_save); several at once (a bulk delete,
        # an import) are bulk-created, which sends no signal, hence the wrapper.
        post_save.connect(_log_entry_saved, sender=LogEntry,
                          dispatch_uid="core.audit.log_entry_mirror")
        if not getattr(LogEntryManager.log_actions, "_audited", False):
            LogEntryManager.log_actions = _audited_log_actions(  # type: ignore[method-assign]
                LogEntryManager.log_actions)


def _log_entry_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    from core.audit import audit_log_entries_mirror

    if created:
        audit_log_entries_mirror([instance])
        instance._audited = True


def _audited_log_actions(log_actions: Any) -> Any:
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        from core.audit import audit_log_entries_mirror

        result = log_actions(self, *args, **kwargs)
        entries = result if isinstance(result, list) else [result]
        audit_log_entries_mirror([entry for entry in entries
                                  if entry is not None and not getattr(entry, "_audited", False)])
        return result

    wrapper._audited = True  # type: ignore[attr-defined]
    return wrapper
