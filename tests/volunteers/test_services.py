from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.http import Http404
from django.utils import timezone

from core.exceptions import ApplicationError, InvalidTransition, PermissionDeniedError
from notifications.models import Notification
from tests.residents.factories import ResidentFactory
from tests.volunteers.conftest import resident_account
from tests.volunteers.factories import ActivityFactory, ServicePostFactory, VolunteerFactory
from volunteers import selectors
from volunteers.models import (
    ActivitySignup,
    CareFile,
    CareFileAccessLog,
    HoursEntry,
    MicroWish,
    MicroWishEvent,
    ProxyService,
    RosterSlot,
    Shift,
    ShiftSwap,
    Volunteer,
)
from volunteers.services import activities, care, proxy, rosters, wishes

pytestmark = pytest.mark.django_db
SHANGHAI = timezone.get_fixed_timezone(8 * 60)


# --- rosters ------------------------------------------------------------------------------

def test_roster_generation_creates_one_shift_per_weekly_slot_and_is_idempotent(territory, cast):
    post = ServicePostFactory(compound=territory.compound)
    RosterSlot.objects.create(post=post, volunteer=cast.volunteer, weekday=0,
                              start_time=time(9), end_time=time(11))
    RosterSlot.objects.create(post=post, volunteer=cast.carer, weekday=3,
                              start_time=time(14), end_time=time(16))
    # 2026-12-01 is a Tuesday; the four weeks hold 4 Mondays (7,14,21,28) and 4 Thursdays.
    created = rosters.roster_generate(post=post, start=date(2026, 12, 1),
                                      end=date(2026, 12, 28))
    assert created == 8
    assert rosters.roster_generate(post=post, start=date(2026, 12, 1),
                                   end=date(2026, 12, 28)) in (0, 8)
    assert Shift.objects.count() == 8
    first = Shift.objects.order_by("starts_at").first()
    assert timezone.localtime(first.starts_at).date() == date(2026, 12, 3)
    assert first.remind_at == first.starts_at - Shift.REMIND_BEFORE


def test_roster_regeneration_skips_a_swapped_shift_and_reads_past_shifts_in_one_query(
        territory, cast, django_assert_max_num_queries):
    post = ServicePostFactory(compound=territory.compound)
    RosterSlot.objects.create(post=post, volunteer=cast.volunteer, weekday=0,
                              start_time=time(9), end_time=time(11))
    assert rosters.roster_generate(post=post, start=date(2026, 12, 1),
                                   end=date(2026, 12, 28)) == 4
    Shift.objects.filter(starts_at__date=date(2026, 12, 7)).update(volunteer=cast.carer)
    # Four occurrences that all exist: no per-occurrence look-up, and none created again.
    with django_assert_max_num_queries(3):
        assert rosters.roster_generate(post=post, start=date(2026, 12, 1),
                                       end=date(2026, 12, 28)) == 0
    assert Shift.objects.filter(post=post).count() == 4


def test_it_refuses_a_roster_longer_than_a_quarter(territory):
    post = ServicePostFactory(compound=territory.compound)
    with pytest.raises(ApplicationError, match="一次最多生成一个季度的值班表"):
        rosters.roster_generate(post=post, start=date(2026, 1, 1), end=date(2026, 6, 1))


def _shift(post, volunteer, *, starts_in=timedelta(days=2)):
    starts_at = timezone.now() + starts_in
    return Shift.objects.create(post=post, volunteer=volunteer, starts_at=starts_at,
                                ends_at=starts_at + timedelta(hours=2),
                                remind_at=starts_at - Shift.REMIND_BEFORE)


def test_a_swap_accepted_by_the_other_volunteer_hands_the_shift_over(territory, cast):
    post = ServicePostFactory(compound=territory.compound)
    shift = _shift(post, cast.volunteer)
    swap = rosters.shift_swap_request(shift=shift, user=cast.volunteer_user,
                                      to_volunteer=cast.carer, reason="出差")
    assert Notification.objects.filter(user=cast.carer_user, title="换班请求").exists()
    with pytest.raises(PermissionDeniedError, match="只有被邀请的替班人可以处理"):
        rosters.shift_swap_decide(swap=swap, user=cast.volunteer_user, accept=True)
    rosters.shift_swap_decide(swap=swap, user=cast.carer_user, accept=True)
    shift.refresh_from_db()
    assert shift.volunteer == cast.carer
    with pytest.raises(InvalidTransition, match="不能从“已换班”变为“已拒绝”"):
        rosters.shift_swap_decide(swap=swap, user=cast.carer_user, accept=False)


