"""What account_anonymise does beyond the apps' own steps (their privacy.py): collect the
person's identifiers first, and afterwards delete what only served the person. Each step is a
few set-based updates over the person's own rows, so the cost does not grow with the tables.

What is kept and why (PIPL art. 47 allows keeping what another law requires) is told in each
app's privacy.py: petitions, deliberation votes, volunteer hours and care visits' dates.
"""

from __future__ import annotations

from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from accounts.models import PhoneCode, User
from accounts.personal_data import ANONYMISED_NAME, Identifiers, redact_rows
from notifications.models import Notification, OutboundMessage
from residents.models import PartyMember, Resident
from volunteers.models import Volunteer


def identifiers_of(user: User) -> Identifiers:
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


def traces_delete(*, user: User, identifiers: Identifiers) -> None:
    """What only served the person: inbox, outbound SMS, sign-in codes and logs, and the
    admin's and audit log's copies of their records' names."""
    Notification.objects.filter(user=user).delete()
    # Staff inboxes quote petitions ("王阿姨反映…"): one text scan per identifier, affordable
    # for a request decided by hand now and then.
    mentions = Q(pk__in=[])
    for value in (*identifiers.phones, *identifiers.names, *identifiers.id_numbers):
        mentions |= Q(title__contains=value) | Q(body__contains=value)
    # A message kept as a msgid reads its names from `params`: redacted with the text.
    redact_rows(Notification.objects.filter(mentions), ("title", "body"), identifiers,
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
    resident_ids = list(identifiers.resident_ids)
    return {
        User: [str(user.pk)],
        Resident: [str(pk) for pk in resident_ids],
        PartyMember: [str(pk) for pk in PartyMember.objects.filter(
            resident_id__in=resident_ids).values_list("pk", flat=True)],
        Volunteer: [str(pk) for pk in identifiers.volunteer_ids],
    }
