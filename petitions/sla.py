"""Moved to petitions/policy.py, where every clock rule of the petitions lives.

Kept as re-exports for code written before the move; import petitions.policy instead.
"""

from __future__ import annotations

from petitions.policy import (  # noqa: F401
    CALENDAR_DAYS,
    WORKING_DAYS,
    Deadlines,
    Durations,
    add_working_days,
    compute_deadlines,
    counts_working_days,
    deadline_after,
    initial_tier,
    is_late,
)