def test_a_declined_swap_leaves_the_shift_and_a_second_open_request_is_refused(territory, cast):
    post = ServicePostFactory(compound=territory.compound)
    shift = _shift(post, cast.volunteer)
    swap = rosters.shift_swap_request(shift=shift, user=cast.volunteer_user,
                                      to_volunteer=cast.carer)
    with pytest.raises(ApplicationError, match="该值班已有待处理的换班申请"):
        rosters.shift_swap_request(shift=shift, user=cast.volunteer_user,
                                   to_volunteer=cast.carer)
    rosters.shift_swap_decide(swap=swap, user=cast.carer_user, accept=False)
    shift.refresh_from_db()
    assert shift.volunteer == cast.volunteer
    assert ShiftSwap.objects.get().status == ShiftSwap.Status.DECLINED


def test_only_the_shift_holder_may_ask_for_a_swap(territory, cast):
    shift = _shift(ServicePostFactory(compound=territory.compound), cast.volunteer)
    with pytest.raises(PermissionDeniedError, match="只能为自己的值班申请换班"):
        rosters.shift_swap_request(shift=shift, user=cast.carer_user, to_volunteer=cast.carer)


def test_shift_check_in_works_only_around_the_shift(territory, cast):
    shift = _shift(ServicePostFactory(compound=territory.compound), cast.volunteer)
    with pytest.raises(ApplicationError, match="不在值班签到时间内"):
        rosters.shift_check_in(shift=shift, user=cast.volunteer_user)
    with time_machine.travel(shift.starts_at + timedelta(minutes=5)):
        rosters.shift_check_in(shift=shift, user=cast.volunteer_user)
    shift.refresh_from_db()
    assert shift.status == Shift.Status.CHECKED_IN


def test_shift_reminders_are_sent_once(territory, cast):
    post = ServicePostFactory(compound=territory.compound)
    soon = _shift(post, cast.volunteer, starts_in=timedelta(hours=3))
    _shift(post, cast.carer, starts_in=timedelta(days=3))
    assert rosters.shifts_send_reminders(now=timezone.now()) == 1
    assert rosters.shifts_send_reminders(now=timezone.now()) == 0
    soon.refresh_from_db()
    assert soon.reminded_at is not None
    assert Notification.objects.filter(user=cast.volunteer_user, title="值班提醒").count() == 1


def test_the_reminder_sweep_runs_in_constant_queries(territory, cast,
                                                     django_assert_max_num_queries):
    post = ServicePostFactory(compound=territory.compound)
    for hours in (2, 3, 4):
        _shift(post, cast.volunteer, starts_in=timedelta(hours=hours))
    # one read + one update + one insert per shift (the inbox rows) at most
    with django_assert_max_num_queries(2 + 3):
        assert rosters.shifts_send_reminders(now=timezone.now()) == 3


# --- activities ---------------------------------------------------------------------------

def test_sign_up_fills_places_then_waitlists_and_a_cancellation_promotes(territory, cast):
    activity = ActivityFactory(compound=territory.compound, capacity=1)
    first = activities.activity_signup(activity=activity, volunteer=cast.volunteer)
    second = activities.activity_signup(activity=activity, volunteer=cast.carer)
    assert first.status == ActivitySignup.Status.CONFIRMED
    assert second.status == ActivitySignup.Status.WAITLISTED
    with pytest.raises(ApplicationError, match="您已报名该活动"):
        activities.activity_signup(activity=activity, volunteer=cast.volunteer)
    activities.activity_signup_cancel(signup=first, user=cast.volunteer_user)
    second.refresh_from_db()
    assert second.status == ActivitySignup.Status.CONFIRMED
    assert Notification.objects.filter(user=cast.carer_user, title="候补转正").exists()
    again = activities.activity_signup(activity=activity, volunteer=cast.volunteer)
    assert again.pk == first.pk
    assert again.status == ActivitySignup.Status.WAITLISTED


