from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("消息通知")

    def ready(self) -> None:
        from notifications.models import Notification, OutboundMessage
        from notifications.services import (
            retention_register,
            rows_older_than,
            sessions_purge,
            sign_in_logs_purge,
        )

        # PIPL retention of what this app and the sign-in machinery keep; the apps above
        # register theirs in their own ready().
        retention_register("outbox", rows_older_than(OutboundMessage, "created_at", "outbox"))
        retention_register("notifications",
                           rows_older_than(Notification, "created_at", "notification"))
        retention_register("sign_in_logs", sign_in_logs_purge)
        retention_register("sessions", sessions_purge)
