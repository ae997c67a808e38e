"""PIPL: a resident downloads their data and asks for deletion; community staff approve, and
no trace of the person's phone, name or ID number is left in any table."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop
from rest_framework.test import APIClient

from accounts.models import PhoneCode, User
from core import crypto
from core.audit import audit_event_record, object_type_of
from core.exceptions import ApplicationError, PermissionDeniedError
from core.models import AuditEvent
from deliberation.models import Topic, TopicSupport
from notifications.messages import Message
from notifications.models import Notification, OutboundMessage
from notifications.services import notifications_create, sms_enqueue
from petitions import services as petition_services
from petitions.models import Petition, PetitionPhoto
from privacy.models import DeletionRequest
from privacy.services import (
    deletion_request_approve,
    deletion_request_create,
    deletion_request_reject,
)
from residents.models import Resident
from tests.petitions.factories import category, photo
from volunteers.models import CareFile, HoursEntry, Volunteer
from volunteers.services.care import care_file_create, care_visit_log

PHONE = "13800001111"
NAME = "王阿姨"
ID_NUMBER = "370211195601011234"


@pytest.fixture
def history(territory, resident_user, resident_record, community_staff, microgrid_worker):
    """A resident with a trace in every corner of the portal."""
    resident_record.id_number = ID_NUMBER
    resident_record.save(update_fields=["id_number"])
    petition = petition_services.petition_submit(
        actor=resident_user, category=category(), household=territory.household1,
        description=f"{NAME}反映：楼道堆物，请回电 {PHONE}", photos=[photo()])
    petition_services.petition_add_note(petition_id=petition.pk, actor=resident_user,
                                        note=f"补充：身份证 {ID_NUMBER}")
    volunteer = Volunteer.objects.create(compound=territory.compound, user=resident_user,
                                         resident=resident_record, name=NAME, phone=PHONE)
    HoursEntry.objects.create(volunteer=volunteer, source=HoursEntry.Source.STAFF, hours=Decimal(2),
                              served_on=date(2026, 11, 1), note=f"{NAME}协助清扫")
    care_file = care_file_create(resident=resident_record, actor=community_staff,
                                 category=CareFile.Category.EMPTY_NEST,
                                 risk=CareFile.Risk.LOW, health_notes=f"{NAME}腿脚不便",
                                 emergency_contact="李先生", emergency_phone="13700002222")
    care_visit_log(care_file=care_file, user=community_staff, visited_on=timezone.localdate(),
                   notes=f"{NAME}精神好")
    topic = Topic.objects.create(compound=territory.compound, title="加装电梯",
                                 proposer=resident_user, proposer_name=NAME)
    TopicSupport.objects.create(topic=topic, user=resident_user)
    Notification.objects.create(user=resident_user, title="您的诉求已受理", body=f"{NAME}您好")
    # A staff member's message kept as a msgid names the resident in its params too.
    notifications_create(user_ids=[community_staff.pk], title=Message(
        gettext_noop("党员 %(name)s 认领了“%(title)s”。"), {"name": NAME, "title": "修椅子"}))
    sms_enqueue(phone=PHONE, body="验证码 123456")
    PhoneCode.objects.create(phone=PHONE, code_hash="x", expires_at=petition.submitted_at)
    LogEntry.objects.create(user=community_staff, action_flag=CHANGE, object_repr=NAME,
                            object_id=str(resident_record.pk),
                            content_type=ContentType.objects.get_for_model(Resident))
    for obj in (resident_record, volunteer):  # staff revealed them: the audit names them
        audit_event_record(action=AuditEvent.Action.REVEAL, object_type=object_type_of(obj),
                           object_id=obj.pk, object_repr=str(obj), fields=["phone"],
                           actor=community_staff)
    return {"petition": petition, "care_file": care_file, "topic": topic,
            "volunteer": volunteer}


def traces(*needles: str) -> list[str]:
    """Every (table.column) of every model holding one of the needles, read raw through a
    cursor; encrypted columns are decrypted first, so they are searched too."""
    found = []
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            if model._meta.proxy or not model._meta.managed:
                continue
            columns = [field.column for field in model._meta.concrete_fields
                       if field.get_internal_type() in {"CharField", "TextField", "JSONField",
                                                        "SlugField", "EmailField", "URLField",
                                                        "FileField", "ImageField"}]
            if not columns:
                continue
            quote = connection.ops.quote_name
            cursor.execute(f"SELECT {', '.join(map(quote, columns))} "  # noqa: S608
                           f"FROM {quote(model._meta.db_table)}")
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    text = crypto.decrypt(value) if isinstance(value, str) else str(value)
                    if any(needle in text for needle in needles):
                        found.append(f"{model._meta.db_table}.{column}")
    return sorted(set(found))


def test_a_resident_downloads_their_own_data_as_json(client, resident_user, history):
    client.force_login(resident_user)
    assert client.get(reverse("accounts:my-data")).status_code == 200
    response = client.get(reverse("accounts:my-data-download"))

    assert response["Content-Disposition"].startswith("attachment")
    data = json.loads(response.content)
    assert data["account"]["phone"] == PHONE
    [record] = data["residents"]
    assert (record["name"], record["id_number"]) == (NAME, ID_NUMBER)
    assert record["household"]["room"] == "0101"
    # The care file: its existence and the visit dates, not the staff's notes.
    assert record["care_file"]["visit_dates"] == [timezone.localdate().isoformat()]
    assert "腿脚不便" not in response.content.decode()
    [petition] = data["petitions"]
    assert petition["description"].endswith(PHONE)
    kinds = [event["kind"] for event in petition["events"]]
    assert kinds[0] == "submitted" and kinds[-1] == "note"
    assert data["volunteer"]["hours"][0]["hours"] == "2.0"
    assert data["deliberation"]["supports"] == [history["topic"].pk]


def test_the_api_gives_the_same_data_and_only_to_residents(resident_user, community_staff,
                                                           history):
    api = APIClient()
    api.force_authenticate(resident_user)
    data = api.get(reverse("api:me-data")).json()
    assert data["residents"][0]["id_number"] == ID_NUMBER
    api.force_authenticate(community_staff)
    assert api.get(reverse("api:me-data")).status_code == 403
    assert APIClient().get(reverse("api:me-data")).status_code in (401, 403)


def test_staff_approval_leaves_no_trace_of_phone_name_or_id_number(
        client, resident_user, community_staff, history, django_capture_on_commit_callbacks):
    assert set(traces(PHONE, NAME, ID_NUMBER)) >= {  # the scan finds them before
        "residents_resident.name", "residents_resident.phone", "residents_resident.id_number",
        "petitions_petition.description", "volunteers_carefile.health_notes",
        "core_auditevent.object_repr"}
    client.force_login(resident_user)
    client.post(reverse("accounts:deletion-create"), {"reason": f"搬走了，{PHONE}停用"})
    deletion_request = DeletionRequest.objects.get(user=resident_user)

    deletion_request_approve(deletion_request=deletion_request, actor=community_staff)

    assert traces(PHONE, NAME, ID_NUMBER) == []
    # JSON columns hold "\u738b…" escapes the raw scan does not match: read the message itself.
    keyed = Notification.objects.get(user=community_staff, title_key__startswith="党员")
    assert NAME not in keyed.display_title and NAME not in json.dumps(keyed.params,
                                                                    ensure_ascii=False)
    user = User.objects.get(pk=resident_user.pk)
    assert (user.is_active, user.phone, user.display_name) == (False, None, "已注销居民")
    # What must stay, stays: the petition and its timeline, the vote, the hours, the visits.
    petition = Petition.objects.get(pk=history["petition"].pk)
    assert petition.description == "***反映：楼道堆物，请回电 ***"
    assert petition.events.filter(kind="note").exists() and petition.submitter_id == user.pk
    assert not PetitionPhoto.objects.filter(petition=petition).exists()
    assert TopicSupport.objects.filter(topic=history["topic"]).count() == 1
    assert HoursEntry.objects.get().hours == Decimal(2)
    assert history["care_file"].visits.count() == 1
    assert Resident.objects.get(pk=history["care_file"].resident_id).name == "已注销居民"
    assert OutboundMessage.objects.count() == 0
    # The session died with the account; the phone can sign up afresh as a new person.
    assert client.get(reverse("accounts:my-data")).status_code == 302


def test_only_staff_in_scope_decide_and_a_rejected_request_changes_nothing(
        resident_user, outsider, microgrid_worker, community_staff, history):
    deletion_request = deletion_request_create(user=resident_user, reason="")
    with pytest.raises(ApplicationError, match="您已提交注销申请"):
        deletion_request_create(user=resident_user)  # one pending request at a time
    for actor in (outsider, microgrid_worker, resident_user):
        with pytest.raises(PermissionDeniedError, match="您无权审核该注销申请"):
            deletion_request_approve(deletion_request=deletion_request, actor=actor)
    deletion_request_reject(deletion_request=deletion_request, actor=community_staff)
    assert User.objects.get(pk=resident_user.pk).phone == PHONE
    with pytest.raises(ApplicationError, match="不能从“未通过”变为“已注销”"):
        deletion_request_approve(deletion_request=deletion_request, actor=community_staff)


def test_community_staff_approve_from_the_admin(client, resident_user, community_staff,
                                                history):
    deletion_request = deletion_request_create(user=resident_user, reason="")
    # The staff whose scope covers the household are told (and only they).
    assert list(Notification.objects.filter(title="新的注销申请")
                .values_list("user_id", flat=True)) == [community_staff.pk]
    client.force_login(community_staff)
    # The message's own link opens the list the staff member decides from.
    changelist = Notification.objects.get(title="新的注销申请").link
    assert changelist == reverse("admin:privacy_deletionrequest_changelist")
    assert client.get(changelist).status_code == 200
    client.post(changelist, {"action": "approve", "_selected_action": [deletion_request.pk]})
    assert DeletionRequest.objects.get().status == DeletionRequest.Status.APPROVED
    assert traces(PHONE) == []


def test_a_resident_asks_over_the_api_and_withdraws_on_the_page(client, resident_user):
    api = APIClient()
    api.force_authenticate(resident_user)
    url = reverse("api:me-deletion-request")
    created = api.post(url, {"reason": "不再使用"}, format="json")
    assert created.status_code == 201 and created.json()["status"] == "pending"
    assert api.post(url, {}, format="json").status_code == 400  # one pending at a time

    client.force_login(resident_user)
    assert "撤回注销申请" in client.get(reverse("accounts:my-data")).content.decode()
    client.post(reverse("accounts:deletion-cancel"))
    assert DeletionRequest.objects.get().status == DeletionRequest.Status.CANCELLED
    assert User.objects.get(pk=resident_user.pk).is_active  # nothing was deleted


def test_every_app_holding_personal_data_is_found_by_the_privacy_registry():
    """Each app's privacy.py is discovered at start-up; a section declared twice, or missing
    from the download's fixed order, stops start-up rather than a resident's download."""
    from types import SimpleNamespace

    from django.core.exceptions import ImproperlyConfigured

    from privacy import registry, selectors

    assert [part.app_label for part in registry.parts] == [
        "accounts", "notifications", "residents", "petitions", "deliberation", "volunteers"]
    assert [part.app_label for part in registry.parts if part.anonymise] == [
        "accounts", "residents", "petitions", "deliberation", "volunteers"]
    selectors.sections_check()
    stray = registry.part_of("stray", SimpleNamespace(
        __name__="stray.privacy", EXPORT_SECTIONS={"petitions": lambda *, user: []}))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(registry, "parts", [*registry.parts, stray])
        with pytest.raises(ImproperlyConfigured):
            selectors.sections_check()