def test_staff_cancel_an_activity_and_the_volunteers_are_told(territory, cast,
                                                             community_staff):
    activity = ActivityFactory(compound=territory.compound)
    activities.activity_signup(activity=activity, volunteer=cast.volunteer)
    with pytest.raises(PermissionDeniedError, match="您无权管理该小区的志愿服务"):
        activities.activity_cancel(activity=activity, actor=cast.volunteer_user)
    activities.activity_cancel(activity=activity, actor=community_staff, reason="暴雨")
    assert Notification.objects.filter(user=cast.volunteer_user, title="活动已取消").exists()
    with pytest.raises(ApplicationError, match="该活动已截止报名"):
        activities.activity_signup(activity=activity, volunteer=cast.carer)


def test_it_refuses_sign_up_from_another_compound(territory, cast):
    activity = ActivityFactory(compound=territory.other_compound)
    with pytest.raises(ApplicationError, match="只有本小区在册志愿者可以报名"):
        activities.activity_signup(activity=activity, volunteer=cast.volunteer)


def test_hours_are_presence_inside_the_activity_rounded_down_to_half_hours(territory):
    activity = ActivityFactory(compound=territory.compound,
                               starts_at=datetime(2026, 12, 5, 9, tzinfo=SHANGHAI),
                               ends_at=datetime(2026, 12, 5, 12, tzinfo=SHANGHAI))
    def hours(check_in, check_out):
        return activities.hours_compute(
            activity=activity, checked_in_at=datetime(2026, 12, 5, *check_in, tzinfo=SHANGHAI),
            checked_out_at=datetime(2026, 12, 5, *check_out, tzinfo=SHANGHAI))
    assert hours((9, 0), (11, 20)) == Decimal("2.0")
    assert hours((8, 30), (13, 0)) == Decimal("3.0")  # capped at the activity's own hours
    assert hours((9, 10), (10, 45)) == Decimal("1.5")
    assert hours((12, 30), (13, 0)) == Decimal("0")


def test_check_in_by_code_check_out_and_staff_approval_fill_the_ledger(
        territory, cast, community_staff):
    activity = ActivityFactory(compound=territory.compound, checkin_code="654321")
    signup = activities.activity_signup(activity=activity, volunteer=cast.volunteer)
    with time_machine.travel(activity.starts_at, tick=False):
        with pytest.raises(ApplicationError, match="签到码不正确"):
            activities.signup_check_in(signup=signup, user=cast.volunteer_user, code="000000")
        activities.signup_check_in(signup=signup, user=cast.volunteer_user, code="654321")
    with time_machine.travel(activity.starts_at + timedelta(hours=2, minutes=10), tick=False):
        entry = activities.signup_check_out(signup=signup, user=cast.volunteer_user,
                                            code="654321")
    assert entry.hours == Decimal("2.0")
    assert entry.status == HoursEntry.Status.PENDING
    assert entry.source == HoursEntry.Source.APP
    with pytest.raises(PermissionDeniedError, match="您无权管理该小区的志愿服务"):
        activities.hours_entry_decide(entry=entry, actor=cast.volunteer_user, approve=True)
    activities.hours_entry_decide(entry=entry, actor=community_staff, approve=True)
    activities.hours_entry_add(volunteer=cast.volunteer, actor=community_staff,
                               hours=Decimal("1.5"), served_on=timezone.localdate(),
                               note="补录：义诊")
    totals = selectors.hours_yearly_totals(volunteer_id=cast.volunteer.pk)
    by_year = {row["year"]: row for row in totals}
    activity_year = timezone.localdate(activity.starts_at).year
    assert by_year[activity_year]["app"] == Decimal("2.0")
    assert sum(row["staff"] for row in totals) == Decimal("1.5")
    assert sum(row["total"] for row in totals) == Decimal("3.5")


def test_a_waitlisted_volunteer_cannot_check_in(territory, cast, community_staff):
    activity = ActivityFactory(compound=territory.compound, capacity=1)
    activities.activity_signup(activity=activity, volunteer=cast.carer)
    waiting = activities.activity_signup(activity=activity, volunteer=cast.volunteer)
    with (time_machine.travel(activity.starts_at),
          pytest.raises(ApplicationError, match="只有已报名（非候补）的志愿者可以签到")):
        activities.signup_check_in(signup=waiting, user=community_staff)


