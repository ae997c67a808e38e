"""Counting on the hot pages."""

from __future__ import annotations


class CountAtLeast(int):
    """A count that stopped at its cap: cap + 1 as a number (more than the cap, for a pager
    and for comparisons such as an export's limit), "1,000+" as text (a template's {{ }})."""

    def __str__(self) -> str:
        return f"{int(self) - 1:,}+"
