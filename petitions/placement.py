"""Moved to petitions/policy.py, where every clock rule of the petitions lives (the area and the
holder of a tier among them).

Kept as re-exports for code written before the move; import petitions.policy instead.
"""

from __future__ import annotations

from petitions.policy import (  # noqa: F401
    STEP,
    TIER_DEPTH,
    area_expression,
    tier_area,
    tier_holder_id,
    tier_path,
)