def test_staff_may_check_in_without_a_code_but_outsiders_may_not(territory, cast,
                                                                 community_staff, outsider):
    activity = ActivityFactory(compound=territory.compound)
    signup = activities.activity_signup(activity=activity, volunteer=cast.volunteer)
    with time_machine.travel(activity.starts_at):
        with pytest.raises(PermissionDeniedError, match="只能为自己签到"):
            activities.signup_check_in(signup=signup, user=outsider)
        activities.signup_check_in(signup=signup, user=community_staff)
    signup.refresh_from_db()
    assert signup.checked_in_at is not None


def test_team_ranking_orders_by_approved_hours_of_the_year(territory, cast, community_staff):
    team = cast.caring_team
    activities.team_member_add(team=team, volunteer=cast.volunteer)
    today = timezone.localdate()
    activities.hours_entry_add(volunteer=cast.volunteer, actor=community_staff,
                               hours=Decimal("4"), served_on=today, note="x")
    activities.hours_entry_add(volunteer=cast.carer, actor=community_staff, hours=Decimal("2"),
                               served_on=today, note="x")
    ranking = list(selectors.team_ranking(team=team, year=today.year))
    assert [volunteer.pk for volunteer in ranking] == [cast.volunteer.pk, cast.carer.pk]
    assert ranking[0].year_hours == Decimal("4")


def test_a_resident_registers_as_a_volunteer_and_a_party_member_is_marked(territory, cast):
    member_volunteer = activities.volunteer_register(user=cast.member_user)
    assert member_volunteer.is_party_member
    assert member_volunteer.identity == Volunteer.Identity.PARTY_MEMBER
    assert activities.volunteer_register(user=cast.member_user).pk == member_volunteer.pk


# --- micro-wishes -------------------------------------------------------------------------

def _published_wish(territory, community_staff, resident_user):
    wish = wishes.micro_wish_submit(resident=resident_user.residents.get(),
                                    title="想要一个助行器")
    return wishes.micro_wish_publish(wish=wish, actor=community_staff)


def test_the_micro_wish_journey_from_wish_to_confirmation(territory, cast, community_staff,
                                                          resident_user):
    wish = _published_wish(territory, community_staff, resident_user)
    assert Notification.objects.filter(user=cast.member_user,
                                       title="新的微心愿待认领").exists()
    wishes.micro_wish_claim(wish=wish, user=cast.member_user)
    wishes.micro_wish_fulfil(wish=wish, user=cast.member_user, note="已送到家中")
    wishes.micro_wish_confirm(wish=wish, user=resident_user)
    wish.refresh_from_db()
    assert wish.status == MicroWish.Status.CONFIRMED
    assert list(wish.events.values_list("new_status", flat=True)) == [
        "submitted", "published", "claimed", "fulfilled", "confirmed"]


def test_a_claim_is_exclusive(territory, cast, community_staff, resident_user, org):
    from tests.residents.factories import PartyMemberFactory

    wish = _published_wish(territory, community_staff, resident_user)
    other_user = resident_account(territory, "member2")
    PartyMemberFactory(resident=other_user.residents.get(), org_node=org)
    wishes.micro_wish_claim(wish=wish, user=cast.member_user)
    with pytest.raises(ApplicationError, match="已被其他党员认领"):
        wishes.micro_wish_claim(wish=wish, user=other_user)
    with pytest.raises(PermissionDeniedError, match="只有认领人可以完成该心愿"):
        wishes.micro_wish_fulfil(wish=wish, user=other_user, note="抢先完成")


def test_only_party_members_of_the_compound_may_claim(territory, cast, community_staff,
                                                      resident_user):
    wish = _published_wish(territory, community_staff, resident_user)
    with pytest.raises(PermissionDeniedError, match="只有本小区党员可以认领微心愿"):
        wishes.micro_wish_claim(wish=wish, user=cast.volunteer_user)


