"""System checks that read the database (run by `migrate` and `check --database default`)."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.db import DatabaseError

from core.workdays import WARNING_DAYS, calendar_status


@checks.register(checks.Tags.database)
def calendar_end_check(app_configs: Any = None, databases: Any = None,
                       **kwargs: Any) -> list[checks.CheckMessage]:
    """The holiday table must reach more than WARNING_DAYS ahead: past its end, working-day
    deadlines are Monday-to-Friday estimates (flagged on each petition).

    Like Django's own database checks it stays off the database unless asked, so `check
    --deploy` in a build with no database does not try to connect."""
    if not databases or "default" not in databases:
        return []
    try:
        status = calendar_status()
    except DatabaseError:  # not migrated yet: `migrate` itself runs this check first
        return []
    if not status.is_ending:
        return []
    hint = ("When the State Council publishes the next year's holidays, a street admin enters "
            "them in the admin (节假日年度) and ticks 已录入完整; or upgrade chinese-calendar and "
            "run `manage.py calendar_import`.")
    if status.end is None:
        message = "The holiday table is empty: working-day deadlines are weekday estimates."
    elif status.has_ended:
        message = (f"The holiday table ended on {status.end.isoformat()}: working-day deadlines "
                   "are weekday estimates.")
    else:
        message = (f"The holiday table ends on {status.end.isoformat()}, in {status.days_left} "
                   f"days (warning from {WARNING_DAYS}).")
    return [checks.Warning(message, hint=hint, id="core.W201")]
