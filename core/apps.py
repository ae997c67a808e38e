from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("公共")

    def ready(self) -> None:
        from django.contrib.admin.models import LogEntry

        post_save.connect(_log_entry_saved, sender=LogEntry,
                          dispatch_uid="core.audit.log_entry_mirror")


def _log_entry_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    # A signal rather than a mixin on every ModelAdmin: the audit must not depend on each admin
    # remembering to include it (import-export and third-party admins log through LogEntry too).
    from core.audit import audit_log_entry_mirror

    if created:
        audit_log_entry_mirror(instance)
