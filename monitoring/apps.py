from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    """/metrics, /readyz, beat's heartbeat and the request id carried into tasks (issue 20).
    No models: what it reads belongs to the apps below; what they count is in core.metrics."""

    name = "monitoring"
    verbose_name = _("运行监控")

    def ready(self) -> None:
        from monitoring import collectors

        collectors.register()
