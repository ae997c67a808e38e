"""PIPL retention of closed petitions' personal data, run by privacy.retention.retention_purge
(declared in petitions/privacy.py; periods in settings.RETENTION)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from petitions.models import Petition, PetitionPhoto

PHOTO_BATCH = 500  # photo files deleted per run; the rest wait for the next run


def petition_contacts_purge(now: datetime, periods: Mapping[str, timedelta]) -> int:
    """Clear the contact name and phone of petitions closed longer than the period."""
    closed_before = now - periods["petition_contact"]
    return (Petition.objects.filter(closed_at__lt=closed_before)
            .exclude(contact_name="", contact_phone="").update(contact_name="", contact_phone=""))


def petition_photos_purge(now: datetime, periods: Mapping[str, timedelta]) -> int:
    """Delete the photos (files and rows) of the same petitions, at most PHOTO_BATCH a run."""
    closed_before = now - periods["petition_contact"]
    photos = list(PetitionPhoto.objects.filter(petition__closed_at__lt=closed_before)
                  .order_by("pk")[:PHOTO_BATCH])
    for photo in photos:
        # The file first: a crash in between leaves a row without a file, never the reverse.
        photo.image.delete(save=False)
    PetitionPhoto.objects.filter(pk__in=[photo.pk for photo in photos]).delete()
    return len(photos)
