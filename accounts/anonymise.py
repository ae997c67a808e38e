"""The steps of accounts.services.account_anonymise, one per area of the portal (split out of
services.py because they reach into every app's tables). Each is a few set-based updates over
the person's own rows, so the cost does not grow with the size of the tables.

What is kept and why (PIPL art. 47 allows keeping what another law requires):
- petitions, their public and internal events: the government's record of the complaint and its
  handling (the 7135 statistics). Contact name and phone are cleared; the free text is kept
  with the person's phone, names and ID numbers replaced by "***" wherever they appear in it;
  photos the resident uploaded are deleted (staff photos stay).
- deliberation supports, ratings and survey answers (the vote counts must not change), the
  proposer's name replaced.
- volunteer hours (the team's ledger), care visits' dates; care notes and contacts cleared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import Q

from accounts.models import PhoneCode, User

REDACTED = "***"
ANONYMISED_NAME = "已注销居民"


@dataclass(frozen=True)
class Identifiers:
    phones: frozenset[str]
    names: frozenset[str]
    id_numbers: frozenset[str]
    usernames: frozenset[str]
    resident_ids: tuple[int, ...]
    volunteer_ids: tuple[int, ...]

    def redact(self, text: str) -> str:
        if not text:
            return text
        values = [value for value in (*self.phones, *self.id_numbers, *self.names)
                  if len(value) >= 2]
        if not values:
            return text
        pattern = "|".join(re.escape(value)
                           for value in sorted(values, key=len, reverse=True))
        return re.sub(pattern, REDACTED, text, flags=re.IGNORECASE)

    def redact_json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, list):
            return [self.redact_json(item) for item in value]
        if isinstance(value, dict):
            return {key: self.redact_json(item) for key, item in value.items()}
        return value


def identifiers_of(user: User) -> Identifiers:
    from residents.models import Resident
    from volunteers.models import Volunteer

    residents = list(Resident.objects.filter(user=user))
    volunteers = list(Volunteer.objects.filter(
        Q(user=user) | Q(resident_id__in=[resident.pk for resident in residents])))
    phones = {user.phone or "", *(resident.phone for resident in residents),
              *(volunteer.phone for volunteer in volunteers)}
    names = {user.display_name, *(resident.name for resident in residents),
             *(volunteer.name for volunteer in volunteers)}
    return Identifiers(
        phones=frozenset(phone for phone in phones if phone),
        names=frozenset(name for name in names if name and name != ANONYMISED_NAME),
        id_numbers=frozenset(resident.id_number for resident in residents
                             if resident.id_number),
        usernames=frozenset({user.username}),
        resident_ids=tuple(resident.pk for resident in residents),
        volunteer_ids=tuple(volunteer.pk for volunteer in volunteers),
    )


def _redact_rows(queryset: Any, fields: tuple[str, ...], identifiers: Identifiers,
                 *, json_fields: tuple[str, ...] = ()) -> None:
    rows = list(queryset.only("pk", *fields, *json_fields))
    for row in rows:
        for field in fields:
            setattr(row, field, identifiers.redact(getattr(row, field)))
        for field in json_fields:
            setattr(row, field, identifiers.redact_json(getattr(row, field)))
    if rows:
        queryset.model.objects.bulk_update(rows, [*fields, *json_fields], batch_size=500)


def petitions_redact(*, user: User, identifiers: Identifiers) -> None:
    from petitions.models import PendingPhoto, Petition, PetitionEvent, PetitionPhoto

    petitions = Petition.objects.filter(submitter=user)
    _redact_rows(petitions, ("description", "location_text", "resolution", "rating_comment",
                             "rejection_reason"), identifiers, json_fields=("answers",))
    petitions.update(contact_name=ANONYMISED_NAME, contact_phone="")
    _redact_rows(PetitionEvent.objects.filter(petition__submitter=user), ("note",),
                 identifiers)
    for photo in PetitionPhoto.objects.filter(petition__submitter=user, uploaded_by=user):
        photo.image.delete(save=False)
        photo.delete()
    # Photos kept from a refused form (a day at most otherwise): no one would ever claim them.
    for pending in PendingPhoto.objects.filter(uploaded_by=user):
        pending.image.delete(save=False)
        pending.delete()


def deliberation_redact(*, user: User, identifiers: Identifiers) -> None:
    from deliberation.models import SurveyAnswer, Topic, TopicRating

    topics = Topic.objects.filter(proposer=user)
    _redact_rows(topics, ("title", "description"), identifiers)
    topics.update(proposer_name=ANONYMISED_NAME)
    _redact_rows(TopicRating.objects.filter(user=user), ("comment",), identifiers)
    _redact_rows(SurveyAnswer.objects.filter(user=user), ("comment",), identifiers)


def volunteering_redact(*, user: User, identifiers: Identifiers) -> None:
    from volunteers.models import HoursEntry, MicroWish, ProxyService, Volunteer

    volunteers = Volunteer.objects.filter(pk__in=identifiers.volunteer_ids)
    _redact_rows(HoursEntry.objects.filter(volunteer__in=volunteers), ("note",), identifiers)
    volunteers.update(name=ANONYMISED_NAME, phone="", skills="", is_active=False, user=None)
    wishes = MicroWish.objects.filter(resident_id__in=identifiers.resident_ids)
    _redact_rows(wishes, ("title", "description", "fulfilment_note"), identifiers)
    services = ProxyService.objects.filter(resident_id__in=identifiers.resident_ids)
    _redact_rows(services, ("title", "description", "result_note"), identifiers)


def residents_anonymise(*, user: User, identifiers: Identifiers) -> None:
    from residents.models import PartyMember, Resident
    from volunteers.models import CareFile, CareVisit

    care_files = CareFile.objects.filter(resident_id__in=identifiers.resident_ids)
    CareVisit.objects.filter(care_file__in=care_files).update(notes="")
    care_files.update(health_notes="", living_notes="", emergency_contact="",
                      emergency_phone="", is_active=False)
    PartyMember.objects.filter(resident_id__in=identifiers.resident_ids).update(
        occupation="", workplace="", skills="", interests="", duties="", pledges="",
        is_public=False)
    Resident.objects.filter(pk__in=identifiers.resident_ids).update(
        name=ANONYMISED_NAME, phone="", id_number="", id_number_digest="", gender="",
        birth_year=None, tags=[], user=None)


def traces_delete(*, user: User, identifiers: Identifiers) -> None:
    """What only served the person: inbox, outbound SMS, sign-in codes and logs, and the
    admin's and audit log's copies of their records' names."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from notifications.models import Notification, OutboundMessage

    Notification.objects.filter(user=user).delete()
    # Staff inboxes quote petitions ("王阿姨反映…"): one text scan per identifier, affordable
    # for a request decided by hand now and then.
    mentions = Q(pk__in=[])
    for value in (*identifiers.phones, *identifiers.names, *identifiers.id_numbers):
        mentions |= Q(title__contains=value) | Q(body__contains=value)
    # A message kept as a msgid reads its names from `params`: redacted with the text.
    _redact_rows(Notification.objects.filter(mentions), ("title", "body"), identifiers,
                 json_fields=("params",))
    OutboundMessage.objects.filter(recipient__in=identifiers.phones).delete()
    PhoneCode.objects.filter(phone__in=identifiers.phones).delete()
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(username__in=identifiers.usernames).delete()
    # The admin log and the audit log name the objects they touched (str(obj) is a person's
    # name for these models); the rows stay, the names go.
    objects = _objects_of(user=user, identifiers=identifiers)
    for model, ids in objects.items():
        LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model),
                                object_id__in=ids).update(object_repr=ANONYMISED_NAME)
    try:
        audit_event = apps.get_model("core", "AuditEvent")
    except LookupError:
        return
    audit_event.objects.filter(actor=user).update(actor_label=f"deleted-{user.pk}")
    for model, ids in objects.items():
        audit_event.objects.filter(object_type=model._meta.label_lower,
                                   object_id__in=ids).update(object_repr=ANONYMISED_NAME)


def _objects_of(*, user: User, identifiers: Identifiers) -> dict[type[Any], list[str]]:
    from residents.models import PartyMember, Resident
    from volunteers.models import Volunteer

    resident_ids = list(identifiers.resident_ids)
    return {
        User: [str(user.pk)],
        Resident: [str(pk) for pk in resident_ids],
        PartyMember: [str(pk) for pk in PartyMember.objects.filter(
            resident_id__in=resident_ids).values_list("pk", flat=True)],
        Volunteer: [str(pk) for pk in identifiers.volunteer_ids],
    }
