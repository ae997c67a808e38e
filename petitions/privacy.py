"""Petitions' part of personal-data handling (run by the privacy app).

Petitions and their events stay when an account is deleted: they are the government's record
of the complaint and its handling (the 7135 statistics). Contact name and phone are cleared;
the free text is kept with the person's phone, names and ID numbers replaced by "***"
wherever they appear in it; photos the resident uploaded are deleted (staff photos stay).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from accounts.models import User
from accounts.personal_data import ANONYMISED_NAME, Identifiers, export_row, redact_rows
from core.retention import RetentionStep
from petitions.models import (
    CoHandlingRequest,
    PendingPhoto,
    Petition,
    PetitionEvent,
    PetitionPhoto,
)
from petitions.retention import petition_contacts_purge, petition_photos_purge


def petitions_export(*, user: User) -> list[dict[str, Any]]:
    # What their petition pages show them: every step, not the staff's internal notes.
    public_events = PetitionEvent.objects.for_residents().order_by("created_at", "pk")
    public_photos = PetitionPhoto.objects.exclude(event__is_internal=True).order_by("pk")
    petitions = (Petition.objects.filter(submitter=user).select_related("category")
                 .prefetch_related(Prefetch("events", queryset=public_events),
                                   Prefetch("photos", queryset=public_photos))
                 .order_by("submitted_at", "pk"))
    return [_petition_export(petition) for petition in petitions]


def _petition_export(petition: Any) -> dict[str, Any]:
    row = export_row(petition, ("id", "channel", "category", "description", "location_text",
                                "contact_name", "contact_phone", "state", "submitted_at",
                                "resolved_at", "resolution", "rating", "rating_comment"))
    row["events"] = [export_row(event, ("kind", "from_state", "to_state", "note",
                                        "created_at"))
                     | {"note": event.visible_note} for event in petition.events.all()]
    row["photos"] = [photo.image.name for photo in petition.photos.all()]
    return row


def anonymise(*, user: User, identifiers: Identifiers) -> None:
    petitions = Petition.objects.filter(submitter=user)
    redact_rows(petitions, ("description", "location_text", "resolution", "rating_comment",
                            "rejection_reason"), identifiers, json_fields=("answers",))
    petitions.update(contact_name=ANONYMISED_NAME, contact_phone="")
    redact_rows(PetitionEvent.objects.filter(petition__submitter=user), ("note",),
                identifiers)
    # 协办: the task staff wrote and the body's answer may name the resident as the notes do.
    redact_rows(CoHandlingRequest.objects.filter(petition__submitter=user),
                ("task", "answer_note"), identifiers)
    for photo in PetitionPhoto.objects.filter(petition__submitter=user, uploaded_by=user):
        photo.image.delete(save=False)
        photo.delete()
    # Photos kept from a refused form (a day at most otherwise): no one would ever claim them.
    for pending in PendingPhoto.objects.filter(uploaded_by=user):
        pending.image.delete(save=False)
        pending.delete()


EXPORT_SECTIONS = {"petitions": petitions_export}

# PIPL retention: closed petitions' contact details and photos (settings.RETENTION).
RETENTION_STEPS: dict[str, RetentionStep] = {"petition_contacts": petition_contacts_purge,
                                             "petition_photos": petition_photos_purge}
