"""滞留提醒 (petitions/stalled.py): one digest per interval to each holder and supervisor, never
twice under two beats, repeated after the interval, not on a day off."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from notifications.models import Notification, OutboundMessage
from petitions import services
from petitions.acceptance import petition_accept
from petitions.models import SlaPolicy, StalledDigestRun
from petitions.stalled import digest_slot, petitions_stalled_digest
from petitions.tasks import petitions_stalled_digest_task
from tests.accounts.factories import UserFactory
from tests.petitions.conftest import SHANGHAI
from tests.petitions.factories import resolve_after_visit, submit

pytestmark = pytest.mark.django_db

TUESDAY_10AM = datetime(2026, 11, 17, 10, 0, tzinfo=SHANGHAI)


def digests() -> dict[int, list[Notification]]:
    found: dict[int, list[Notification]] = {}
    for row in Notification.objects.filter(dedupe_key__startswith="stalled-digest:"):
        found.setdefault(row.user_id, []).append(row)
    return found


@pytest.fixture
def three_stalled(frozen, resident_user, microgrid_worker, grid_worker):
    """Monday 09:00: one petition of each kind, all held by the micro-grid worker (who has a
    phone): not accepted; accepted and left without a note; resolved and not verified."""
    User.objects.filter(pk=microgrid_worker.pk).update(phone="13900001234")
    not_accepted = submit(resident_user)
    no_note = submit(resident_user)
    petition_accept(petition_id=no_note.pk, actor=microgrid_worker)
    not_verified = submit(resident_user)
    resolve_after_visit(petition_id=not_verified.pk, actor=microgrid_worker, resolution="已清理")
    return not_accepted, no_note, not_verified


def test_each_holder_and_supervisor_gets_one_digest_of_their_stalled_petitions(
        three_stalled, microgrid_worker, community_staff, street_admin, territory,
        time_machine):
    not_accepted, no_note, not_verified = three_stalled
    elsewhere = UserFactory(username="huanghe", role=User.Role.COMMUNITY_STAFF,
                            scope_area=territory.other_community)
    time_machine.move_to(TUESDAY_10AM, tick=False)
    assert petitions_stalled_digest(now=timezone.now()) == 3
    sent = digests()
    assert set(sent) == {microgrid_worker.pk, community_staff.pk, street_admin.pk}
    assert elsewhere.pk not in sent
    body = sent[microgrid_worker.pk][0].body
    assert f"派单后超过签收时限未签收 1 件：#{not_accepted.pk}" in body
    assert f"签收后超过 24 小时无办理记录 1 件：#{no_note.pk}" in body
    assert f"办结后超过 24 小时未核查 1 件：#{not_verified.pk}" in body
    assert sent[community_staff.pk][0].title == "滞留提醒：3 件诉求待跟进"
    # An SMS only to the holder who has not even accepted some of theirs.
    sms = OutboundMessage.objects.get(dedupe_key__startswith="stalled-digest:")
    assert sms.recipient == "13900001234" and "1 件诉求派单后仍未签收" in sms.body
    run = StalledDigestRun.objects.get()
    assert (run.recipients, run.petitions) == (3, 3)


def test_two_beats_send_the_digest_once_per_interval_and_it_repeats_after_it(
        three_stalled, microgrid_worker, community_staff, time_machine):
    time_machine.move_to(TUESDAY_10AM, tick=False)
    assert petitions_stalled_digest(now=timezone.now()) == 2
    assert petitions_stalled_digest(now=timezone.now()) == 0  # the second beat
    time_machine.move_to(TUESDAY_10AM + timedelta(hours=5), tick=False)
    assert petitions_stalled_digest_task.delay().get() == 0  # later that day: claimed
    assert {user: len(rows) for user, rows in digests().items()} == {
        microgrid_worker.pk: 1, community_staff.pk: 1}
    assert OutboundMessage.objects.filter(dedupe_key__startswith="stalled-digest:").count() == 1
    # Wednesday 08:00 opens the next interval: still stalled, so told again.
    time_machine.move_to(TUESDAY_10AM + timedelta(hours=22), tick=False)
    assert petitions_stalled_digest(now=timezone.now()) == 2
    assert {user: len(rows) for user, rows in digests().items()} == {
        microgrid_worker.pk: 2, community_staff.pk: 2}


def test_the_interval_comes_from_the_policy(three_stalled, microgrid_worker, time_machine):
    SlaPolicy.objects.filter(pk=1).update(stalled_digest_interval=timedelta(hours=4))
    time_machine.move_to(TUESDAY_10AM, tick=False)
    assert petitions_stalled_digest(now=timezone.now()) == 1
    time_machine.move_to(TUESDAY_10AM + timedelta(hours=1, minutes=59), tick=False)
    assert petitions_stalled_digest(now=timezone.now()) == 0  # 08:00–12:00 is one interval
    time_machine.move_to(TUESDAY_10AM + timedelta(hours=2), tick=False)
    assert petitions_stalled_digest(now=timezone.now()) == 1


def test_the_thresholds_come_from_the_policy_and_a_note_is_progress(
        frozen, resident_user, microgrid_worker, time_machine):
    SlaPolicy.objects.filter(pk=1).update(stalled_note_after=timedelta(hours=30))
    petition = submit(resident_user)
    petition_accept(petition_id=petition.pk, actor=microgrid_worker)
    time_machine.move_to(TUESDAY_10AM, tick=False)  # 25 hours: under the 30 of the policy
    assert petitions_stalled_digest(now=timezone.now()) == 0
    services.petition_add_note(petition_id=petition.pk, actor=microgrid_worker, note="已联系物业")
    time_machine.move_to(TUESDAY_10AM + timedelta(days=1, hours=5), tick=False)
    assert petitions_stalled_digest(now=timezone.now()) == 0  # 29 hours since the note
    time_machine.move_to(TUESDAY_10AM + timedelta(days=1, hours=6, seconds=1), tick=False)
    # Same interval as the run above (Wednesday from 08:00): claimed, nothing more is sent.
    assert petitions_stalled_digest(now=timezone.now()) == 0
    time_machine.move_to(TUESDAY_10AM + timedelta(days=2), tick=False)
    assert petitions_stalled_digest(now=timezone.now()) == 1


def test_no_digest_on_a_day_off_and_the_next_working_day_sends_it(
        resident_user, microgrid_worker, time_machine):
    # National Day week: the petition is not accepted from 30 September on.
    time_machine.move_to(datetime(2026, 9, 30, 9, 0, tzinfo=SHANGHAI), tick=False)
    submit(resident_user)
    for day in (1, 3, 6, 7):  # holidays and their weekend
        time_machine.move_to(datetime(2026, 10, day, 10, 0, tzinfo=SHANGHAI), tick=False)
        assert petitions_stalled_digest(now=timezone.now()) == 0
    assert not StalledDigestRun.objects.exists()
    time_machine.move_to(datetime(2026, 10, 8, 9, 0, tzinfo=SHANGHAI), tick=False)
    assert petitions_stalled_digest(now=timezone.now()) == 1
    assert StalledDigestRun.objects.get().slot_start == datetime(2026, 10, 8, 8, 0,
                                                                  tzinfo=SHANGHAI)


def test_slots_start_at_eight_local_time():
    interval = timedelta(days=1)
    assert digest_slot(datetime(2026, 11, 17, 7, 59, tzinfo=SHANGHAI), interval) == datetime(
        2026, 11, 16, 8, 0, tzinfo=SHANGHAI)
    assert digest_slot(datetime(2026, 11, 17, 8, 0, tzinfo=SHANGHAI), interval) == datetime(
        2026, 11, 17, 8, 0, tzinfo=SHANGHAI)


def test_the_digest_costs_the_same_queries_for_few_or_many_petitions(
        three_stalled, resident_user, microgrid_worker, grid_worker, community_staff,
        time_machine, django_assert_num_queries):
    time_machine.move_to(TUESDAY_10AM, tick=False)
    with CaptureQueriesContext(connection) as few:
        assert petitions_stalled_digest(now=timezone.now()) == 2
    # Three more of each kind, one held by the grid worker (one more person to tell).
    for _ in range(3):
        submit(resident_user)
        accepted = submit(resident_user)
        petition_accept(petition_id=accepted.pk, actor=microgrid_worker)
        resolved = submit(resident_user)
        resolve_after_visit(petition_id=resolved.pk, actor=microgrid_worker, resolution="好了")
    services.petition_escalate_by_hand(petition_id=accepted.pk, actor=microgrid_worker,
                                       reason="网格协调")
    time_machine.move_to(TUESDAY_10AM + timedelta(days=1, hours=1), tick=False)
    with django_assert_num_queries(len(few.captured_queries)):
        assert petitions_stalled_digest(now=timezone.now()) == 3


def test_the_beat_schedule_runs_the_digest_every_hour(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["petitions-stalled-digest"]
    assert entry["task"] == "petitions.stalled_digest"
    assert entry["schedule"] <= 3600  # an interval is at least an hour (SlaPolicy.clean)
