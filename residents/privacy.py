"""Residents' part of personal-data handling (run by the privacy app): the resident records
in a person's data download, and their anonymisation when the account is deleted."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from accounts.personal_data import ANONYMISED_NAME, Identifiers, export_row
from residents.models import PartyMember, Resident


def residents_export(*, user: User) -> list[dict[str, Any]]:
    # The care file (volunteers) is shown inside its resident record, as the resident knows
    # it; it is read through the reverse accessor, so residents imports nothing above it.
    residents = Resident.objects.filter(user=user).select_related(
        "household__building__compound", "household__unit", "party_member__org_node",
        "care_file").order_by("pk")
    return [_resident_export(resident) for resident in residents]


def _resident_export(resident: Any) -> dict[str, Any]:
    household = resident.household
    row = export_row(resident, ("name", "phone", "id_number", "gender", "birth_year", "tags",
                                "is_household_head"))
    row["household"] = {"compound": household.building.compound.name,
                        "building": household.building.number,
                        "unit": household.unit.number, "room": household.room,
                        "members": household.residents.count()}
    member = getattr(resident, "party_member", None)
    row["party_member"] = export_row(member, ("kind", "org_node", "joined_on", "occupation",
                                              "workplace", "skills", "is_public", "duties",
                                              "pledges")) if member else None
    care_file = getattr(resident, "care_file", None)
    row["care_file"] = {
        **export_row(care_file, ("category", "risk", "frequency", "is_active",
                                 "next_visit_due")),
        "visit_dates": [day.isoformat() for day in care_file.visits.order_by("visited_on")
                        .values_list("visited_on", flat=True)],
    } if care_file else None
    return row


def anonymise(*, user: User, identifiers: Identifiers) -> None:
    PartyMember.objects.filter(resident_id__in=identifiers.resident_ids).update(
        occupation="", workplace="", skills="", interests="", duties="", pledges="",
        is_public=False)
    Resident.objects.filter(pk__in=identifiers.resident_ids).update(
        name=ANONYMISED_NAME, phone="", id_number="", id_number_digest="", gender="",
        birth_year=None, tags=[], user=None)


EXPORT_SECTIONS = {"residents": residents_export}
