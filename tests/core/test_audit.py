"""The audit log (PIPL): admin changes with the fields changed (never their values), reveals and
exports of masked data, the request id and IP; read-only in the admin, for street admins only."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from core.audit import audit_event_record
from core.models import AuditEvent
from governance.services import staff_groups_ensure
from tests.residents.factories import residents_populate


@pytest.fixture
def people(territory):
    return residents_populate([territory.household1, territory.other_household], per_household=1)


@pytest.fixture
def staff_client(client, community_staff):
    staff_groups_ensure()
    client.force_login(community_staff)
    return client


def change_data(resident, **changes):
    data = {"household": resident.household_id, "name": resident.name, "phone": resident.phone,
            "id_number": resident.id_number, "gender": resident.gender,
            "birth_year": resident.birth_year or "", "tags": resident.tags,
            "is_household_head": "on" if resident.is_household_head else ""}
    return {key: value for key, value in {**data, **changes}.items() if value != ""}


def test_an_admin_change_is_audited_with_field_names_ip_and_request_id_but_no_values(
        territory, staff_client, community_staff, people):
    resident = people[0]
    url = reverse("admin:residents_resident_change", args=[resident.pk])
    response = staff_client.post(url, change_data(resident, phone="13711112222"),
                                 REMOTE_ADDR="10.1.2.3", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action=AuditEvent.Action.CHANGE)
    assert (event.actor, event.object_type, event.object_id, event.fields, event.ip,
            event.request_id) == (community_staff, "residents.resident", str(resident.pk),
                                  ["phone"], "10.1.2.3", "req-42")
    assert response["X-Request-ID"] == "req-42"
    row = AuditEvent.objects.filter(pk=event.pk).values().get()
    assert not any("13711112222" in str(value) or resident.phone in str(value)
                   for value in row.values())


def test_opening_a_change_form_with_whole_numbers_is_an_audited_reveal(
        territory, staff_client, people):
    resident = people[0]
    response = staff_client.get(reverse("admin:residents_resident_change", args=[resident.pk]))
    assert response.status_code == 200
    event = AuditEvent.objects.get()
    assert (event.action, event.fields) == ("reveal", ["id_number", "phone"])
    assert event.request_id == response["X-Request-ID"]


def test_a_reveal_in_the_admin_list_is_post_only_scoped_and_audited(
        territory, staff_client, people):
    inside, outside = people
    url = reverse("admin:residents_resident_reveal", args=[inside.pk, "phone"])
    assert staff_client.get(url).status_code == 405
    assert staff_client.post(url).json() == {"value": inside.phone}
    outside_url = reverse("admin:residents_resident_reveal", args=[outside.pk, "phone"])
    assert staff_client.post(outside_url).status_code == 404
    bad_field = reverse("admin:residents_resident_reveal", args=[inside.pk, "name"])
    assert staff_client.post(bad_field).status_code == 404
    assert list(AuditEvent.objects.values_list("action", "object_id", "fields")) == [
        ("reveal", str(inside.pk), ["phone"])]


def test_a_delete_is_audited_and_survives_the_log_entrys_deletion(
        territory, client, street_admin, people):
    client.force_login(street_admin)
    resident = people[1]
    url = reverse("admin:residents_resident_delete", args=[resident.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    LogEntry.objects.all().delete()
    event = AuditEvent.objects.get(action=AuditEvent.Action.DELETE)
    assert (event.object_id, event.actor) == (str(resident.pk), street_admin)


def test_an_export_is_audited(territory, client, street_admin, people):
    client.force_login(street_admin)
    response = client.post(reverse("admin:residents_resident_export"),
                           {"format": "1", "resource": "0", "export_items": [
                               resident.pk for resident in people],
                            **{f"residentresource_{name}": "on" for name in (
                                "name", "phone", "id_number")}})
    assert response.status_code == 200, response.content.decode()[:1000]
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert (event.object_type, event.actor, event.fields) == (
        "residents.resident", street_admin, ["id_number", "phone"])


def test_the_audit_log_is_read_only_and_only_street_admins_read_it(
        territory, client, staff_client, street_admin, people):
    staff_client.get(reverse("admin:residents_resident_change", args=[people[0].pk]))
    event = AuditEvent.objects.get()
    assert staff_client.get(reverse("admin:core_auditevent_changelist")).status_code == 403
    export = audit_event_record(action=AuditEvent.Action.EXPORT, object_type="residents.resident",
                                object_repr="9 居民", actor=street_admin)
    client.force_login(street_admin)
    changelist = reverse("admin:core_auditevent_changelist")
    assert set(client.get(changelist).context["cl"].result_list) == {event, export}
    listing = client.get(changelist, {"action__exact": "reveal"})
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [event]
    assert client.get(reverse("admin:core_auditevent_add")).status_code == 403
    assert client.post(reverse("admin:core_auditevent_delete", args=[event.pk]),
                       {"post": "yes"}).status_code == 403
    detail = client.post(reverse("admin:core_auditevent_change", args=[event.pk]),
                         {"action": "delete"})
    assert detail.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk, action="reveal").exists()


def test_a_households_change_form_audits_a_reveal_for_each_resident_it_shows(
        territory, staff_client, people):
    household = territory.household1
    url = reverse("admin:residents_household_change", args=[household.pk])
    assert staff_client.get(url).status_code == 200
    revealed = set(AuditEvent.objects.filter(action="reveal", object_type="residents.resident")
                   .values_list("object_id", flat=True))
    assert revealed == {str(resident.pk) for resident in people
                        if resident.household_id == household.pk}


def test_the_change_pages_of_accounts_and_sms_messages_audit_the_whole_phone_they_show(
        territory, client, street_admin, resident_user):
    from notifications.models import OutboundMessage

    message = OutboundMessage.objects.create(recipient=resident_user.phone, body="您好")
    client.force_login(street_admin)
    for url in (reverse("admin:accounts_user_change", args=[resident_user.pk]),
                reverse("admin:notifications_outboundmessage_change", args=[message.pk])):
        assert client.get(url).status_code == 200
    assert sorted(AuditEvent.objects.values_list("object_type", "fields")) == [
        ("accounts.user", ["phone"]), ("notifications.outboundmessage", ["recipient"])]


def test_a_bulk_delete_audits_every_row_although_django_bulk_creates_its_log_entries(
        territory, client, street_admin, people):
    client.force_login(street_admin)
    response = client.post(reverse("admin:residents_resident_changelist"), {
        "action": "delete_selected", "_selected_action": [resident.pk for resident in people],
        "post": "yes"})
    assert response.status_code == 302
    assert sorted(AuditEvent.objects.filter(action="delete").values_list("object_id", flat=True)
                  ) == sorted(str(resident.pk) for resident in people)
    assert set(AuditEvent.objects.values_list("actor", flat=True)) == {street_admin.pk}
