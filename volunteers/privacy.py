"""Volunteering's part of personal-data handling (run by the privacy app).

Volunteer hours stay when an account is deleted (the team's ledger), and so do care visits'
dates; the volunteer record is anonymised (its calendar URL revoked, certificate numbers
cleared), care notes, needs and contacts are cleared, the free text of wishes and proxy services
is redacted, and who consented to a recording on someone's behalf (代录) is cleared.
"""

from __future__ import annotations

from typing import Any

from accounts.models import User
from accounts.personal_data import ANONYMISED_NAME, Identifiers, export_row, redact_rows
from core.retention import RetentionStep, rows_older_than
from volunteers.models import (
    CareFile,
    CareFileAccessLog,
    CareVisit,
    HoursEntry,
    MicroWish,
    ProxyService,
    Qualification,
    Shift,
    Volunteer,
)


def volunteer_export(*, user: User) -> dict[str, Any] | None:
    volunteer = Volunteer.objects.filter(user=user).first()
    if volunteer is None:
        return None
    row = export_row(volunteer, ("name", "phone", "identity", "skills", "is_active",
                                 "created_at"))
    row["hours"] = [export_row(entry, ("served_on", "hours", "status", "source", "note",
                                       "activity"))
                    for entry in HoursEntry.objects.filter(volunteer=volunteer)
                    .select_related("activity").order_by("served_on", "pk")]
    row["qualifications"] = [export_row(item, ("kind", "obtained_on", "expires_on", "reference"))
                             for item in Qualification.objects.filter(volunteer=volunteer)
                             .order_by("kind")]
    row["no_shows"] = [export_row(shift, ("starts_at", "ends_at", "close_reason"))
                       for shift in Shift.objects.filter(volunteer=volunteer,
                                                         status=Shift.Status.NO_SHOW)
                       .order_by("starts_at", "pk")]
    return row


def micro_wishes_export(*, user: User) -> list[dict[str, Any]]:
    return [export_row(wish, ("id", "title", "description", "status", "created_at",
                              "confirmed_at", "consent_by", "consent_method", "consent_at"))
            for wish in MicroWish.objects.filter(resident__user=user).order_by("pk")]


def proxy_services_export(*, user: User) -> list[dict[str, Any]]:
    return [export_row(service, ("id", "kind", "title", "description", "status", "created_at",
                                 "done_at", "result_note", "consent_by", "consent_method",
                                 "consent_at"))
            for service in ProxyService.objects.filter(resident__user=user).order_by("pk")]


def anonymise(*, user: User, identifiers: Identifiers) -> None:
    volunteers = Volunteer.objects.filter(pk__in=identifiers.volunteer_ids)
    redact_rows(HoursEntry.objects.filter(volunteer__in=volunteers), ("note",), identifiers)
    # The calendar URL dies with the record; certificate numbers identify a person.
    volunteers.update(name=ANONYMISED_NAME, phone="", skills="", is_active=False, user=None,
                      calendar_token=None)
    Qualification.objects.filter(volunteer__in=volunteers).update(reference="")
    wishes = MicroWish.objects.filter(resident_id__in=identifiers.resident_ids)
    redact_rows(wishes, ("title", "description", "fulfilment_note"), identifiers)
    # Who consented to a recording on the elder's behalf names the elder or their family.
    wishes.update(consent_by="")
    services = ProxyService.objects.filter(resident_id__in=identifiers.resident_ids)
    redact_rows(services, ("title", "description", "result_note"), identifiers)
    services.update(consent_by="")
    care_files = CareFile.objects.filter(resident_id__in=identifiers.resident_ids)
    CareVisit.objects.filter(care_file__in=care_files).update(notes="", need="")
    care_files.update(health_notes="", living_notes="", emergency_contact="",
                      emergency_phone="", is_active=False)


EXPORT_SECTIONS = {"volunteer": volunteer_export, "micro_wishes": micro_wishes_export,
                   "proxy_services": proxy_services_export}

# PIPL retention: who read a care file is kept as long as settings.RETENTION says.
RETENTION_STEPS: dict[str, RetentionStep] = {
    "care_access_logs": rows_older_than(CareFileAccessLog, "at", "care_access_log"),
}
