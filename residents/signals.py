"""Residents' answers to accounts' signals (connected in ResidentsConfig.ready)."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from residents.models import Resident


def resident_records_link(sender: Any, *, user: User, phone: str, created: bool,
                          **kwargs: Any) -> None:
    """A phone sign-in: a new account takes the name of the household record with its phone,
    and the records with this phone and no account are linked to it, so the resident sees
    their household (also records added after the first sign-in)."""
    if created:
        name = Resident.objects.filter(phone=phone).values_list("name", flat=True).first()
        if name:
            user.display_name = name
            user.save(update_fields=["display_name"])
    Resident.objects.filter(phone=phone, user__isnull=True).update(user=user)
