"""The visit: the worker's page says where to go, 办结 needs a check-in (or a recorded reason such
as 电话办结, which counts as not arrived on time), a result photo when the category asks for one,
and a refused verification sends the petition back with check-in open (issue 11, item 4)."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from core.exceptions import ApplicationError
from petitions import selectors, services
from petitions.models import Petition, PetitionEvent
from tests.petitions.conftest import MONDAY_9AM, SHANGHAI
from tests.petitions.factories import category, photo, submit

pytestmark = pytest.mark.django_db
State = Petition.State
Kind = PetitionEvent.Kind


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def staff_page(user, petition: Petition) -> str:
    response = client_for(user).get(reverse("petitions:staff-detail", args=[petition.pk]))
    assert response.status_code == 200
    return unescape(response.content.decode())


# --- 办结 needs a check-in -------------------------------------------------------------------


def test_resolve_is_refused_until_the_holder_has_checked_in(frozen, resident_user,
                                                           microgrid_worker):
    petition = submit(resident_user)
    with pytest.raises(ApplicationError, match="请先到场签到再办结") as error:
        services.petition_resolve(petition_id=petition.pk, actor=microgrid_worker,
                                  resolution="已清理")
    assert "到场签到" in error.value.message
    petition.refresh_from_db()
    assert petition.state == State.DISPATCHED
    assert not petition.events.filter(kind=Kind.RESOLVED).exists()


def test_the_resolve_form_without_check_in_shows_the_refusal_and_keeps_the_petition_open(
        frozen, resident_user, microgrid_worker):
    petition = submit(resident_user)
    response = client_for(microgrid_worker).post(
        reverse("petitions:staff-resolve", args=[petition.pk]), {"resolution": "已清理"},
        follow=True)
    assert "请先到场签到" in unescape(response.content.decode())
    petition.refresh_from_db()
    assert petition.state == State.DISPATCHED


def test_a_phone_resolution_is_recorded_and_counts_as_not_arrived_on_time(
        frozen, resident_user, microgrid_worker, street_admin):
    petition = submit(resident_user)
    frozen.shift(timedelta(minutes=3))  # well inside the 7 minutes: still not an arrival
    petition = services.petition_resolve(petition_id=petition.pk, actor=microgrid_worker,
                                         resolution="电话告知物业，已清理",
                                         no_visit_reason="phone")
    assert petition.state == State.RESOLVED
    assert petition.no_visit_reason == "phone"
    assert petition.arrived_at is None
    assert petition.arrival_missed is True
    assert petition.resolved_on_time is True  # the resolution clock is another matter
    # The result is the resident's; how it was done without a visit, an internal note beside it.
    assert petition.events.get(kind=Kind.RESOLVED).note == "电话告知物业，已清理"
    assert petition.events.get(kind=Kind.NOTE, is_internal=True).note == "未到场办结：电话办结"
    rates = selectors.petition_rates(user=street_admin, start=MONDAY_9AM - timedelta(days=1),
                                     end=MONDAY_9AM + timedelta(days=1))
    assert (rates[0]["response_rate"], rates[0]["response_sample"]) == (0.0, 1)


def test_a_checked_in_resolution_counts_as_arrived_on_time(frozen, resident_user,
                                                           microgrid_worker, street_admin):
    petition = submit(resident_user)
    frozen.shift(timedelta(minutes=5))
    services.petition_check_in(petition_id=petition.pk, actor=microgrid_worker)
    services.petition_resolve(petition_id=petition.pk, actor=microgrid_worker,
                              resolution="已清理")
    rates = selectors.petition_rates(user=street_admin, start=MONDAY_9AM - timedelta(days=1),
                                     end=MONDAY_9AM + timedelta(days=1))
    assert (rates[0]["response_rate"], rates[0]["response_sample"]) == (1.0, 1)


def test_the_other_reason_needs_an_explanation_and_an_unknown_reason_is_refused(
        frozen, resident_user, microgrid_worker):
    petition = submit(resident_user)
    with pytest.raises(ApplicationError, match="请说明未到场办结的原因") as error:
        services.petition_resolve(petition_id=petition.pk, actor=microgrid_worker,
                                  resolution="已处理", no_visit_reason="other")
    assert "说明" in error.value.message
    with pytest.raises(ApplicationError, match="未到场办结原因无效"):
        services.petition_resolve(petition_id=petition.pk, actor=microgrid_worker,
                                  resolution="已处理", no_visit_reason="telepathy")
    petition = services.petition_resolve(
        petition_id=petition.pk, actor=microgrid_worker, resolution="已处理",
        no_visit_reason="other", no_visit_note="居民已自行解决，来电撤回")
    assert petition.no_visit_reason == "other"
    assert petition.no_visit_note == "居民已自行解决，来电撤回"
    assert petition.events.get(kind=Kind.NOTE, is_internal=True).note == (
        "未到场办结：居民已自行解决，来电撤回")


def test_a_no_visit_reason_is_refused_after_a_check_in(frozen, resident_user, microgrid_worker):
    petition = submit(resident_user)
    services.petition_check_in(petition_id=petition.pk, actor=microgrid_worker)
    with pytest.raises(ApplicationError, match="已到场签到，无需选择未到场办结原因") as error:
        services.petition_resolve(petition_id=petition.pk, actor=microgrid_worker,
                                  resolution="已清理", no_visit_reason="phone")
    assert "已到场" in error.value.message


def test_the_api_resolves_with_a_reason_and_refuses_without_check_in(
        frozen, resident_user, microgrid_worker):
    petition = submit(resident_user)
    client = client_for(microgrid_worker)
    url = reverse("api:petition-resolve", args=[petition.pk])
    refused = client.post(url, {"resolution": "已清理"}, content_type="application/json")
    assert refused.status_code == 400
    assert "到场签到" in refused.json()["message"]
    accepted = client.post(url, {"resolution": "电话沟通后已清理", "no_visit_reason": "phone"},
                           content_type="application/json")
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["no_visit_reason"] == "phone"
    assert accepted.json()["arrival_missed"] is True


# --- the result photo ------------------------------------------------------------------------


def test_a_category_that_asks_for_a_result_photo_refuses_resolve_without_one(
        frozen, resident_user, microgrid_worker):
    rubbish = category("环境卫生")
    rubbish.requires_result_photo = True
    rubbish.save(update_fields=["requires_result_photo"])
    petition = submit(resident_user, category=rubbish)
    services.petition_check_in(petition_id=petition.pk, actor=microgrid_worker)
    with pytest.raises(ApplicationError, match="“环境卫生”类诉求办结时须上传现场照片") as error:
        services.petition_resolve(petition_id=petition.pk, actor=microgrid_worker,
                                  resolution="已清理")
    assert "照片" in error.value.message
    petition = services.petition_resolve(petition_id=petition.pk, actor=microgrid_worker,
                                         resolution="已清理", photos=[photo()])
    assert petition.state == State.RESOLVED
    assert petition.events.get(kind=Kind.RESOLVED).photos.count() == 1


def test_a_category_without_the_rule_resolves_without_a_photo(frozen, resident_user,
                                                              microgrid_worker):
    petition = submit(resident_user, category=category("邻里纠纷"))
    services.petition_check_in(petition_id=petition.pk, actor=microgrid_worker)
    petition = services.petition_resolve(petition_id=petition.pk, actor=microgrid_worker,
                                         resolution="已调解")
    assert petition.state == State.RESOLVED


def test_the_resolve_form_says_when_the_photo_is_required(frozen, resident_user,
                                                          microgrid_worker):
    rubbish = category("环境卫生")
    rubbish.requires_result_photo = True
    rubbish.save(update_fields=["requires_result_photo"])
    petition = submit(resident_user, category=rubbish)
    services.petition_check_in(petition_id=petition.pk, actor=microgrid_worker)
    page = staff_page(microgrid_worker, petition)
    assert "现场照片（必传" in page
    assert 'name="no_visit_reason"' not in page  # checked in: no reason to give


# --- 核实未通过: back to the holder, check-in open ----------------------------------------------


def test_a_refused_verification_reopens_check_in_and_a_second_check_in_is_recorded(
        frozen, resident_user, microgrid_worker, grid_worker):
    petition = submit(resident_user)
    frozen.shift(timedelta(minutes=4))
    services.petition_check_in(petition_id=petition.pk, actor=microgrid_worker)
    services.petition_resolve(petition_id=petition.pk, actor=microgrid_worker,
                              resolution="已清理")
    frozen.shift(timedelta(hours=1))
    petition = services.petition_verify(petition_id=petition.pk, actor=grid_worker,
                                        accepted=False, note="楼道里仍有杂物")
    assert petition.state == State.DISPATCHED
    assert petition.holder_id == microgrid_worker.pk
    assert petition.arrived_at is None
    # A fresh arrival clock from the refusal.
    assert petition.arrival_due_at == MONDAY_9AM + timedelta(hours=1, minutes=11)

    page = staff_page(microgrid_worker, petition)
    assert reverse("petitions:staff-check-in", args=[petition.pk]) in page
    with pytest.raises(ApplicationError, match="请先到场签到再办结"):
        services.petition_resolve(petition_id=petition.pk, actor=microgrid_worker,
                                  resolution="又清理了一遍")

    frozen.shift(timedelta(minutes=5))
    petition = services.petition_check_in(petition_id=petition.pk, actor=microgrid_worker)
    assert petition.state == State.ON_SITE
    assert petition.arrived_at == MONDAY_9AM + timedelta(hours=1, minutes=9)
    assert petition.arrival_missed is False
    assert petition.events.filter(kind=Kind.CHECKED_IN).count() == 2
    petition = services.petition_resolve(petition_id=petition.pk, actor=microgrid_worker,
                                         resolution="又清理了一遍")
    assert petition.state == State.RESOLVED


def test_a_refused_verification_clears_the_no_visit_reason_of_the_first_round(
        frozen, resident_user, microgrid_worker, grid_worker):
    petition = submit(resident_user)
    services.petition_resolve(petition_id=petition.pk, actor=microgrid_worker,
                              resolution="电话沟通", no_visit_reason="phone")
    petition = services.petition_verify(petition_id=petition.pk, actor=grid_worker,
                                        accepted=False, note="须到现场查看")
    assert petition.no_visit_reason == ""
    assert petition.arrival_missed is True  # the first round's miss stays on the record


# --- the worker's page -----------------------------------------------------------------------


def test_the_staff_page_shows_unit_room_and_the_residents_own_words(
        frozen, territory, resident_user, microgrid_worker):
    petition = submit(resident_user, household=territory.household1,
                      description="楼道灯坏了三天，晚上看不见台阶")
    assert (petition.unit_number, petition.room) == ("1", "0101")
    page = staff_page(microgrid_worker, petition)
    assert "长江瑞城 1号楼" in page
    assert "1单元" in page
    assert "0101" in page
    assert "居民原话" in page
    assert "楼道灯坏了三天，晚上看不见台阶" in page
    # Both clocks: the arrival countdown (not yet checked in) and the resolution deadline.
    assert f'data-deadline="{petition.arrival_due_at.astimezone(SHANGHAI).isoformat()}"' in page
    assert f'data-deadline="{petition.due_at.astimezone(SHANGHAI).isoformat()}"' in page


def test_after_a_phone_resolution_the_page_still_says_there_was_no_visit(
        frozen, resident_user, microgrid_worker):
    petition = submit(resident_user)
    services.petition_resolve(petition_id=petition.pk, actor=microgrid_worker,
                              resolution="电话沟通后已解决", no_visit_reason="phone")
    page = staff_page(microgrid_worker, petition)
    assert "未到场办结 · 电话办结" in page


def test_a_unit_picked_without_a_household_is_kept(frozen, territory, resident_user,
                                                  microgrid_worker):
    response = client_for(resident_user).post(reverse("petitions:create"), {
        "category": category().pk, "description": "1单元门禁坏了",
        "compound": territory.compound.pk, "building": territory.building1.pk,
        "unit": territory.unit1.pk, "household": "", "location_text": ""})
    assert response.status_code == 302, response.content
    petition = Petition.objects.get()
    assert (petition.household_id, petition.unit_number, petition.room) == (None, "1", "")
    assert "1单元" in staff_page(microgrid_worker, petition)


def test_an_address_with_unit_and_room_keeps_them_for_the_visit(frozen, territory,
                                                              microgrid_worker):
    from tests.petitions.factories import external_system

    system = external_system()
    petition = submit(system, channel=Petition.Channel.HOTLINE_12345,
                      location_text="长江瑞城 1号楼 2单元 502")
    assert petition.building_id == territory.building1.pk
    assert (petition.unit_number, petition.room) == ("2", "502")


def test_the_duplicate_hint_links_to_the_petitions_the_viewer_may_see(
        frozen, territory, resident_user, microgrid_worker, grid_worker):
    from tests.accounts.factories import UserFactory

    first = submit(resident_user, building=territory.building1)
    # The building moves to 微网格二 (the admin redraws the micro-grids): the old petition stays
    # where it was, the new ones go to 微网格二's worker, who cannot see the old one.
    territory.building1.micro_grid = territory.micro2
    territory.building1.save(update_fields=["micro_grid"])
    micro2_worker = UserFactory(username="micro2", role="microgrid_worker",
                                scope_area=territory.micro2)
    second = submit(resident_user, building=territory.building1)
    third = submit(resident_user, building=territory.building1)
    assert second.holder_id == micro2_worker.pk

    def link(petition: Petition) -> str:
        return f'href="{reverse("petitions:staff-detail", args=[petition.pk])}"'

    page = staff_page(grid_worker, first)  # the grid sees all three
    assert link(second) in page and link(third) in page
    page = staff_page(micro2_worker, second)
    assert link(third) in page
    assert link(first) not in page
    page = staff_page(microgrid_worker, first)
    assert link(second) not in page and link(third) not in page
