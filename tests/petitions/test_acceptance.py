"""签收 (petitions/acceptance.py): the holder accepts within the tier's limit; a timeout tells the
next person in the area and counts against dispatch, not the worker."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from core.exceptions import ApplicationError, PermissionDeniedError
from notifications.models import Notification, OutboundMessage
from petitions import services
from petitions.acceptance import petition_accept, petitions_accept_overdue
from petitions.models import Petition, PetitionEvent, SlaPolicy
from petitions.sweep import petitions_sweep
from reports.rankings import worker_ranking
from tests.accounts.factories import UserFactory
from tests.petitions.conftest import SHANGHAI
from tests.petitions.factories import submit

pytestmark = pytest.mark.django_db
Kind = PetitionEvent.Kind


@pytest.fixture
def second_microgrid_worker(territory, microgrid_worker) -> User:
    """Another worker of the same micro-grid (a later account: not the one dispatched to)."""
    return UserFactory(username="micro2nd", role=User.Role.MICROGRID_WORKER,
                       scope_area=territory.micro1, display_name="赵微网格员",
                       phone="13900009999")


def sweep_step() -> int:
    return petitions_accept_overdue(now=timezone.now())


def test_a_dispatch_asks_the_holder_to_accept_within_the_microgrid_limit(
        frozen, resident_user, microgrid_worker):
    petition = submit(resident_user)
    assert petition.holder_id == microgrid_worker.pk
    assert petition.accepted_at is None
    assert petition.accept_due_at == petition.dispatched_at + timedelta(minutes=5)
    # The arrival clock still runs from dispatch (DESIGN.md's 7135): 签收 is inside the 7 minutes.
    assert petition.arrival_due_at == petition.dispatched_at + timedelta(minutes=7)


def test_only_the_holder_accepts_and_only_once(
        frozen, resident_user, microgrid_worker, grid_worker, outsider):
    petition = submit(resident_user)
    with pytest.raises(Http404):
        petition_accept(petition_id=petition.pk, actor=outsider)
    with pytest.raises(PermissionDeniedError, match="只有承办人可以签收"):
        petition_accept(petition_id=petition.pk, actor=grid_worker)
    frozen.shift(timedelta(minutes=2))
    accepted = petition_accept(petition_id=petition.pk, actor=microgrid_worker)
    assert accepted.accepted_at == accepted.last_progress_at == timezone.now()
    event = petition.events.get(kind=Kind.ACCEPTED)
    assert (event.actor_id, event.is_internal, event.note) == (microgrid_worker.pk, True, "")
    with pytest.raises(ApplicationError, match="已签收"):
        petition_accept(petition_id=petition.pk, actor=microgrid_worker)


def test_a_late_acceptance_notes_the_delay_and_leaves_the_arrival_clock_where_it_was(
        frozen, resident_user, microgrid_worker):
    petition = submit(resident_user)
    frozen.shift(timedelta(minutes=11))
    accepted = petition_accept(petition_id=petition.pk, actor=microgrid_worker)
    assert "6 分钟" in petition.events.get(kind=Kind.ACCEPTED).note
    assert accepted.arrival_due_at == petition.dispatched_at + timedelta(minutes=7)


def test_checking_in_is_accepting(frozen, resident_user, microgrid_worker):
    petition = submit(resident_user)
    frozen.shift(timedelta(minutes=3))
    services.petition_check_in(petition_id=petition.pk, actor=microgrid_worker)
    petition.refresh_from_db()
    assert petition.accepted_at == petition.arrived_at == timezone.now()
    assert sweep_step() == 0


def test_each_tier_has_its_own_limit_from_the_policy(
        frozen, resident_user, microgrid_worker, grid_worker, community_staff):
    SlaPolicy.objects.filter(pk=1).update(accept_grid=timedelta(minutes=20))
    petition = submit(resident_user)
    # Triage moves it to the grid: a hand-over, the grid worker accepts within the grid's limit.
    triaged = services.petition_triage(petition_id=petition.pk, actor=community_staff,
                                       size=Petition.Size.BIG)
    assert triaged.holder_id == grid_worker.pk
    assert triaged.accept_due_at == timezone.now() + timedelta(minutes=20)


def test_not_accepted_in_time_the_next_worker_of_the_microgrid_is_told(
        frozen, resident_user, microgrid_worker, second_microgrid_worker, grid_worker):
    petition = submit(resident_user)
    # At the limit's instant it is still in time (policy.is_late); a second later it is not.
    frozen.shift(timedelta(minutes=5))
    assert sweep_step() == 0
    frozen.shift(timedelta(seconds=1))
    assert sweep_step() == 1
    petition.refresh_from_db()
    assert petition.accept_overdue_at == timezone.now()
    # Told, not reassigned: the holder keeps it, and may still accept.
    assert petition.holder_id == microgrid_worker.pk
    event = petition.events.get(kind=Kind.ACCEPT_OVERDUE)
    assert event.is_internal and "派单延误" in event.note
    told = Notification.objects.get(dedupe_key__startswith="accept-overdue:")
    assert told.user_id == second_microgrid_worker.pk
    assert told.link == f"/petitions/staff/{petition.pk}/"
    sms = OutboundMessage.objects.get(dedupe_key__startswith="accept-overdue:")
    assert sms.recipient == "13900009999" and f"#{petition.pk}" in sms.body
    assert not Notification.objects.filter(user=grid_worker,
                                           dedupe_key__startswith="accept-overdue:").exists()


def test_with_nobody_else_in_the_microgrid_the_grid_worker_is_told(
        frozen, resident_user, microgrid_worker, grid_worker):
    petition = submit(resident_user)
    frozen.shift(timedelta(minutes=5, seconds=1))
    assert sweep_step() == 1
    told = Notification.objects.get(dedupe_key__startswith="accept-overdue:")
    assert (told.user_id, told.link) == (grid_worker.pk, f"/petitions/staff/{petition.pk}/")


def test_two_beats_tell_nobody_twice(frozen, resident_user, microgrid_worker, grid_worker):
    submit(resident_user)
    frozen.shift(timedelta(minutes=5, seconds=1))
    assert sweep_step() == 1
    assert sweep_step() == 0
    frozen.shift(timedelta(minutes=1))
    assert sweep_step() == 0
    assert PetitionEvent.objects.filter(kind=Kind.ACCEPT_OVERDUE).count() == 1
    assert Notification.objects.filter(dedupe_key__startswith="accept-overdue:").count() == 1


def test_an_accepted_petition_never_times_out(frozen, resident_user, microgrid_worker,
                                              grid_worker):
    petition = submit(resident_user)
    petition_accept(petition_id=petition.pk, actor=microgrid_worker)
    frozen.shift(timedelta(hours=1))
    assert sweep_step() == 0


def test_escalation_by_the_sweep_asks_the_new_holder_to_accept_and_may_time_out_again(
        frozen, resident_user, microgrid_worker, grid_worker, street_admin):
    petition = submit(resident_user)
    frozen.shift(timedelta(minutes=5, seconds=1))
    petitions_sweep(now=timezone.now())  # the micro-grid worker's acceptance times out
    first_stamp = Petition.objects.get(pk=petition.pk).accept_overdue_at
    frozen.shift(timedelta(days=1))
    petitions_sweep(now=timezone.now())  # past the micro-grid's day: up to the grid
    petition.refresh_from_db()
    assert petition.holder_id == grid_worker.pk
    assert petition.accepted_at is None
    assert petition.accept_due_at == timezone.now() + timedelta(minutes=30)
    # The first timeout stays on the record; the grid worker's own may come.
    assert petition.accept_overdue_at == first_stamp
    frozen.shift(timedelta(minutes=30, seconds=1))
    assert sweep_step() == 1
    assert PetitionEvent.objects.filter(petition=petition, kind=Kind.ACCEPT_OVERDUE).count() == 2


def test_escalation_by_hand_asks_the_new_holder_to_accept(
        frozen, resident_user, microgrid_worker, grid_worker):
    petition = submit(resident_user)
    petition_accept(petition_id=petition.pk, actor=microgrid_worker)
    escalated = services.petition_escalate_by_hand(petition_id=petition.pk,
                                                   actor=microgrid_worker, reason="需要网格协调")
    assert (escalated.holder_id, escalated.accepted_at) == (grid_worker.pk, None)
    assert escalated.accept_due_at == timezone.now() + timedelta(minutes=30)


def test_the_acceptance_step_costs_the_same_queries_for_one_or_many_petitions(
        frozen, resident_user, microgrid_worker, second_microgrid_worker, grid_worker,
        django_assert_num_queries):
    submit(resident_user)
    frozen.shift(timedelta(minutes=5, seconds=1))
    with CaptureQueriesContext(connection) as one:
        assert sweep_step() == 1
    for _ in range(4):
        submit(resident_user)
    frozen.shift(timedelta(minutes=5, seconds=1))
    with django_assert_num_queries(len(one.captured_queries)):
        assert sweep_step() == 4


def test_the_delay_counts_against_dispatch_not_the_workers_response_rate(
        frozen, resident_user, microgrid_worker, grid_worker, territory):
    on_time = submit(resident_user)
    petition_accept(petition_id=on_time.pk, actor=microgrid_worker)
    services.petition_check_in(petition_id=on_time.pk, actor=microgrid_worker)
    ignored = submit(resident_user)
    frozen.shift(timedelta(minutes=8))
    petitions_sweep(now=timezone.now())  # 签收超时 and the arrival missed on `ignored`
    ignored.refresh_from_db()
    assert ignored.accept_overdue_at is not None and ignored.arrival_missed
    today = timezone.localdate()
    ranking = worker_ranking(street=territory.street, start=today, end=today + timedelta(1),
                             rate="response", min_sample=1)
    row = next(row for row in ranking.rows if row.key == microgrid_worker.pk)
    # The worker answers for the one they had in hand in time, and reached it in time.
    assert (row.successes, row.n) == (1, 1)


def test_the_limit_runs_in_calendar_minutes_on_a_public_holiday(
        time_machine, resident_user, microgrid_worker, grid_worker):
    # National Day: someone is on duty every day, so 签收 counts minutes, not working days.
    SlaPolicy.objects.filter(pk=1).update(calendar=SlaPolicy.Calendar.WORKING_DAYS)
    time_machine.move_to(datetime(2026, 10, 2, 10, 0, tzinfo=SHANGHAI), tick=False)
    petition = submit(resident_user)
    assert petition.accept_due_at == timezone.now() + timedelta(minutes=5)
    time_machine.move_to(datetime(2026, 10, 2, 10, 5, 1, tzinfo=SHANGHAI), tick=False)
    assert sweep_step() == 1
    assert date(2026, 10, 2) == timezone.localdate()


def test_the_policy_refuses_an_acceptance_limit_not_shorter_than_the_tiers_deadline():
    policy = SlaPolicy(accept_microgrid=timedelta(days=1))
    with pytest.raises(ValidationError, match="签收时限须短于"):
        policy.full_clean()
    policy = SlaPolicy(accept_grid=timedelta(0))
    with pytest.raises(ValidationError, match="时限必须大于零"):
        policy.full_clean()
    SlaPolicy().full_clean()  # the defaults: 5 minutes, 30 minutes, 2 hours


def test_the_holder_accepts_from_the_staff_page(frozen, resident_user, microgrid_worker,
                                                grid_worker):
    petition = submit(resident_user)
    client = Client()
    client.force_login(microgrid_worker)
    page = client.get(reverse("petitions:staff-detail", args=[petition.pk]))
    accept_url = reverse("petitions:staff-accept", args=[petition.pk])
    assert accept_url in page.content.decode()
    response = client.post(accept_url)
    assert response.status_code == 302
    assert Petition.objects.get(pk=petition.pk).accepted_at is not None
    page = client.get(reverse("petitions:staff-detail", args=[petition.pk]))
    assert accept_url not in page.content.decode()
    # Not theirs: no button for the grid worker, who covers it.
    other = Client()
    other.force_login(grid_worker)
    assert accept_url not in other.get(
        reverse("petitions:staff-detail", args=[petition.pk])).content.decode()


def test_the_api_accept_action(frozen, resident_user, microgrid_worker, grid_worker, outsider):
    petition = submit(resident_user)
    url = f"/api/v1/petitions/{petition.pk}/accept/"
    for user, code in ((outsider, 404), (grid_worker, 403), (microgrid_worker, 200),
                       (microgrid_worker, 400)):
        client = APIClient()
        client.force_login(user)
        response = client.post(url)
        assert response.status_code == code
        if code == 200:
            assert response.json()["accepted_at"] is not None
    accepted = Petition.objects.get(pk=petition.pk)
    assert accepted.accepted_at is not None
    client = APIClient()
    client.force_login(microgrid_worker)
    detail = client.get(f"/api/v1/petitions/{petition.pk}/").json()
    assert detail["accept_due_at"] == timezone.localtime(accepted.accept_due_at).isoformat()


def test_residents_never_see_the_acceptance_timeout_but_see_the_acceptance(
        frozen, resident_user, microgrid_worker, grid_worker):
    petition = submit(resident_user)
    frozen.shift(timedelta(minutes=6))
    sweep_step()
    petition_accept(petition_id=petition.pk, actor=microgrid_worker)
    kinds = list(PetitionEvent.objects.filter(petition=petition).for_residents()
                 .values_list("kind", flat=True))
    assert Kind.ACCEPTED in kinds
    assert Kind.ACCEPT_OVERDUE not in kinds
    # Nor is the resident sent an inbox message for either step.
    assert not Notification.objects.filter(user=resident_user,
                                           title__contains="签收").exists()
