"""Alerts that reach the person who must act (issue 11, item 6).

The holder is texted when a petition becomes theirs (dispatch, escalation) and when it is put
under supervision (督办); every street admin hears of every 督办; and before each clock runs out
(at SlaPolicy.reminder_share of it) the holder gets one reminder (催办) per clock and tier.
Every SMS carries the staff page's link, and a dedupe key makes a second writer harmless.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from notifications.models import Notification, OutboundMessage
from petitions import services
from petitions.alerts import petitions_send_reminders
from petitions.models import Petition, SlaPolicy
from petitions.sweep import petitions_escalate_overdue, petitions_flag_supervision, petitions_sweep
from petitions.tasks import petitions_remind_task
from tests.accounts.factories import UserFactory
from tests.petitions.factories import resolve_after_visit, submit

pytestmark = pytest.mark.django_db

MICRO_PHONE = "13900000001"
GRID_PHONE = "13900000002"
STREET_PHONE = "13900000003"


def _give_phone(user: User, phone: str) -> User:
    user.phone = phone
    user.save(update_fields=["phone"])
    return user


def _texts(phone: str) -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(recipient=phone).order_by("id"))


def _staff_link(petition: Petition) -> str:
    return f"/petitions/staff/{petition.pk}/"


@pytest.fixture
def micro(microgrid_worker):
    return _give_phone(microgrid_worker, MICRO_PHONE)


@pytest.fixture
def grid(grid_worker):
    return _give_phone(grid_worker, GRID_PHONE)


@pytest.fixture
def street(street_admin):
    return _give_phone(street_admin, STREET_PHONE)


# --- dispatch, escalation, 督办 ---------------------------------------------------------------


def test_the_holder_is_texted_with_the_staff_link_when_a_petition_is_dispatched_to_them(
        frozen, settings, resident_user, micro):
    settings.SITE_URL = "https://portal.example.cn"
    petition = submit(resident_user)
    [text] = _texts(MICRO_PHONE)
    # An SMS is read outside the portal: the link is absolute, to the staff page.
    assert f"https://portal.example.cn{_staff_link(petition)}" in text.body
    assert text.dedupe_key


def test_a_dispatcher_handing_a_returned_petition_on_texts_the_new_holder_only(
        frozen, territory, resident_user, micro, grid, community_staff):
    petition = submit(resident_user)
    services.petition_return(petition_id=petition.pk, actor=micro, reason="不归我管")
    services.petition_reroute(petition_id=petition.pk, actor=community_staff, holder=grid)
    assert len(_texts(MICRO_PHONE)) == 1  # the first dispatch only
    [text] = _texts(GRID_PHONE)
    assert _staff_link(petition) in text.body


def test_no_one_is_texted_about_a_petition_they_dispatch_to_themselves(
        frozen, territory, resident_user, community_staff):
    _give_phone(community_staff, "13900000009")
    petition = submit(resident_user)  # no micro-grid worker: it waits in 待分派
    assert petition.holder_id is None
    services.petition_dispatch(petition_id=petition.pk, actor=community_staff,
                               holder=community_staff)
    assert not _texts("13900000009")


def test_the_sweep_texts_each_new_holder_of_an_escalated_petition_once(
        frozen, resident_user, micro, grid):
    first, second = submit(resident_user), submit(resident_user)
    frozen.shift(timedelta(days=1, seconds=1))
    assert petitions_escalate_overdue(now=timezone.now()) == 2
    assert petitions_escalate_overdue(now=timezone.now()) == 0
    texts = _texts(GRID_PHONE)
    assert sorted(_staff_link(petition) in text.body for petition in (first, second)
                  for text in texts).count(True) == 2
    assert len(texts) == 2
    assert all(text.dedupe_key.startswith("escalate-sms:") for text in texts)


def test_escalation_by_hand_texts_the_new_holder(frozen, resident_user, micro, grid):
    petition = submit(resident_user)
    services.petition_escalate_by_hand(petition_id=petition.pk, actor=micro, reason="需网格协调")
    [text] = _texts(GRID_PHONE)
    assert _staff_link(petition) in text.body


def test_triage_that_moves_a_petition_up_texts_its_new_holder(
        frozen, resident_user, micro, grid, community_staff):
    petition = submit(resident_user)
    services.petition_triage(petition_id=petition.pk, actor=community_staff, size="small")
    assert not _texts(GRID_PHONE)  # the same tier: nobody new to tell
    services.petition_triage(petition_id=petition.pk, actor=community_staff, size="big")
    [text] = _texts(GRID_PHONE)
    assert _staff_link(petition) in text.body and "网格" in text.body


def test_supervision_texts_the_holder_and_tells_every_street_admin_once(
        frozen, territory, resident_user, micro, grid, street):
    second_admin = UserFactory(username="street2", role=User.Role.STREET_ADMIN,
                               scope_area=territory.street, phone="13900000004")
    no_phone_admin = UserFactory(username="street3", role=User.Role.STREET_ADMIN,
                                 scope_area=None)
    root = UserFactory(username="root", role=User.Role.RESIDENT, is_superuser=True,
                       phone="13900000005")
    technical = UserFactory(username="tech", role=User.Role.RESIDENT, is_superuser=True)
    petition = submit(resident_user)
    frozen.shift(timedelta(days=5, seconds=1))
    petitions_sweep(now=timezone.now())
    petitions_sweep(now=timezone.now())
    petition.refresh_from_db()
    assert petition.supervised and petition.holder_id == street.pk
    told = set(Notification.objects.filter(title__contains="督办", link=_staff_link(petition))
               .values_list("user_id", flat=True))
    assert told == {street.pk, second_admin.pk, no_phone_admin.pk, root.pk}
    assert technical.pk not in told
    for phone in (STREET_PHONE, "13900000004", "13900000005"):
        supervised = [text for text in _texts(phone) if "督办" in text.body]
        assert len(supervised) == 1, phone
        assert _staff_link(petition) in supervised[0].body


def test_a_street_admin_of_another_street_does_not_hear_of_its_supervision(
        frozen, territory, resident_user, micro, street):
    from tests.governance.factories import area_root

    other_street = UserFactory(username="elsewhere", role=User.Role.STREET_ADMIN,
                               scope_area=area_root(name="黄浦街道"), phone="13900000006")
    submit(resident_user)
    frozen.shift(timedelta(days=5, seconds=1))
    petitions_sweep(now=timezone.now())
    assert not Notification.objects.filter(user=other_street).exists()
    assert not _texts("13900000006")


def test_supervision_alerts_cost_the_same_queries_for_2_and_20_petitions(
        frozen, resident_user, micro, grid, street):
    counts = []
    for size in (2, 20):
        for _ in range(size):
            submit(resident_user)
        frozen.shift(timedelta(days=5, seconds=1))
        petitions_escalate_overdue(now=timezone.now())
        with CaptureQueriesContext(connection) as context:
            assert petitions_flag_supervision(now=timezone.now()) == size
        counts.append(len(context.captured_queries))
    assert counts[0] == counts[1]


# --- 催办: the pre-breach reminder ------------------------------------------------------------


def _reminders(phone: str, word: str = "催办") -> list[OutboundMessage]:
    return [text for text in _texts(phone) if word in text.body]


def test_the_arrival_reminder_fires_at_80_percent_of_the_seven_minutes_not_before(
        frozen, resident_user, micro):
    petition = submit(resident_user)
    # 80 % of 7 minutes is 5 min 36 s after dispatch.
    frozen.shift(timedelta(minutes=5, seconds=35))
    assert petitions_send_reminders(now=timezone.now()) == 0
    assert not _reminders(MICRO_PHONE)
    frozen.shift(timedelta(seconds=1))
    assert petitions_send_reminders(now=timezone.now()) == 1
    [text] = _reminders(MICRO_PHONE)
    assert _staff_link(petition) in text.body and "到场" in text.body
    assert Notification.objects.filter(user=micro, title__contains="催办",
                                       link=_staff_link(petition)).count() == 1


def test_a_reminder_is_sent_once_even_when_the_task_runs_twice(frozen, resident_user, micro):
    submit(resident_user)
    frozen.shift(timedelta(minutes=6))
    assert petitions_remind_task.delay().get() == 1
    assert petitions_remind_task.delay().get() == 0
    assert petitions_send_reminders(now=timezone.now()) == 0
    assert len(_reminders(MICRO_PHONE)) == 1


def test_the_resolution_reminder_fires_once_per_tier(frozen, resident_user, micro, grid):
    petition = submit(resident_user)
    services.petition_check_in(petition_id=petition.pk, actor=micro)
    # 80 % of the micro-grid's day: 19 h 12 min after acceptance.
    frozen.shift(timedelta(hours=19, minutes=11))
    assert petitions_send_reminders(now=timezone.now()) == 0
    frozen.shift(timedelta(minutes=1))
    assert petitions_send_reminders(now=timezone.now()) == 1
    assert petitions_send_reminders(now=timezone.now()) == 0
    [text] = _reminders(MICRO_PHONE)
    assert "办结" in text.body
    # Escalated to the grid: its clock (3 days from acceptance) gets its own reminder, at
    # 80 % of it: 2 days 9 h 36 min after acceptance, to the grid worker now holding it.
    frozen.shift(timedelta(hours=5))
    petitions_sweep(now=timezone.now())
    petition.refresh_from_db()
    assert petition.holder_id == grid.pk
    frozen.move_to(petition.submitted_at + timedelta(days=2, hours=9, minutes=35))
    assert petitions_send_reminders(now=timezone.now()) == 0
    frozen.shift(timedelta(minutes=1))
    assert petitions_send_reminders(now=timezone.now()) == 1
    assert len(_reminders(GRID_PHONE)) == 1
    assert len(_reminders(MICRO_PHONE)) == 1


def test_finished_petitions_get_no_reminder(frozen, resident_user, micro, grid):
    resolved = submit(resident_user)
    resolve_after_visit(petition_id=resolved.pk, actor=micro, resolution="已清理")
    arrived = submit(resident_user)
    services.petition_check_in(petition_id=arrived.pk, actor=micro)
    frozen.shift(timedelta(days=1) - timedelta(minutes=1))
    # `arrived` gets its resolution reminder; neither gets an arrival reminder; `resolved`
    # gets nothing.
    assert petitions_send_reminders(now=timezone.now()) == 1
    [text] = _reminders(MICRO_PHONE)
    assert _staff_link(arrived) in text.body and "办结" in text.body
    # Rows past their reminder are cleared, so the index holds only what is still to come.
    assert not Petition.objects.filter(arrival_remind_at__lte=timezone.now()).exists()
    assert not Petition.objects.filter(due_remind_at__lte=timezone.now()).exists()


def test_the_share_comes_from_the_sla_policy(frozen, resident_user, micro):
    policy = SlaPolicy.current()
    policy.reminder_share = Decimal("0.50")
    policy.save()
    submit(resident_user)
    frozen.shift(timedelta(minutes=3, seconds=29))
    assert petitions_send_reminders(now=timezone.now()) == 0
    frozen.shift(timedelta(seconds=1))
    assert petitions_send_reminders(now=timezone.now()) == 1


def test_a_reopened_petition_is_reminded_again_on_its_new_clocks(
        frozen, resident_user, micro, grid):
    petition = submit(resident_user)
    services.petition_check_in(petition_id=petition.pk, actor=micro)
    frozen.shift(timedelta(hours=20))
    assert petitions_send_reminders(now=timezone.now()) == 1
    services.petition_resolve(petition_id=petition.pk, actor=micro, resolution="已清理")
    services.petition_verify(petition_id=petition.pk, actor=grid)
    services.petition_rate(petition_id=petition.pk, actor=resident_user, rating="unsatisfied",
                           comment="没清干净")
    frozen.shift(timedelta(minutes=6))
    assert petitions_send_reminders(now=timezone.now()) == 1  # the new arrival clock
    frozen.shift(timedelta(hours=20))
    assert petitions_send_reminders(now=timezone.now()) == 1  # the new resolution clock
    assert len(_reminders(MICRO_PHONE)) == 3


def test_the_policy_refuses_a_share_outside_0_and_1():
    from django.core.exceptions import ValidationError

    policy = SlaPolicy.current()
    for share in (Decimal("0"), Decimal("1.00"), Decimal("1.5")):
        policy.reminder_share = share
        with pytest.raises(ValidationError, match="催办提醒比例须大于 0 且小于 1"):
            policy.full_clean()


def test_the_reminder_sweep_costs_the_same_queries_for_1_and_50_petitions(
        frozen, resident_user, micro):
    counts = []
    for size in (1, 50):
        for _ in range(size):
            submit(resident_user)
        frozen.shift(timedelta(minutes=6))
        with CaptureQueriesContext(connection) as context:
            assert petitions_send_reminders(now=timezone.now()) == size
        counts.append(len(context.captured_queries))
        frozen.shift(timedelta(days=7))
        Petition.objects.all().delete()
    assert counts[0] == counts[1]


def test_the_beat_schedule_runs_the_reminders_every_minute(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["petitions-remind"]
    assert entry["task"] == "petitions.remind"
    assert entry["schedule"] <= 60


def test_the_second_visit_after_a_refused_verification_gets_its_arrival_reminder(
        frozen, resident_user, micro, grid):
    petition = submit(resident_user)
    resolve_after_visit(petition_id=petition.pk, actor=micro, resolution="已清理")
    frozen.shift(timedelta(hours=1))
    petition = services.petition_verify(petition_id=petition.pk, actor=grid, accepted=False,
                                        note="楼道里仍有杂物")
    # The fresh 7-minute clock is reminded at 80 % of it, like the first one.
    assert petition.arrival_remind_at == timezone.now() + timedelta(minutes=7) * 0.8