def test_an_untouched_claim_expires_back_to_the_pool(territory, cast, community_staff,
                                                     resident_user, settings):
    settings.VOLUNTEERS_WISH_CLAIM_DAYS = 3
    wish = _published_wish(territory, community_staff, resident_user)
    wishes.micro_wish_claim(wish=wish, user=cast.member_user)
    assert wishes.micro_wishes_expire_claims(now=timezone.now() + timedelta(days=2)) == 0
    later = timezone.now() + timedelta(days=3, minutes=1)
    assert wishes.micro_wishes_expire_claims(now=later) == 1
    assert wishes.micro_wishes_expire_claims(now=later) == 0
    wish.refresh_from_db()
    assert wish.status == MicroWish.Status.PUBLISHED
    assert wish.claimed_by is None
    assert MicroWishEvent.objects.filter(wish=wish, new_status="published").count() == 2


def test_a_fulfilled_wish_does_not_expire(territory, cast, community_staff, resident_user):
    wish = _published_wish(territory, community_staff, resident_user)
    wishes.micro_wish_claim(wish=wish, user=cast.member_user)
    wishes.micro_wish_fulfil(wish=wish, user=cast.member_user, note="done")
    assert wishes.micro_wishes_expire_claims(now=timezone.now() + timedelta(days=60)) == 0


def test_the_wish_transition_table_refuses_illegal_moves(territory, community_staff,
                                                         resident_user):
    wish = wishes.micro_wish_submit(resident=resident_user.residents.get(), title="心愿")
    with pytest.raises(InvalidTransition, match="不能从“待审核”变为“已实现”"):
        wishes.micro_wish_confirm(wish=wish, user=resident_user)
    wishes.micro_wish_reject(wish=wish, actor=community_staff, reason="不属于微心愿范围")
    with pytest.raises(InvalidTransition, match="不能从“未通过”变为“待认领”"):
        wishes.micro_wish_publish(wish=wish, actor=community_staff)


def test_every_wish_transition_in_the_table_is_reachable_and_nothing_else():
    statuses = set(MicroWish.Status.values)
    for source, targets in MicroWish.TRANSITIONS.items():
        assert source in statuses
        assert targets <= statuses
    assert not MicroWish.TRANSITIONS.get(MicroWish.Status.CONFIRMED)


# --- proxy services -----------------------------------------------------------------------

def test_a_proxy_service_goes_from_request_to_confirmation(territory, cast, community_staff,
                                                           resident_user):
    service = proxy.proxy_service_request(resident=resident_user.residents.get(),
                                          kind=ProxyService.Kind.MEDICINE, title="代购降压药")
    with pytest.raises(PermissionDeniedError, match="您无权管理该小区的志愿服务"):
        proxy.proxy_service_assign(service=service, assignee=cast.volunteer,
                                   actor=resident_user)
    proxy.proxy_service_assign(service=service, assignee=cast.volunteer,
                               actor=community_staff)
    with pytest.raises(PermissionDeniedError, match="您无权管理该小区的志愿服务"):
        proxy.proxy_service_complete(service=service, user=cast.carer_user, note="x")
    proxy.proxy_service_complete(service=service, user=cast.volunteer_user, note="已送达")
    with pytest.raises(PermissionDeniedError, match="只有委托人可以确认"):
        proxy.proxy_service_confirm(service=service, user=cast.volunteer_user)
    proxy.proxy_service_confirm(service=service, user=resident_user)
    service.refresh_from_db()
    assert service.status == ProxyService.Status.CONFIRMED
    assert service.events.count() == 4
    counts = selectors.dashboard_counts(user=community_staff)
    assert counts["services"]["done"] == 1


# --- care ---------------------------------------------------------------------------------

@pytest.fixture
def elder(territory):
    return ResidentFactory(household=territory.household1, name="独居老人赵", tags=["elder_alone"],
                           birth_year=1940)


@pytest.fixture
def care_file(elder, cast, community_staff):
    return care.care_file_create(resident=elder, actor=community_staff,
                                 category=CareFile.Category.ELDER_ALONE,
                                 risk=CareFile.Risk.HIGH, caretaker=cast.carer,
                                 health_notes="高血压，独自服药")


def test_the_visit_plan_follows_the_risk_level(care_file):
    assert care_file.frequency == CareFile.Frequency.WEEKLY
    assert care_file.next_visit_due == timezone.localdate() + timedelta(days=7)


