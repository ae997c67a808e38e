"""Photos kept across a refused petition form (PendingPhoto).

A resident's form can come back refused after the photos were sent (a missing description, no
location…); a file input cannot be refilled, so each photo is re-encoded at once
(core.images.photo_reencode, as for any stored photo) and kept for the resident who sent it.
The page shows it back as 已上传 with an inline thumbnail and a ticked box carrying its token;
`petition_submit(held_photos=...)` attaches the ticked ones. The token is random (it cannot
be guessed) and only its uploader's requests may use it (another account's token is ignored).
What no form claims is purged a day on (a periodic task, safe to run twice or at once).

Kept apart from petitions/services.py (like intake.py); part of the petitions contract.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from accounts.models import User
from core.images import photo_reencode, photo_thumbnail_data_uri
from petitions.models import MAX_PHOTOS, PendingPhoto

logger = logging.getLogger(__name__)
PURGE_BATCH = 500


@dataclass(frozen=True)
class HeldUploads:
    """What pending_photos_hold kept, and why it refused the others (one message a file)."""

    photos: list[PendingPhoto]
    errors: list[ValidationError]


def pending_photos_hold(*, actor: User, photos: Sequence[UploadedFile[bytes]]) -> HeldUploads:
    """Re-encode each photo and keep it for `actor`; a refused one is reported, never stored,
    and does not cost the others theirs."""
    held, errors = [], []
    for upload in photos[:MAX_PHOTOS]:
        try:
            content = photo_reencode(upload)
        except ValidationError as error:
            errors.append(error)
            continue
        row = PendingPhoto(token=secrets.token_urlsafe(32), uploaded_by=actor)
        # photo_reencode names every file it returns (the stubs' File.name is optional).
        row.image.save(cast(str, content.name), content, save=False)
        row.save()
        held.append(row)
    return HeldUploads(photos=held, errors=errors)


def pending_photo_list(*, actor: User, tokens: Iterable[str]) -> list[PendingPhoto]:
    """The actor's own pending photos among `tokens`; anyone else's are not there."""
    wanted = {token for token in tokens if isinstance(token, str) and 0 < len(token) <= 64}
    if not wanted or not actor.is_authenticated:
        return []
    return list(PendingPhoto.objects.filter(token__in=wanted, uploaded_by=actor).order_by("id"))


def pending_photo_thumbnails(photos: Iterable[PendingPhoto]) -> list[tuple[str, str]]:
    """(token, data: URI) of each photo, for the form to show back."""
    thumbnails = []
    for photo in photos:
        try:
            with photo.image.open("rb") as handle:
                thumbnails.append((photo.token, photo_thumbnail_data_uri(handle)))
        except FileNotFoundError:  # purged meanwhile: nothing to show or attach
            continue
    return thumbnails


def pending_photos_purge(*, now: datetime) -> int:
    """Delete the pending photos older than PendingPhoto.TTL, and their files.

    Each row is claimed by a conditional DELETE that must remove it: a second run (or a
    concurrent one) finds it gone and leaves the file alone, and so does a run that meets a
    submission attaching it (petition_submit deletes the row, under a row lock, in the same
    transaction as it makes the file a PetitionPhoto's). Only the run that deleted the row
    deletes the file."""
    cutoff = now - PendingPhoto.TTL
    storage = PendingPhoto._meta.get_field("image").storage
    expired = list(PendingPhoto.objects.filter(created_at__lt=cutoff)
                   .values_list("pk", "image")[:PURGE_BATCH])
    purged = 0
    for pk, name in expired:
        deleted, _rows = PendingPhoto.objects.filter(pk=pk, created_at__lt=cutoff).delete()
        if not deleted:
            continue
        purged += 1
        if name:
            storage.delete(name)
    if purged:
        logger.info("Purged %d pending petition photos older than %s", purged, cutoff)
    return purged
