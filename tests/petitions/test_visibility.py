"""Who reads a petition's notes (issue 13, item 2): the resident follows every step of their
petition, but what staff write to each other (a return's reason, a dispatch note, an internal
note) stays with staff. A note is internal or for the resident, chosen when it is written;
staff-only actions default to internal."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from notifications.models import Notification, OutboundMessage
from petitions import services
from petitions.models import PetitionEvent
from tests.petitions.factories import submit

pytestmark = pytest.mark.django_db

REASON = "不属于本微网格"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def status_page(user: Any, petition: Any) -> str:
    return client_for(user).get(reverse("petitions:status", args=[petition.pk])).content.decode()


def test_a_return_shows_the_resident_the_step_but_not_the_staff_reason(
        territory, resident_user, microgrid_worker):
    petition = submit(resident_user)
    services.petition_return(petition_id=petition.pk, actor=microgrid_worker, reason=REASON)
    resident_view = status_page(resident_user, petition)
    assert "<strong>退回</strong>" in resident_view
    assert REASON not in resident_view
    assert "自动派单" not in resident_view  # the dispatch step, without the staff's note
    assert "<strong>派单</strong>" in resident_view
    assert REASON in status_page(microgrid_worker, petition)


def test_a_staff_note_is_internal_unless_written_for_the_resident(
        territory, resident_user, microgrid_worker):
    petition = submit(resident_user)
    staff = client_for(microgrid_worker)
    form = staff.get(reverse("petitions:staff-detail", args=[petition.pk])).context["forms"]["note"]
    assert form["visibility"].initial == "internal"
    url = reverse("petitions:staff-note-create", args=[petition.pk])
    staff.post(url, {"note": "物业经理说周五前不一定能修"})
    staff.post(url, {"note": "已联系物业，明天上午维修", "visibility": "resident"})
    notes = dict(PetitionEvent.objects.filter(kind="note").values_list("note", "is_internal"))
    assert notes == {"物业经理说周五前不一定能修": True, "已联系物业，明天上午维修": False}
    resident_view = status_page(resident_user, petition)
    assert "已联系物业，明天上午维修" in resident_view
    assert "物业经理" not in resident_view


def test_a_phone_resolution_tells_the_resident_the_result_not_the_no_visit_wording(
        territory, resident_user, microgrid_worker):
    petition = submit(resident_user)
    services.petition_resolve(petition_id=petition.pk, actor=microgrid_worker,
                              resolution="电话沟通后已解决", no_visit_reason="phone")
    page = client_for(resident_user).get(reverse("petitions:detail", args=[petition.pk]))
    text = page.content.decode()
    assert "电话沟通后已解决" in text
    assert "未到场" not in text
    # Staff still read why there was no visit, on the timeline and on the clock.
    assert status_page(microgrid_worker, petition).count("未到场办结") == 2


def test_the_residents_api_timeline_has_the_step_without_the_internal_note(
        territory, resident_user, microgrid_worker):
    petition = submit(resident_user)
    services.petition_add_note(petition_id=petition.pk, actor=microgrid_worker,
                               note="内部：先别告诉居民")
    services.petition_return(petition_id=petition.pk, actor=microgrid_worker, reason=REASON)

    def timeline(user: Any) -> list[dict[str, Any]]:
        client = APIClient()
        client.force_authenticate(user)
        return client.get(f"/api/v1/petitions/{petition.pk}/").json()["timeline"]

    mine = {event["kind"]: event for event in timeline(resident_user)}
    assert set(mine) == {"submitted", "dispatched", "returned"}  # the internal note: not at all
    assert (mine["returned"]["note"], mine["returned"]["is_internal"]) == ("", True)
    staff = {event["kind"]: event["note"] for event in timeline(microgrid_worker)}
    assert staff["returned"] == REASON


def test_the_residents_messages_carry_no_internal_note(
        territory, resident_user, microgrid_worker, grid_worker):
    petition = submit(resident_user)
    services.petition_return(petition_id=petition.pk, actor=microgrid_worker, reason=REASON)
    services.petition_refer_to_deliberation(petition_id=petition.pk, actor=grid_worker,
                                            note="网格员：物业推诿，交议事会")
    messages = dict(Notification.objects.filter(user=resident_user).values_list("title", "body"))
    # Told of each step (the automatic dispatch, the return, the referral), never why.
    assert sorted(messages) == sorted(f"诉求 #{petition.pk}：{kind}"
                                      for kind in ("派单", "退回", "转议事"))
    assert set(messages.values()) == {petition.description}
    referral_sms = OutboundMessage.objects.get(body__contains="转议事")
    assert "物业推诿" not in referral_sms.body


def test_the_migration_hides_the_staff_wording_already_written(
        territory, resident_user, microgrid_worker):
    petition = submit(resident_user)
    services.petition_return(petition_id=petition.pk, actor=microgrid_worker, reason=REASON)
    PetitionEvent.objects.create(petition=petition, kind="escalated", to_tier="grid",
                                 note="超过时限未办结，自动升级至网格。")  # the sweep's, no actor
    PetitionEvent.objects.update(is_internal=False)  # as every row was before
    migration = importlib.import_module("petitions.migrations.0012_petition_event_visibility")
    migration.hide_staff_notes(apps, None)
    internal = dict(PetitionEvent.objects.values_list("kind", "is_internal"))
    assert internal == {"submitted": False, "dispatched": True, "returned": True,
                        "escalated": False}


def test_the_residents_data_export_reads_as_their_pages_do(
        territory, resident_user, microgrid_worker):
    from privacy.selectors import personal_data_export

    petition = submit(resident_user)
    services.petition_add_note(petition_id=petition.pk, actor=microgrid_worker,
                               note="内部：先别告诉居民")
    services.petition_return(petition_id=petition.pk, actor=microgrid_worker, reason=REASON)
    [exported] = personal_data_export(user=resident_user)["petitions"]
    assert [(event["kind"], event["note"]) for event in exported["events"]] == [
        ("submitted", ""), ("dispatched", ""), ("returned", "")]


def test_texts_go_out_in_chinese_when_an_english_page_caused_them(territory, resident_user,
                                                                  microgrid_worker):
    from django.utils import translation

    from tests.petitions.factories import resolve_after_visit

    with translation.override("en"):
        petition = submit(resident_user)
        resolve_after_visit(petition_id=petition.pk, actor=microgrid_worker,
                            resolution="已清理楼道杂物")

    bodies = list(OutboundMessage.objects.values_list("body", flat=True))
    assert bodies and all(body.startswith("【有事您说话】") for body in bodies), bodies
    assert any("已办结" in body or "办结" in body for body in bodies), bodies
