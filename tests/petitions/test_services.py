"""Workflow services: the 7135 rules, the transition guard, the permission matrix, side effects."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from accounts.models import User
from core.exceptions import ApplicationError, InvalidTransition, PermissionDeniedError
from governance.models import StaffPost
from notifications.models import Notification, OutboundMessage
from petitions import policy, services
from petitions.models import Petition, PetitionEvent, PetitionPhoto, SlaPolicy
from tests.accounts.factories import UserFactory
from tests.petitions.conftest import SHANGHAI
from tests.petitions.factories import category, external_system, photo, resolve_after_visit, submit

pytestmark = pytest.mark.django_db
State = Petition.State


def _to_verified(petition, holder, verifier):
    services.petition_check_in(petition_id=petition.pk, actor=holder)
    services.petition_resolve(petition_id=petition.pk, actor=holder, resolution="已清理")
    return services.petition_verify(petition_id=petition.pk, actor=verifier)


# --- submission and the clock ---------------------------------------------------------------


def test_a_resident_petition_is_placed_on_the_microgrid_and_dispatched_to_its_worker(
        resident_user, microgrid_worker, territory):
    petition = submit(resident_user)
    assert petition.state == State.DISPATCHED
    assert petition.holder_id == microgrid_worker.pk
    assert petition.area_id == territory.micro1.pk
    assert petition.area_path == territory.micro1.path == petition.origin_path
    assert petition.tier == "microgrid"
    assert petition.contact_phone == resident_user.phone
    assert petition.arrival_due_at - petition.submitted_at == timedelta(minutes=7)
    assert petition.due_at - petition.submitted_at == timedelta(days=1)
    assert petition.grid_due_at - petition.submitted_at == timedelta(days=3)
    assert petition.street_due_at - petition.submitted_at == timedelta(days=5)
    kinds = list(petition.events.values_list("kind", flat=True))
    assert kinds == ["submitted", "dispatched"]


def test_without_a_microgrid_worker_the_petition_waits_for_the_dispatcher(resident_user):
    petition = submit(resident_user)
    assert petition.state == State.SUBMITTED
    assert petition.holder_id is None


def test_a_staff_post_with_an_account_is_found_as_the_microgrid_worker(resident_user, territory):
    worker = UserFactory(username="post-holder", role=User.Role.RESIDENT)
    StaffPost.objects.create(kind=StaffPost.Kind.MICROGRID_WORKER, holder_name="赵师傅",
                             user=worker, area=territory.micro1, starts_on="2026-01-01")
    petition = submit(resident_user)
    assert petition.holder_id == worker.pk


def test_the_working_day_policy_counts_over_national_day(resident_user, microgrid_worker):
    policy = SlaPolicy.current()
    policy.calendar = SlaPolicy.Calendar.WORKING_DAYS
    policy.save()
    with time_machine.travel(datetime(2026, 9, 30, 10, tzinfo=SHANGHAI), tick=False):
        petition = submit(resident_user)
    assert petition.due_at.astimezone(SHANGHAI).date().isoformat() == "2026-10-08"
    assert petition.grid_due_at.astimezone(SHANGHAI).date().isoformat() == "2026-10-10"


@pytest.mark.parametrize(("size", "tier"), [("big", "grid"), ("hard", "street")])
def test_staff_triage_at_intake_places_big_and_hard_matters_higher(
        size, tier, community_staff, grid_worker, street_admin, territory):
    petition = submit(community_staff, channel="walk_in", building=territory.building1,
                      size=size)
    assert petition.tier == tier
    assert petition.due_at == policy.tier_deadline(petition, tier)
    assert petition.holder_id == (grid_worker.pk if tier == "grid" else street_admin.pk)
    assert petition.recorded_by_id == community_staff.pk
    assert petition.submitter_id is None


def test_triage_later_moves_a_petition_up_but_keeps_acceptance_as_the_clock_start(
        resident_user, microgrid_worker, community_staff, grid_worker):
    petition = submit(resident_user)
    petition = services.petition_triage(petition_id=petition.pk, actor=community_staff,
                                        size="big")
    assert (petition.tier, petition.holder_id) == ("grid", grid_worker.pk)
    assert petition.due_at - petition.submitted_at == timedelta(days=3)


def test_a_resident_cannot_submit_for_someone_elses_household(resident_user, territory):
    with pytest.raises(PermissionDeniedError, match="只能为自己的住户提交诉求"):
        submit(resident_user, household=territory.household2)


def test_an_anonymous_petition_needs_a_callback_phone(territory):
    with pytest.raises(ApplicationError, match="匿名提交须留下已验证的回访电话"):
        services.petition_submit(actor=None, category=category(), description="路灯坏了",
                                 building=territory.building1)
    petition = submit(None, building=territory.building1)
    assert petition.submitter_id is None
    assert petition.contact_phone == "13700000000"


def test_a_retried_external_submission_returns_the_first_petition(territory):
    hotline = external_system()
    first = submit(hotline, channel="hotline_12345", building=territory.building1,
                   external_ref="12345-0001")
    again = submit(hotline, channel="hotline_12345", building=territory.building1,
                   external_ref="12345-0001")
    assert again.pk == first.pk
    assert Petition.objects.count() == 1
    assert first.external_system_id == hotline.pk


def test_up_to_three_photos_are_stored_re_encoded(resident_user):
    petition = submit(resident_user, photos=[photo(), photo(color="blue"), photo()])
    stored = list(PetitionPhoto.objects.filter(petition=petition))
    assert len(stored) == 3
    assert all(row.image.name.endswith(".jpg") for row in stored)
    assert all(row.event.kind == "submitted" for row in stored)


def test_a_fourth_photo_is_refused_and_nothing_is_stored(resident_user):
    with pytest.raises(ValidationError, match="最多上传 3 张照片"):
        submit(resident_user, photos=[photo(), photo(), photo(), photo()])
    assert Petition.objects.count() == 0


def test_a_file_that_is_not_an_image_is_refused(resident_user):
    fake = SimpleUploadedFile("x.jpg", b"<html>not an image</html>", content_type="image/jpeg")
    with pytest.raises(ValidationError, match="请上传 JPEG、PNG 或 WebP 格式的照片"):
        submit(resident_user, photos=[fake])
    assert Petition.objects.count() == 0
    assert PetitionPhoto.objects.count() == 0


# --- arrival ---------------------------------------------------------------------------------


def test_checking_in_within_seven_minutes_is_on_time(frozen, resident_user, microgrid_worker):
    petition = submit(resident_user)
    frozen.shift(timedelta(minutes=6, seconds=59))
    petition = services.petition_check_in(petition_id=petition.pk, actor=microgrid_worker)
    assert petition.state == State.ON_SITE
    assert not petition.arrival_missed


def test_checking_in_after_seven_minutes_records_a_missed_arrival(
        frozen, resident_user, microgrid_worker):
    petition = submit(resident_user)
    frozen.shift(timedelta(minutes=7, seconds=1))
    petition = services.petition_check_in(petition_id=petition.pk, actor=microgrid_worker)
    assert petition.arrival_missed
    assert petition.arrived_at is not None


def test_only_the_holder_checks_in(resident_user, microgrid_worker, grid_worker):
    petition = submit(resident_user)
    with pytest.raises(PermissionDeniedError, match="只有承办人可以到场签到"):
        services.petition_check_in(petition_id=petition.pk, actor=grid_worker)


# --- the happy path and its guard -----------------------------------------------------------


def test_the_whole_road_to_closed_with_a_satisfied_rating(
        resident_user, microgrid_worker, grid_worker):
    petition = submit(resident_user)
    _to_verified(petition, microgrid_worker, grid_worker)
    petition = services.petition_rate(petition_id=petition.pk, actor=resident_user,
                                      rating="satisfied", comment="很及时")
    assert petition.state == State.CLOSED
    assert petition.resolved_on_time and petition.resolved_tier == "microgrid"
    kinds = list(petition.events.values_list("kind", flat=True))
    assert kinds == ["submitted", "dispatched", "checked_in", "resolved", "verified", "rated",
                     "closed"]
    event = petition.events.get(kind="resolved")
    assert (event.from_state, event.to_state, event.actor_id) == (
        "on_site", "resolved", microgrid_worker.pk)


def test_illegal_moves_are_refused_with_a_chinese_message(resident_user, microgrid_worker):
    petition = submit(resident_user)
    with pytest.raises(InvalidTransition, match="不能从“已派单”变为“已评价”") as error:
        services.petition_rate(petition_id=petition.pk, actor=resident_user, rating="satisfied")
    assert "不能从“已派单”变为“已评价”" in error.value.message
    resolve_after_visit(petition_id=petition.pk, actor=microgrid_worker, resolution="好了")
    with pytest.raises(InvalidTransition, match="不能从“已办结”变为“已到场”"):
        services.petition_check_in(petition_id=petition.pk, actor=microgrid_worker)


def test_a_refused_verification_sends_it_back_to_the_holder(
        resident_user, microgrid_worker, grid_worker):
    petition = submit(resident_user)
    resolve_after_visit(petition_id=petition.pk, actor=microgrid_worker, resolution="好了")
    with pytest.raises(ApplicationError, match="请说明核实未通过的原因"):
        services.petition_verify(petition_id=petition.pk, actor=grid_worker, accepted=False)
    petition = services.petition_verify(petition_id=petition.pk, actor=grid_worker,
                                        accepted=False, note="现场仍有垃圾")
    assert petition.state == State.DISPATCHED
    assert petition.resolved_at is None


def test_a_microgrid_worker_cannot_verify_their_own_work(resident_user, microgrid_worker):
    petition = submit(resident_user)
    resolve_after_visit(petition_id=petition.pk, actor=microgrid_worker, resolution="好了")
    with pytest.raises(PermissionDeniedError, match="只有网格员及以上工作人员可以核实"):
        services.petition_verify(petition_id=petition.pk, actor=microgrid_worker)


# --- reopen, return, reject, refer ----------------------------------------------------------


def test_an_unsatisfied_rating_reopens_once_and_redispatches_then_closes(
        frozen, resident_user, microgrid_worker, grid_worker):
    petition = submit(resident_user)
    _to_verified(petition, microgrid_worker, grid_worker)
    frozen.shift(timedelta(hours=5))
    petition = services.petition_rate(petition_id=petition.pk, actor=resident_user,
                                      rating="unsatisfied", comment="没弄干净")
    assert petition.state == State.DISPATCHED
    assert petition.reopened_count == 1
    assert petition.holder_id == microgrid_worker.pk
    # The second round gets a fresh clock from the reopen.
    assert petition.due_at == petition.clock_started_at + timedelta(days=1)
    assert petition.clock_started_at > petition.submitted_at
    _to_verified(petition, microgrid_worker, grid_worker)
    petition = services.petition_rate(petition_id=petition.pk, actor=resident_user,
                                      rating="unsatisfied")
    assert petition.state == State.CLOSED
    assert petition.reopened_count == 1
    with pytest.raises((ApplicationError, InvalidTransition), match="每件诉求只能重办一次"):
        services.petition_reopen(petition_id=petition.pk, actor=resident_user, reason="再来")


def test_reopen_by_hand_is_refused_after_the_one_reopen(
        resident_user, microgrid_worker, grid_worker, community_staff):
    petition = submit(resident_user)
    _to_verified(petition, microgrid_worker, grid_worker)
    Petition.objects.filter(pk=petition.pk).update(state=State.RATED, reopened_count=1)
    with pytest.raises(ApplicationError, match="每件诉求只能重办一次") as error:
        services.petition_reopen(petition_id=petition.pk, actor=community_staff, reason="x")
    assert "只能重办一次" in error.value.message


def test_return_and_reroute_keep_the_clock(
        frozen, resident_user, microgrid_worker, community_staff, territory):
    petition = submit(resident_user)
    due_at, arrival_due_at = petition.due_at, petition.arrival_due_at
    frozen.shift(timedelta(hours=3))
    petition = services.petition_return(petition_id=petition.pk, actor=microgrid_worker,
                                        reason="不属于本微网格")
    assert petition.state == State.RETURNED and petition.holder_id is None
    assert Notification.objects.filter(user=community_staff).exists()
    other_worker = UserFactory(role=User.Role.MICROGRID_WORKER, scope_area=territory.micro2)
    frozen.shift(timedelta(hours=1))
    petition = services.petition_reroute(petition_id=petition.pk, actor=community_staff,
                                         building=territory.building3)
    assert petition.state == State.DISPATCHED
    assert petition.holder_id == other_worker.pk
    assert petition.area_id == territory.micro2.pk
    assert (petition.due_at, petition.arrival_due_at) == (due_at, arrival_due_at)


def test_a_rejection_reason_reaches_the_resident(resident_user, community_staff):
    petition = submit(resident_user)
    petition = services.petition_reject(petition_id=petition.pk, actor=community_staff,
                                        reason="属于物业合同纠纷，请联系法院")
    assert petition.state == State.REJECTED
    assert petition.rejection_reason == "属于物业合同纠纷，请联系法院"
    assert OutboundMessage.objects.filter(body__contains="不予受理").exists()


def test_referral_to_deliberation_and_closing_from_the_topic(resident_user, community_staff):
    petition = submit(resident_user)
    petition = services.petition_refer_to_deliberation(petition_id=petition.pk,
                                                       actor=community_staff, note="需议事")
    assert petition.state == State.REFERRED
    services.petition_link_topic(petition_id=petition.pk, topic_id=42)
    petition = services.petition_close_from_deliberation(petition_id=petition.pk,
                                                         outcome="加装充电桩", actor=None)
    assert petition.state == State.CLOSED
    assert petition.deliberation_topic_id == 42
    assert petition.resolution == "加装充电桩"
    again = services.petition_close_from_deliberation(petition_id=petition.pk, outcome="x",
                                                      actor=None)
    assert again.resolution == "加装充电桩"


def test_escalation_by_hand_moves_up_one_tier_with_a_reason(
        resident_user, microgrid_worker, grid_worker, street_admin):
    petition = submit(resident_user)
    with pytest.raises(ApplicationError, match="请填写升级原因"):
        services.petition_escalate_by_hand(petition_id=petition.pk, actor=microgrid_worker,
                                           reason=" ")
    petition = services.petition_escalate_by_hand(petition_id=petition.pk,
                                                  actor=microgrid_worker, reason="需要网格协调")
    assert (petition.tier, petition.holder_id) == ("grid", grid_worker.pk)
    assert petition.due_at == petition.grid_due_at
    petition = services.petition_escalate_by_hand(petition_id=petition.pk, actor=grid_worker,
                                                  reason="需要街道协调")
    assert (petition.tier, petition.holder_id) == ("street", street_admin.pk)
    with pytest.raises(ApplicationError, match="诉求已在街道层级"):
        services.petition_escalate_by_hand(petition_id=petition.pk, actor=street_admin,
                                           reason="再升")


def test_notes_with_photos_and_internal_notes(resident_user, microgrid_worker):
    petition = submit(resident_user)
    event = services.petition_add_note(petition_id=petition.pk, actor=microgrid_worker,
                                       note="已联系物业", photos=[photo()], is_internal=True)
    assert event.is_internal and event.photos.count() == 1
    resident_note = services.petition_add_note(petition_id=petition.pk, actor=resident_user,
                                               note="补充：晚上更严重", is_internal=True)
    assert not resident_note.is_internal  # a resident cannot hide a note from the staff


# --- the permission matrix ------------------------------------------------------------------


def test_a_resident_cannot_touch_someone_elses_petition(resident_user, other_resident):
    petition = submit(resident_user)
    with pytest.raises(Http404):
        services.petition_add_note(petition_id=petition.pk, actor=other_resident, note="看看")
    with pytest.raises(Http404):
        services.petition_rate(petition_id=petition.pk, actor=other_resident,
                               rating="satisfied")


def test_a_grid_worker_of_another_grid_gets_404(resident_user, outsider):
    petition = submit(resident_user)
    with pytest.raises(Http404):
        services.petition_resolve(petition_id=petition.pk, actor=outsider, resolution="x")


def test_a_guessed_id_is_404(resident_user):
    with pytest.raises(Http404):
        services.petition_check_in(petition_id=987654, actor=resident_user)


def test_an_external_system_acts_only_on_what_it_submitted(territory, resident_user):
    hotline = external_system()
    other = external_system(username="susuban")
    own = submit(hotline, channel="hotline_12345", building=territory.building1)
    foreign = submit(resident_user)
    services.petition_add_note(petition_id=own.pk, actor=hotline, note="市民来电补充")
    with pytest.raises(Http404):
        services.petition_add_note(petition_id=foreign.pk, actor=hotline, note="x")
    with pytest.raises(Http404):
        services.petition_add_note(petition_id=own.pk, actor=other, note="x")


def test_a_microgrid_worker_cannot_dispatch_or_reject(resident_user, microgrid_worker,
                                                      community_staff):
    petition = submit(resident_user)
    with pytest.raises(PermissionDeniedError, match="您无权进行此操作"):
        services.petition_reject(petition_id=petition.pk, actor=microgrid_worker, reason="x")
    services.petition_return(petition_id=petition.pk, actor=microgrid_worker, reason="误派")
    with pytest.raises(PermissionDeniedError, match="您无权进行此操作"):
        services.petition_dispatch(petition_id=petition.pk, actor=microgrid_worker,
                                   holder=microgrid_worker)
    services.petition_dispatch(petition_id=petition.pk, actor=community_staff,
                               holder=microgrid_worker)


def test_dispatch_refuses_a_holder_outside_the_petitions_scope(resident_user, community_staff,
                                                              outsider):
    petition = submit(resident_user)
    with pytest.raises(ApplicationError, match="承办人的管辖范围不包含该诉求"):
        services.petition_dispatch(petition_id=petition.pk, actor=community_staff,
                                   holder=outsider)


# --- notifications --------------------------------------------------------------------------


def test_submission_texts_the_resident_and_tells_the_holder(resident_user, microgrid_worker):
    petition = submit(resident_user)
    assert OutboundMessage.objects.filter(recipient=resident_user.phone,
                                          body__contains=str(petition.pk)).exists()
    # The worker's message opens the staff page; the resident's page would be a 404 for them.
    assert Notification.objects.filter(user=microgrid_worker,
                                       link=f"/petitions/staff/{petition.pk}/").exists()


def test_events_of_an_external_petition_fill_the_webhook_outbox(territory, microgrid_worker):
    hotline = external_system(webhook_url="http://127.0.0.1:9/hook")
    petition = submit(hotline, channel="hotline_12345", building=territory.building1,
                      external_ref="A-1")
    kinds = [delivery.payload["kind"] for delivery in petition.webhook_deliveries.order_by("id")]
    assert kinds == ["submitted", "dispatched"]
    delivery = petition.webhook_deliveries.first()
    assert delivery.payload["external_ref"] == "A-1"
    assert delivery.payload["status"] == "open"
    assert PetitionEvent.objects.filter(petition=petition).count() == 2


# --- points raised by the API and page helpers ----------------------------------------------


def test_the_service_says_whether_it_created_the_petition(territory):
    hotline = external_system()
    first = submit(hotline, channel="hotline_12345", building=territory.building1,
                   external_ref="W-1")
    again = submit(hotline, channel="hotline_12345", building=territory.building1,
                   external_ref="W-1")
    assert first.was_created is True
    assert again.was_created is False


def test_required_extra_questions_must_be_answered(resident_user):
    facilities = category("物业设施")
    with pytest.raises(ApplicationError, match="请回答：设施名称") as error:
        submit(resident_user, category=facilities)
    assert "请回答" in error.value.message
    petition = submit(resident_user, category=facilities, answers={"facility": "电梯"})
    assert petition.answers == {"facility": "电梯"}


def test_staff_record_petitions_only_inside_their_scope(outsider, territory):
    with pytest.raises(PermissionDeniedError, match="只能登记您管辖范围内的诉求"):
        submit(outsider, channel="phone", building=territory.building1)
    petition = submit(outsider, channel="phone", building=territory.other_building)
    assert petition.recorded_by_id == outsider.pk


def test_coordinates_alone_are_a_location(community_staff):
    from decimal import Decimal

    petition = submit(community_staff, channel="phone", latitude=Decimal("35.9"),
                      longitude=Decimal("120.1"), is_anonymous=True)
    assert petition.origin_path == community_staff.scope_area.path
    assert petition.is_anonymous


def test_a_closed_petition_can_be_reopened_once_when_the_matter_comes_back(
        resident_user, microgrid_worker, grid_worker, community_staff):
    petition = submit(resident_user)
    _to_verified(petition, microgrid_worker, grid_worker)
    services.petition_rate(petition_id=petition.pk, actor=resident_user, rating="satisfied")
    with pytest.raises(ApplicationError, match="请说明重办原因"):
        services.petition_reopen(petition_id=petition.pk, actor=resident_user, reason=" ")
    petition = services.petition_reopen(petition_id=petition.pk, actor=resident_user,
                                        reason="又堵了")
    assert (petition.state, petition.reopened_count) == (State.DISPATCHED, 1)
    assert petition.closed_at is None
    _to_verified(petition, microgrid_worker, grid_worker)
    services.petition_rate(petition_id=petition.pk, actor=resident_user, rating="basic")
    with pytest.raises(ApplicationError, match="每件诉求只能重办一次"):
        services.petition_reopen(petition_id=petition.pk, actor=community_staff, reason="再来")


def test_a_petition_closed_by_deliberation_is_not_reopened(resident_user, community_staff):
    petition = submit(resident_user)
    services.petition_refer_to_deliberation(petition_id=petition.pk, actor=community_staff)
    services.petition_close_from_deliberation(petition_id=petition.pk, outcome="议定",
                                              actor=None)
    with pytest.raises(ApplicationError, match="只有居民评价后关闭的诉求可以重办"):
        services.petition_reopen(petition_id=petition.pk, actor=community_staff, reason="x")
