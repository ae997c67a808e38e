from __future__ import annotations

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("公共")

    def ready(self) -> None:
        from django.contrib.admin.models import LogEntry, LogEntryManager

        from core import checks  # noqa: F401 - registers the system checks
        from core.audit import log_actions_audited, log_actions_is_audited, log_entry_saved
        from core.db import fast_tz_loader_register

        connection_created.connect(fast_tz_loader_register,
                                   dispatch_uid="core.db.fast_tz_loader")

        # Every admin change becomes an audit row, whichever ModelAdmin made it (import-export
        # and third-party admins log through LogEntry too), rather than relying on a mixin on
        # each admin. A single LogEntry is saved (post_save); several at once (a bulk delete,
        # an import) are bulk-created, which sends no signal, hence the wrapper.
        post_save.connect(log_entry_saved, sender=LogEntry,
                          dispatch_uid="core.audit.log_entry_mirror")
        if not log_actions_is_audited(LogEntryManager.log_actions):
            # Django's manager, wrapped in place: mypy refuses assigning to a method.
            LogEntryManager.log_actions = log_actions_audited(  # type: ignore[method-assign]
                LogEntryManager.log_actions)
