"""PIPL retention: the daily purge of personal data kept past its purpose, run over the steps
every app's privacy.py declares (RETENTION_STEPS, read by privacy.registry)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings

from privacy import registry

logger = logging.getLogger(__name__)

# Days, overridden by settings.RETENTION (config/settings/base.py documents each period).
RETENTION_DEFAULTS = {"phone_code": 1, "outbox": 30, "notification": 365,
                      "petition_contact": 3 * 365, "care_access_log": 3 * 365,
                      "sign_in_log": 180}


def retention_purge(*, now: datetime) -> dict[str, int]:
    """Delete or anonymise personal data kept past its purpose (periods in settings.RETENTION).

    Set-based and idempotent: each step is one DELETE or UPDATE over rows past their cut-off,
    so a second run (or two at once) finds nothing left to do. Only petition photos are done
    one by one (their files), at most a batch a run. The counts are keyed by step name, in
    INSTALLED_APPS order.
    """
    days = {**RETENTION_DEFAULTS, **getattr(settings, "RETENTION", {})}
    periods = {key: timedelta(days=count) for key, count in days.items()}
    counts = {name: step(now, periods) for name, step in registry.retention_steps().items()}
    logger.info("Retention purge: %s", counts)
    return counts