def test_care_files_are_seen_only_by_the_caring_team_and_community_staff_in_scope(
        care_file, cast, community_staff, grid_worker, outsider, street_admin):
    for allowed in (cast.carer_user, community_staff, street_admin):
        assert selectors.care_file_get_for_user(user=allowed, care_file_id=care_file.pk)
    for refused in (cast.volunteer_user, cast.member_user, grid_worker, outsider):
        with pytest.raises(Http404):
            selectors.care_file_get_for_user(user=refused, care_file_id=care_file.pk)


def test_a_visit_resets_the_plan_and_outsiders_cannot_log_one(care_file, cast, outsider):
    with pytest.raises(Http404):
        care.care_visit_log(care_file=care_file, user=outsider,
                            visited_on=timezone.localdate(), notes="x")
    care.care_visit_log(care_file=care_file, user=cast.carer_user,
                        visited_on=timezone.localdate(), notes="精神不错")
    care_file.refresh_from_db()
    assert care_file.next_visit_due == timezone.localdate() + timedelta(days=7)
    assert care_file.visits.get().visitor == cast.carer


def test_an_overdue_visit_is_flagged_then_a_second_miss_alerts_community_staff(
        care_file, cast, community_staff, outsider):
    start = timezone.now()
    with time_machine.travel(start + timedelta(days=6), tick=False):
        assert care.care_visits_flag_overdue(now=timezone.now()) == {"flagged": 0,
                                                                          "alerted": 0}
    with time_machine.travel(start + timedelta(days=8), tick=False):
        assert care.care_visits_flag_overdue(now=timezone.now()) == {"flagged": 1,
                                                                          "alerted": 0}
        assert care.care_visits_flag_overdue(now=timezone.now()) == {"flagged": 0,
                                                                          "alerted": 0}
    care_file.refresh_from_db()
    assert care_file.missed_count == 1
    assert Notification.objects.filter(user=cast.carer_user, title="关爱走访已逾期").exists()
    assert not Notification.objects.filter(user=community_staff).exists()
    with time_machine.travel(start + timedelta(days=15), tick=False):
        assert care.care_visits_flag_overdue(now=timezone.now())["alerted"] == 1
        assert care.care_visits_flag_overdue(now=timezone.now())["alerted"] == 0
    assert Notification.objects.filter(user=community_staff,
                                       title="关爱走访连续两次逾期").count() == 1
    assert not Notification.objects.filter(user=outsider).exists()
    with time_machine.travel(start + timedelta(days=16), tick=False):
        care.care_visit_log(care_file=care_file, user=cast.carer_user,
                            visited_on=timezone.localdate(), notes="补访")
    care_file.refresh_from_db()
    assert care_file.missed_count == 0


def test_the_overdue_sweep_runs_in_constant_queries(territory, cast, community_staff,
                                                    django_assert_max_num_queries):
    for index in range(4):
        elder = ResidentFactory(household=territory.household1, name=f"老人{index}")
        care.care_file_create(resident=elder, actor=community_staff,
                              category=CareFile.Category.EMPTY_NEST,
                              risk=CareFile.Risk.HIGH, caretaker=cast.carer)
    CareFile.objects.update(next_visit_due=date(2020, 1, 1), second_miss_on=date(2020, 1, 8),
                            missed_count=1)
    # two reads + update + staff lookup + one inbox insert per file
    with django_assert_max_num_queries(4 + 4):
        assert care.care_visits_flag_overdue(now=timezone.now())["alerted"] == 4


def test_access_logging_writes_one_row_per_view(care_file, community_staff):
    care.care_file_log_access(care_file=care_file, user=community_staff,
                              channel=CareFileAccessLog.Channel.PAGE)
    assert CareFileAccessLog.objects.filter(care_file=care_file, user=community_staff).count() == 1


def test_a_second_care_file_for_the_same_elder_is_refused(care_file, elder, community_staff):
    with pytest.raises(ApplicationError, match="该居民已有关爱档案"):
        care.care_file_create(resident=elder, actor=community_staff,
                              category=CareFile.Category.ELDER_ALONE, risk=CareFile.Risk.LOW)


def test_volunteer_factory_defaults_are_unmarked(territory):
    assert not VolunteerFactory(compound=territory.compound).is_party_member
