"""Reads about one account that span apps: the resident's own data, for download (PIPL art. 45)."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, Prefetch
from django.utils import timezone

from accounts.models import DeletionRequest, User

EXPORT_VERSION = 1


def _row(instance: Model, fields: tuple[str, ...]) -> dict[str, Any]:
    row = {}
    for name in fields:
        value = getattr(instance, name)
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif value is not None and not isinstance(value, (str, int, float, bool, list, dict)):
            value = str(value)
        row[name] = value
    return row


def personal_data_export(*, user: User) -> dict[str, Any]:
    """Everything the portal holds about the signed-in resident, as JSON-ready data.

    Their own data is shown in full (they are its subject). Left out, on purpose: other
    household members' personal data (only their count), staff-only petition notes, and the
    care file's notes, which are staff's assessments: the file's existence, category, visit
    plan and visit dates are included, the notes can be asked for at the community office.
    Queries: a constant number, plus two per resident record (a person has one or two).
    """
    from deliberation.models import SurveyAnswer, Topic, TopicRating, TopicSupport
    from notifications.models import Notification
    from petitions.models import Petition, PetitionEvent, PetitionPhoto
    from residents.models import Resident
    from volunteers.models import HoursEntry, MicroWish, ProxyService, Volunteer

    residents = list(Resident.objects.filter(user=user).select_related(
        "household__building__compound", "household__unit", "party_member__org_node",
        "care_file").order_by("pk"))
    resident_ids = [resident.pk for resident in residents]
    # What their petition pages show them: every step, not the staff's internal notes.
    public_events = PetitionEvent.objects.for_residents().order_by("created_at", "pk")
    public_photos = PetitionPhoto.objects.exclude(event__is_internal=True).order_by("pk")
    petitions = (Petition.objects.filter(submitter=user).select_related("category")
                 .prefetch_related(Prefetch("events", queryset=public_events),
                                   Prefetch("photos", queryset=public_photos))
                 .order_by("submitted_at", "pk"))
    volunteer = Volunteer.objects.filter(user=user).first()
    return {
        "version": EXPORT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "account": _row(user, ("username", "display_name", "phone", "role", "date_joined",
                               "last_login")),
        "residents": [_resident_export(resident) for resident in residents],
        "petitions": [_petition_export(petition) for petition in petitions],
        "volunteer": _volunteer_export(volunteer, HoursEntry) if volunteer else None,
        "micro_wishes": [
            _row(wish, ("id", "title", "description", "status", "created_at", "confirmed_at"))
            for wish in MicroWish.objects.filter(resident_id__in=resident_ids).order_by("pk")],
        "proxy_services": [
            _row(service, ("id", "kind", "title", "description", "status", "created_at",
                           "done_at", "result_note"))
            for service in ProxyService.objects.filter(resident_id__in=resident_ids)
            .order_by("pk")],
        "deliberation": {
            "topics_proposed": [_row(topic, ("id", "title", "status", "created_at"))
                                for topic in Topic.objects.filter(proposer=user).order_by("pk")],
            "supports": list(TopicSupport.objects.filter(user=user)
                             .values_list("topic_id", flat=True).order_by("topic_id")),
            "ratings": [_row(rating, ("topic_id", "score", "comment", "created_at"))
                        for rating in TopicRating.objects.filter(user=user).order_by("pk")],
            "survey_answers": [_row(answer, ("survey_id", "satisfaction", "comment",
                                             "created_at"))
                               for answer in SurveyAnswer.objects.filter(user=user)
                               .order_by("pk")],
        },
        "notifications": [_row(note, ("title", "body", "created_at", "read_at"))
                          for note in Notification.objects.filter(user=user).order_by("pk")],
        "deletion_requests": [_row(request, ("status", "reason", "created_at", "decided_at"))
                              for request in DeletionRequest.objects.filter(user=user)
                              .order_by("pk")],
    }


def _resident_export(resident: Any) -> dict[str, Any]:
    household = resident.household
    row = _row(resident, ("name", "phone", "id_number", "gender", "birth_year", "tags",
                          "is_household_head"))
    row["household"] = {"compound": household.building.compound.name,
                        "building": household.building.number,
                        "unit": household.unit.number, "room": household.room,
                        "members": household.residents.count()}
    member = getattr(resident, "party_member", None)
    row["party_member"] = _row(member, ("kind", "org_node", "joined_on", "occupation",
                                        "workplace", "skills", "is_public", "duties",
                                        "pledges")) if member else None
    care_file = getattr(resident, "care_file", None)
    row["care_file"] = {
        **_row(care_file, ("category", "risk", "frequency", "is_active", "next_visit_due")),
        "visit_dates": [day.isoformat() for day in care_file.visits.order_by("visited_on")
                        .values_list("visited_on", flat=True)],
    } if care_file else None
    return row


def _petition_export(petition: Any) -> dict[str, Any]:
    row = _row(petition, ("id", "channel", "category", "description", "location_text",
                          "contact_name", "contact_phone", "state", "submitted_at",
                          "resolved_at", "resolution", "rating", "rating_comment"))
    row["events"] = [_row(event, ("kind", "from_state", "to_state", "note", "created_at"))
                     | {"note": event.visible_note} for event in petition.events.all()]
    row["photos"] = [photo.image.name for photo in petition.photos.all()]
    return row


def _volunteer_export(volunteer: Any, hours_model: Any) -> dict[str, Any]:
    row = _row(volunteer, ("name", "phone", "identity", "skills", "is_active", "created_at"))
    row["hours"] = [_row(entry, ("served_on", "hours", "status", "note", "activity"))
                    for entry in hours_model.objects.filter(volunteer=volunteer)
                    .select_related("activity").order_by("served_on", "pk")]
    return row


def deletion_request_pending(*, user: User) -> DeletionRequest | None:
    return DeletionRequest.objects.filter(user=user,
                                          status=DeletionRequest.Status.PENDING).first()
