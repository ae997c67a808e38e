"""Issue #17 items 6 and 7: the volunteer ledger closes its loops, and who may take which duty.

Shift hours credited pending, qualifications with expiry, overlap, the change window,
no-shows, 代录 with consent, care-visit hours and follow-ups, the CSV export and the calendar.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.http import Http404
from django.utils import timezone

from core.exceptions import ApplicationError, InvalidTransition, PermissionDeniedError
from petitions.models import Petition, PetitionEvent
from tests.petitions.factories import category
from tests.residents.factories import ResidentFactory
from tests.volunteers.factories import ActivityFactory, ServicePostFactory
from volunteers import selectors
from volunteers.exports import HEADER, hours_rows
from volunteers.ical import calendar_for_shifts
from volunteers.models import (
    CareFile,
    HoursEntry,
    MicroWish,
    ProxyConsent,
    ProxyService,
    QualificationKind,
    Shift,
    ShiftSwap,
)
from volunteers.services import activities, care, proxy, rosters, wishes
from volunteers.services._common import Consent

pytestmark = pytest.mark.django_db
SHANGHAI = timezone.get_fixed_timezone(8 * 60)
MONDAY_9 = datetime(2026, 12, 7, 9, tzinfo=SHANGHAI)


def shift_for(post, volunteer, starts_at, hours=2):
    return Shift.objects.create(post=post, volunteer=volunteer, starts_at=starts_at,
                                ends_at=starts_at + timedelta(hours=hours),
                                remind_at=starts_at - Shift.REMIND_BEFORE)


@pytest.fixture
def post(territory):
    return ServicePostFactory(compound=territory.compound, location="党群服务站门口")


@pytest.fixture
def care_post(territory):
    return ServicePostFactory(compound=territory.compound, kind="elderly_care", name="敬老助老岗",
                              required_qualifications=[QualificationKind.HEALTH_CHECK])


# --- 6. shift hours ---------------------------------------------------------------------------

def test_a_checked_in_shift_credits_its_hours_pending_approval(post, cast):
    shift = shift_for(post, cast.volunteer, MONDAY_9)
    with time_machine.travel(MONDAY_9 - timedelta(minutes=10), tick=False):
        rosters.shift_check_in(shift=shift, user=cast.volunteer_user)
    entry = HoursEntry.objects.get(shift=shift)
    assert entry.status == HoursEntry.Status.PENDING
    assert entry.source == HoursEntry.Source.SHIFT
    assert entry.hours == Decimal("2.0")
    assert entry.served_on == date(2026, 12, 7)
    # Not counted until staff approve it.
    assert selectors.hours_yearly_totals(volunteer_id=cast.volunteer.pk) == []


def test_a_late_check_in_credits_only_the_time_left_rounded_down_to_the_half_hour(post, cast):
    shift = shift_for(post, cast.volunteer, MONDAY_9)
    with time_machine.travel(MONDAY_9 + timedelta(minutes=40), tick=False):
        rosters.shift_check_in(shift=shift, user=cast.volunteer_user)
    assert HoursEntry.objects.get(shift=shift).hours == Decimal("1.0")


def test_approved_shift_hours_count_with_the_app_recorded_hours(post, cast, community_staff):
    shift = shift_for(post, cast.volunteer, MONDAY_9)
    with time_machine.travel(MONDAY_9, tick=False):
        rosters.shift_check_in(shift=shift, user=cast.volunteer_user)
    activities.hours_entry_decide(entry=HoursEntry.objects.get(shift=shift),
                                  actor=community_staff, approve=True)
    [year] = selectors.hours_yearly_totals(volunteer_id=cast.volunteer.pk)
    assert (year["year"], year["app"], year["total"]) == (2026, Decimal("2.0"), Decimal("2.0"))


# --- 7. no-shows ----------------------------------------------------------------------------

def test_a_no_show_is_recorded_by_staff_shown_in_the_ledger_and_gives_no_hours(
        post, cast, community_staff):
    shift = shift_for(post, cast.volunteer, MONDAY_9)
    with time_machine.travel(MONDAY_9 + timedelta(hours=3), tick=False):
        rosters.shift_no_show_record(shift=shift, actor=community_staff, note="未到岗")
        with pytest.raises(ApplicationError, match=r"不在值班签到时间内|已记缺勤"):
            rosters.shift_check_in(shift=shift, user=cast.volunteer_user)
    shift.refresh_from_db()
    assert shift.status == Shift.Status.NO_SHOW
    assert shift.closed_by == community_staff
    assert not HoursEntry.objects.filter(volunteer=cast.volunteer).exists()
    assert list(selectors.volunteer_no_shows(volunteer_id=cast.volunteer.pk)) == [shift]


def test_a_no_show_cannot_be_recorded_before_the_shift_or_by_the_volunteer_or_outsiders(
        post, cast, outsider, community_staff):
    shift = shift_for(post, cast.volunteer, MONDAY_9)
    with time_machine.travel(MONDAY_9 - timedelta(hours=1), tick=False), \
            pytest.raises(ApplicationError, match="尚未开始"):
        rosters.shift_no_show_record(shift=shift, actor=community_staff)
    with time_machine.travel(MONDAY_9 + timedelta(hours=1), tick=False):
        for refused in (cast.volunteer_user, outsider):
            with pytest.raises(PermissionDeniedError, match="您无权管理该小区的志愿服务"):
                rosters.shift_no_show_record(shift=shift, actor=refused)


def test_a_checked_in_shift_cannot_become_a_no_show(post, cast, community_staff):
    shift = shift_for(post, cast.volunteer, MONDAY_9)
    with time_machine.travel(MONDAY_9, tick=False):
        rosters.shift_check_in(shift=shift, user=cast.volunteer_user)
        with pytest.raises(InvalidTransition, match="不能从“已签到”变为“缺勤”"):
            rosters.shift_no_show_record(shift=shift, actor=community_staff)


def test_the_shift_transition_table_allows_only_moves_out_of_scheduled():
    assert set(Shift.TRANSITIONS) == {Shift.Status.SCHEDULED}
    assert Shift.TRANSITIONS[Shift.Status.SCHEDULED] == {
        Shift.Status.CHECKED_IN, Shift.Status.CANCELLED, Shift.Status.NO_SHOW}


# --- 7. qualifications ----------------------------------------------------------------------

def _health_check(volunteer, staff, *, expires_on, obtained_on=date(2026, 1, 5)):
    with time_machine.travel(datetime(2026, 12, 1, 8, tzinfo=SHANGHAI), tick=False):
        return activities.qualification_record(
            volunteer=volunteer, actor=staff, kind=QualificationKind.HEALTH_CHECK,
            obtained_on=obtained_on, expires_on=expires_on)


def test_a_post_that_requires_a_qualification_refuses_a_volunteer_without_one(
        care_post, cast, community_staff):
    with pytest.raises(ApplicationError, match="缺少有效资质：健康体检"):
        rosters.shift_assign(post=care_post, volunteer=cast.volunteer, actor=community_staff,
                             starts_at=MONDAY_9, ends_at=MONDAY_9 + timedelta(hours=2))
    _health_check(cast.volunteer, community_staff, expires_on=date(2027, 1, 4))
    shift = rosters.shift_assign(post=care_post, volunteer=cast.volunteer,
                                 actor=community_staff, starts_at=MONDAY_9,
                                 ends_at=MONDAY_9 + timedelta(hours=2))
    assert shift.volunteer == cast.volunteer


def test_an_expired_qualification_no_longer_opens_the_post(care_post, cast, community_staff):
    _health_check(cast.volunteer, community_staff, expires_on=date(2026, 12, 10))
    shift = rosters.shift_assign(post=care_post, volunteer=cast.volunteer,
                                 actor=community_staff, starts_at=MONDAY_9,
                                 ends_at=MONDAY_9 + timedelta(hours=2))
    later = datetime(2026, 12, 14, 9, tzinfo=SHANGHAI)
    # The shift on the 14th falls after the check's last valid day (the 10th): refused.
    with pytest.raises(ApplicationError, match="缺少有效资质"):
        rosters.shift_assign(post=care_post, volunteer=cast.volunteer, actor=community_staff,
                             starts_at=later, ends_at=later + timedelta(hours=2))
    # Valid on its last day, then checked again at the door.
    with time_machine.travel(MONDAY_9, tick=False):
        rosters.shift_check_in(shift=shift, user=cast.volunteer_user)
    late_shift = shift_for(care_post, cast.volunteer, later)  # e.g. generated before expiry
    with time_machine.travel(later, tick=False), pytest.raises(ApplicationError, match="缺少"):
        rosters.shift_check_in(shift=late_shift, user=cast.volunteer_user)


def test_an_activity_requiring_first_aid_refuses_sign_up_until_the_certificate_is_recorded(
        territory, cast, community_staff):
    activity = ActivityFactory(compound=territory.compound,
                               required_qualifications=[QualificationKind.FIRST_AID])
    with pytest.raises(ApplicationError, match="急救证书"):
        activities.activity_signup(activity=activity, volunteer=cast.volunteer)
    activities.qualification_record(volunteer=cast.volunteer, actor=community_staff,
                                    kind=QualificationKind.FIRST_AID,
                                    obtained_on=timezone.localdate())
    assert activities.activity_signup(activity=activity, volunteer=cast.volunteer)


def test_a_qualification_is_recorded_only_by_staff_in_scope_and_with_a_sane_period(
        cast, outsider, community_staff):
    with pytest.raises(PermissionDeniedError, match="您无权管理该小区的志愿服务"):
        activities.qualification_record(volunteer=cast.volunteer, actor=outsider,
                                        kind=QualificationKind.FIRST_AID,
                                        obtained_on=date(2026, 1, 1))
    with pytest.raises(ApplicationError, match="有效期不能早于取得日期"):
        activities.qualification_record(volunteer=cast.volunteer, actor=community_staff,
                                        kind=QualificationKind.FIRST_AID,
                                        obtained_on=date(2026, 1, 1),
                                        expires_on=date(2025, 1, 1))
    with pytest.raises(ApplicationError, match="未知的资质类型"):
        activities.qualification_record(volunteer=cast.volunteer, actor=community_staff,
                                        kind="driving", obtained_on=date(2026, 1, 1))


def test_a_renewal_replaces_the_qualification_of_that_kind(cast, community_staff):
    _health_check(cast.volunteer, community_staff, expires_on=date(2026, 6, 30))
    _health_check(cast.volunteer, community_staff, expires_on=date(2027, 6, 30),
                  obtained_on=date(2026, 7, 1))
    assert cast.volunteer.qualifications.get().expires_on == date(2027, 6, 30)


def test_a_care_file_requiring_a_health_check_refuses_a_visit_by_an_unchecked_carer(
        territory, cast, community_staff):
    elder = ResidentFactory(household=territory.household1, name="独居老人赵")
    care_file = care.care_file_create(resident=elder, actor=community_staff,
                                      category=CareFile.Category.ELDER_ALONE,
                                      risk=CareFile.Risk.HIGH,
                                      required_qualifications=[QualificationKind.HEALTH_CHECK])
    CareFile.objects.filter(pk=care_file.pk).update(caretaker=cast.carer)
    with pytest.raises(ApplicationError, match="健康体检"):
        care.care_visit_log(care_file=care_file, user=cast.carer_user,
                            visited_on=timezone.localdate(), notes="x", minutes=30)
    with pytest.raises(ApplicationError, match="健康体检"):
        care.care_file_create(resident=ResidentFactory(household=territory.household1),
                              actor=community_staff, category=CareFile.Category.EMPTY_NEST,
                              risk=CareFile.Risk.LOW, caretaker=cast.carer,
                              required_qualifications=[QualificationKind.HEALTH_CHECK])


# --- 7. overlap -----------------------------------------------------------------------------

def test_overlapping_shifts_for_one_volunteer_are_refused_but_back_to_back_ones_are_not(
        territory, post, cast, community_staff):
    other_post = ServicePostFactory(compound=territory.compound, kind="safety_patrol",
                                    name="安全巡查岗")
    rosters.shift_assign(post=post, volunteer=cast.volunteer, actor=community_staff,
                         starts_at=MONDAY_9, ends_at=MONDAY_9 + timedelta(hours=2))
    with pytest.raises(ApplicationError, match="不能重叠"):
        rosters.shift_assign(post=other_post, volunteer=cast.volunteer, actor=community_staff,
                             starts_at=MONDAY_9 + timedelta(hours=1),
                             ends_at=MONDAY_9 + timedelta(hours=3))
    assert rosters.shift_assign(post=other_post, volunteer=cast.volunteer,
                                actor=community_staff, starts_at=MONDAY_9 + timedelta(hours=2),
                                ends_at=MONDAY_9 + timedelta(hours=3))


def test_a_cancelled_shift_no_longer_holds_the_time(territory, post, cast, community_staff):
    shift = rosters.shift_assign(post=post, volunteer=cast.volunteer, actor=community_staff,
                                 starts_at=MONDAY_9, ends_at=MONDAY_9 + timedelta(hours=2))
    with time_machine.travel(MONDAY_9 - timedelta(days=3), tick=False):
        rosters.shift_cancel(shift=shift, user=cast.volunteer_user)
    other_post = ServicePostFactory(compound=territory.compound, kind="civility", name="文明岗")
    assert rosters.shift_assign(post=other_post, volunteer=cast.volunteer,
                                actor=community_staff, starts_at=MONDAY_9,
                                ends_at=MONDAY_9 + timedelta(hours=1))


def test_a_swap_to_a_volunteer_busy_at_that_time_is_refused(territory, post, cast):
    other_post = ServicePostFactory(compound=territory.compound, kind="civility", name="文明岗")
    shift = shift_for(post, cast.volunteer, MONDAY_9)
    shift_for(other_post, cast.carer, MONDAY_9 + timedelta(hours=1))
    with time_machine.travel(MONDAY_9 - timedelta(days=3), tick=False), \
            pytest.raises(ApplicationError, match="不能重叠"):
        rosters.shift_swap_request(shift=shift, user=cast.volunteer_user,
                                   to_volunteer=cast.carer)


def test_roster_generation_leaves_out_occurrences_that_overlap_or_lack_a_qualification(
        territory, post, care_post, cast, community_staff):
    from datetime import time

    from volunteers.models import RosterSlot
    RosterSlot.objects.create(post=post, volunteer=cast.volunteer, weekday=0,
                              start_time=time(9), end_time=time(11))
    RosterSlot.objects.create(post=care_post, volunteer=cast.carer, weekday=0,
                              start_time=time(9), end_time=time(11))
    shift_for(ServicePostFactory(compound=territory.compound, kind="civility", name="文明岗"),
              cast.volunteer, MONDAY_9)
    with time_machine.travel(datetime(2026, 12, 1, 8, tzinfo=SHANGHAI), tick=False):
        created = rosters.roster_generate(post=post, start=date(2026, 12, 7),
                                          end=date(2026, 12, 14))
        # The 7th overlaps the volunteer's other shift; the 14th is free.
        assert created == 1
        # The carer holds no health check: the elder-care post gets none of theirs.
        assert rosters.roster_generate(post=care_post, start=date(2026, 12, 7),
                                       end=date(2026, 12, 14)) == 0


# --- 7. the change window -------------------------------------------------------------------

def test_a_volunteer_may_cancel_a_shift_until_the_window_closes_24_hours_before(post, cast):
    early, late = shift_for(post, cast.volunteer, MONDAY_9), shift_for(
        post, cast.volunteer, MONDAY_9 + timedelta(days=1))
    with time_machine.travel(MONDAY_9 - timedelta(hours=24, minutes=1), tick=False):
        rosters.shift_cancel(shift=early, user=cast.volunteer_user, reason="出差")
    with time_machine.travel(late.starts_at - timedelta(hours=23), tick=False), \
            pytest.raises(ApplicationError, match="24 小时内不能再更改或取消"):
        rosters.shift_cancel(shift=late, user=cast.volunteer_user)
    early.refresh_from_db()
    assert (early.status, early.close_reason) == (Shift.Status.CANCELLED, "出差")


def test_the_change_window_follows_the_setting(post, cast, settings):
    settings.VOLUNTEER_CHANGE_CLOSES_HOURS = 2
    shift = shift_for(post, cast.volunteer, MONDAY_9)
    with time_machine.travel(MONDAY_9 - timedelta(hours=3), tick=False):
        rosters.shift_cancel(shift=shift, user=cast.volunteer_user)
    assert Shift.objects.get(pk=shift.pk).status == Shift.Status.CANCELLED


def test_a_swap_can_be_neither_asked_nor_accepted_once_the_window_has_closed(post, cast):
    shift = shift_for(post, cast.volunteer, MONDAY_9)
    with time_machine.travel(MONDAY_9 - timedelta(hours=30), tick=False):
        swap = rosters.shift_swap_request(shift=shift, user=cast.volunteer_user,
                                          to_volunteer=cast.carer)
    with time_machine.travel(MONDAY_9 - timedelta(hours=10), tick=False):
        with pytest.raises(ApplicationError, match="小时内不能再更改"):
            rosters.shift_swap_decide(swap=swap, user=cast.carer_user, accept=True)
        with pytest.raises(ApplicationError, match="小时内不能再更改"):
            rosters.shift_swap_request(shift=shift_for(post, cast.volunteer,
                                                       MONDAY_9 + timedelta(hours=3)),
                                       user=cast.volunteer_user, to_volunteer=cast.carer)
    assert ShiftSwap.objects.get(pk=swap.pk).status == ShiftSwap.Status.REQUESTED


def test_staff_may_cancel_a_shift_inside_the_window_but_not_once_it_started(
        post, cast, community_staff):
    shift = shift_for(post, cast.volunteer, MONDAY_9)
    started = shift_for(post, cast.volunteer, MONDAY_9 - timedelta(hours=3), hours=2)
    with time_machine.travel(MONDAY_9 - timedelta(hours=2), tick=False):
        rosters.shift_cancel(shift=shift, user=community_staff)
        with pytest.raises(ApplicationError, match="已开始"):
            rosters.shift_cancel(shift=started, user=community_staff)


# --- 6. 代录 with consent ----------------------------------------------------------------------

@pytest.fixture
def elder(territory):
    return ResidentFactory(household=territory.household1, name="独居老人赵")


def consent(**changes):
    values = {"by": "本人（赵大爷）", "method": ProxyConsent.ConsentMethod.IN_PERSON,
              "at": timezone.now() - timedelta(minutes=5)}
    return Consent(**{**values, **changes})


def test_staff_record_a_proxy_request_for_an_elder_with_the_consent_noted(
        elder, community_staff):
    service = proxy.proxy_service_record_for(resident=elder, actor=community_staff,
                                             kind=ProxyService.Kind.MEDICINE,
                                             title="代购降压药", consent=consent())
    assert (service.recorded_by, service.consent_by, service.consent_method) == (
        community_staff, "本人（赵大爷）", ProxyConsent.ConsentMethod.IN_PERSON)
    assert service.consent_at is not None
    event = service.events.get()
    assert event.actor == community_staff and "当面口头同意" in event.note


def test_staff_record_a_micro_wish_for_an_elder_and_it_waits_for_verification(
        elder, community_staff):
    wish = wishes.micro_wish_record_for(resident=elder, actor=community_staff,
                                        title="想要一台收音机",
                                        consent=consent(by="女儿 赵某",
                                                        method=ProxyConsent.ConsentMethod.GUARDIAN))
    assert wish.status == MicroWish.Status.SUBMITTED
    assert wish.is_recorded_by_staff and wish.consent_by == "女儿 赵某"


def test_a_recording_on_someones_behalf_needs_consent_and_scope(elder, community_staff,
                                                                 outsider):
    with pytest.raises(ApplicationError, match="同意人"):
        proxy.proxy_service_record_for(resident=elder, actor=community_staff, kind="medicine",
                                       title="代购药", consent=consent(by="  "))
    with pytest.raises(ApplicationError, match="同意的方式"):
        wishes.micro_wish_record_for(resident=elder, actor=community_staff, title="收音机",
                                     consent=consent(method="guess"))
    with pytest.raises(ApplicationError, match="不能晚于现在"):
        wishes.micro_wish_record_for(resident=elder, actor=community_staff, title="收音机",
                                     consent=consent(at=timezone.now() + timedelta(hours=1)))
    with pytest.raises(PermissionDeniedError, match="您无权为该居民代录"):
        proxy.proxy_service_record_for(resident=elder, actor=outsider, kind="medicine",
                                       title="代购药", consent=consent())


# --- 6. care visits: hours and follow-ups ---------------------------------------------------

@pytest.fixture
def care_file(elder, cast, community_staff):
    return care.care_file_create(resident=elder, actor=community_staff,
                                 category=CareFile.Category.ELDER_ALONE,
                                 risk=CareFile.Risk.HIGH, caretaker=cast.carer)


def test_the_visitors_time_on_a_care_visit_counts_as_hours_pending_approval(care_file, cast):
    visit = care.care_visit_log(care_file=care_file, user=cast.carer_user,
                                visited_on=timezone.localdate(), notes="精神不错", minutes=50)
    entry = visit.hours_entry
    assert (entry.volunteer, entry.hours, entry.status, entry.source) == (
        cast.carer, Decimal("0.8"), HoursEntry.Status.PENDING, HoursEntry.Source.CARE)
    assert "赵" not in entry.note  # the ledger names no elder


def test_a_visit_logged_by_staff_who_are_not_volunteers_credits_no_hours(
        care_file, community_staff):
    visit = care.care_visit_log(care_file=care_file, user=community_staff,
                                visited_on=timezone.localdate(), notes="x", minutes=60)
    assert not HoursEntry.objects.filter(care_visit=visit).exists()


def test_a_visits_need_opens_a_proxy_service_in_one_action_linked_both_ways(care_file, cast):
    visit = care.care_visit_log(care_file=care_file, user=cast.carer_user,
                                visited_on=timezone.localdate(), notes="x", need="代缴燃气费")
    service = care.care_visit_open_proxy_service(
        visit=visit, user=cast.carer_user, kind=ProxyService.Kind.PAYMENT,
        consent_by="本人", consent_method=ProxyConsent.ConsentMethod.IN_PERSON)
    visit.refresh_from_db()
    assert visit.proxy_service == service and service.care_visit == visit
    assert (service.title, service.resident, service.recorded_by) == (
        "代缴燃气费", care_file.resident, cast.carer_user)
    with pytest.raises(ApplicationError, match="已转办"):
        care.care_visit_open_proxy_service(visit=visit, user=cast.carer_user, kind="payment",
                                           consent_by="本人", consent_method="in_person")


def test_a_visits_need_opens_a_petition_in_one_action_linked_both_ways(care_file, cast,
                                                                       community_staff):
    visit = care.care_visit_log(care_file=care_file, user=cast.carer_user,
                                visited_on=timezone.localdate(), notes="x",
                                need="楼道灯坏了，老人夜里看不清")
    petition_id = care.care_visit_open_petition(visit=visit, user=community_staff,
                                                category_id=category().pk)
    visit.refresh_from_db()
    assert visit.petition_id == petition_id
    petition = Petition.objects.get(pk=petition_id)
    assert petition.care_visit_id == visit.pk
    assert petition.channel == Petition.Channel.WALK_IN and not petition.is_public
    assert petition.description == "楼道灯坏了，老人夜里看不清"
    note = petition.events.filter(kind=PetitionEvent.Kind.NOTE, is_internal=True).get(
        note__contains="关爱走访")
    assert f"#{visit.pk}" in note.note


def test_a_carer_who_may_not_record_petitions_cannot_open_one_and_nothing_is_linked(
        care_file, cast):
    visit = care.care_visit_log(care_file=care_file, user=cast.carer_user,
                                visited_on=timezone.localdate(), notes="x", need="路灯坏了")
    with pytest.raises(PermissionDeniedError, match="可以代录诉求"):
        care.care_visit_open_petition(visit=visit, user=cast.carer_user,
                                      category_id=category().pk)
    visit.refresh_from_db()
    assert visit.petition_id is None
    assert not Petition.objects.exists()


def test_a_visit_without_a_need_opens_nothing_and_outsiders_get_404(care_file, cast,
                                                                     outsider):
    visit = care.care_visit_log(care_file=care_file, user=cast.carer_user,
                                visited_on=timezone.localdate(), notes="x")
    with pytest.raises(ApplicationError, match="没有记录需求"):
        care.care_visit_open_proxy_service(visit=visit, user=cast.carer_user, kind="payment",
                                           consent_by="本人", consent_method="in_person")
    with pytest.raises(Http404):
        care.care_visit_open_proxy_service(visit=visit, user=outsider, kind="payment",
                                           consent_by="本人", consent_method="in_person")


# --- 6. export and calendar -----------------------------------------------------------------

def test_the_export_holds_approved_hours_only_in_the_documented_columns(
        post, cast, community_staff):
    shift = shift_for(post, cast.volunteer, MONDAY_9)
    with time_machine.travel(MONDAY_9, tick=False):
        rosters.shift_check_in(shift=shift, user=cast.volunteer_user)
    activities.hours_entry_decide(entry=shift.hours_entry, actor=community_staff, approve=True)
    with time_machine.travel(datetime(2026, 12, 20, 9, tzinfo=SHANGHAI), tick=False):
        activities.hours_entry_add(volunteer=cast.volunteer, actor=community_staff,
                                   hours=Decimal("1.5"), served_on=date(2026, 12, 19),
                                   note="=HYPERLINK(\"http://x\",\"y\")")
    HoursEntry.objects.create(volunteer=cast.volunteer, source="app", hours=3,
                              served_on=date(2026, 12, 1))  # pending: never exported
    rows = list(hours_rows(selectors.hours_export_entries(volunteer_id=cast.volunteer.pk,
                                                          year=2026)))
    assert len(HEADER) == 13 and len(rows) == 2
    first = dict(zip(HEADER, rows[0], strict=True))
    assert first["服务日期"] == "2026-12-07" and first["开始时间"] == "2026-12-07 09:00"
    assert first["结束时间"] == "2026-12-07 11:00" and first["服务时长（小时）"] == "2.0"
    assert first["服务项目"] == post.name and first["服务内容"] == "值班签到"


def test_the_export_query_count_does_not_grow_with_the_rows(post, cast, community_staff,
                                                            django_assert_num_queries):
    for day in range(3):
        shift = shift_for(post, cast.volunteer, MONDAY_9 + timedelta(days=day))
        with time_machine.travel(shift.starts_at, tick=False):
            rosters.shift_check_in(shift=shift, user=cast.volunteer_user)
    HoursEntry.objects.update(status=HoursEntry.Status.APPROVED)
    with django_assert_num_queries(1):
        rows = list(hours_rows(selectors.hours_export_entries(volunteer_id=cast.volunteer.pk,
                                                              year=2026)))
    assert len(rows) == 3


def test_the_calendar_holds_the_volunteers_shifts_and_no_names(post, cast):
    shift = shift_for(post, cast.volunteer, MONDAY_9)
    text = calendar_for_shifts([shift], name="我的值班", host="example.org")
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "DTSTART:20261207T010000Z" in text and "STATUS:CONFIRMED" in text
    assert cast.volunteer.name not in text and cast.volunteer.phone not in text


def test_the_calendar_token_is_the_volunteers_own_and_rotating_it_revokes_the_old_url(cast):
    with pytest.raises(PermissionDeniedError, match="只能管理自己的日历订阅"):
        activities.volunteer_calendar_token_rotate(volunteer=cast.volunteer,
                                                   user=cast.carer_user)
    first = activities.volunteer_calendar_token_rotate(volunteer=cast.volunteer,
                                                       user=cast.volunteer_user).calendar_token
    assert selectors.volunteer_for_calendar_token(token=first) == cast.volunteer
    activities.volunteer_calendar_token_rotate(volunteer=cast.volunteer,
                                               user=cast.volunteer_user)
    for stale in (first, "", "short"):
        with pytest.raises(Http404):
            selectors.volunteer_for_calendar_token(token=stale)


def test_csv_module_reads_back_an_escaped_formula_as_text():
    # Guards the import path the export view uses (core.spreadsheets escapes every cell).
    from core.spreadsheets import formula_escape
    buffer = io.StringIO()
    csv.writer(buffer).writerow([formula_escape("=1+1"), formula_escape("-2")])
    assert buffer.getvalue().strip() == "'=1+1,'-2"


# --- personal data --------------------------------------------------------------------------

def test_erasing_a_person_revokes_their_calendar_and_clears_consent_names_and_visit_needs(
        care_file, cast, community_staff):
    from accounts.personal_data import Identifiers
    from volunteers import privacy

    activities.volunteer_calendar_token_rotate(volunteer=cast.carer, user=cast.carer_user)
    activities.qualification_record(volunteer=cast.carer, actor=community_staff,
                                    kind=QualificationKind.FIRST_AID,
                                    obtained_on=date(2026, 1, 1), reference="红十字-0042")
    visit = care.care_visit_log(care_file=care_file, user=cast.carer_user,
                                visited_on=timezone.localdate(), notes="x", need="代缴燃气费")
    care.care_visit_open_proxy_service(visit=visit, user=cast.carer_user, kind="payment",
                                       consent_by="女儿 赵某", consent_method="guardian")
    privacy.anonymise(user=cast.carer_user, identifiers=Identifiers(
        phones=frozenset(), names=frozenset(), id_numbers=frozenset(), usernames=frozenset(),
        resident_ids=(care_file.resident_id,), volunteer_ids=(cast.carer.pk,)))
    cast.carer.refresh_from_db()
    visit.refresh_from_db()
    assert cast.carer.calendar_token is None
    assert cast.carer.qualifications.get().reference == ""
    assert visit.need == "" and visit.proxy_service.consent_by == ""
