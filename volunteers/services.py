"""Every write in volunteers/: one transaction per call, locked rows, checked transitions,
status-change rows, notifications through notifications.services."""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core import guesses
from core.audit import audit_event_record
from core.exceptions import ApplicationError, PermissionDeniedError
from core.images import photo_reencode
from core.models import AuditEvent
from core.workflow import transition
from notifications.messages import Message
from notifications.services import notifications_create
from residents.models import PartyMember, Resident
from volunteers import selectors
from volunteers.models import (
    Activity,
    ActivitySignup,
    CareFile,
    CareFileAccessLog,
    CareVisit,
    HoursEntry,
    MicroWish,
    MicroWishEvent,
    ProxyService,
    ProxyServiceEvent,
    RosterSlot,
    ServicePost,
    Shift,
    ShiftSwap,
    Team,
    TeamMembership,
    Volunteer,
)

if TYPE_CHECKING:
    from accounts.models import User
    from territory.models import Compound

CHECK_IN_EARLY = timedelta(minutes=60)
HALF_HOUR = Decimal("0.5")


def wish_claim_days() -> int:
    """Days a claimed wish may stay untouched (setting VOLUNTEERS_WISH_CLAIM_DAYS, default 7)."""
    return int(getattr(settings, "VOLUNTEERS_WISH_CLAIM_DAYS", 7))


def _require_staff(user: User | Any, compound: Compound) -> None:
    if not selectors.is_staff_for_compound(user, compound):
        raise PermissionDeniedError(_("您无权管理该小区的志愿服务。"))


# --- volunteers and teams -----------------------------------------------------------------

def volunteer_register(*, user: User, skills: str = "") -> Volunteer:
    """A resident signs up as a volunteer; a party member is marked as such."""
    resident = selectors.resident_for_user(user)
    if resident is None:
        raise ApplicationError(_("请先完成居民信息登记，再报名志愿者。"))
    existing = Volunteer.objects.filter(user=user).first()
    if existing is not None:
        return existing
    member = PartyMember.objects.filter(resident=resident).first()
    identity = Volunteer.Identity.PARTY_MEMBER if member else Volunteer.Identity.RESIDENT
    with transaction.atomic():
        return Volunteer.objects.create(
            compound_id=resident.household.building.compound_id, user=user, resident=resident,
            party_member=member, name=resident.name, phone=resident.phone, identity=identity,
            skills=skills)


def team_member_add(*, team: Team, volunteer: Volunteer,
                    role: str = TeamMembership.Role.MEMBER) -> TeamMembership:
    if volunteer.compound_id != team.compound_id:
        raise ApplicationError(_("志愿者不属于该团队所在小区。"))
    membership, _created = TeamMembership.objects.get_or_create(
        team=team, volunteer=volunteer, defaults={"role": role, "joined_on": timezone.localdate()})
    return membership


# --- rosters ------------------------------------------------------------------------------

def roster_generate(*, post: ServicePost, start: date, end: date) -> int:
    """Create the shifts of every active slot of `post` between two dates (inclusive).

    Idempotent: an occurrence that exists already (slot, start) is skipped by the unique key,
    so a swapped shift keeps its new volunteer when the roster is generated again.
    """
    if end < start:
        raise ApplicationError(_("结束日期不能早于开始日期。"))
    if (end - start).days > 92:
        raise ApplicationError(_("一次最多生成一个季度的值班表。"))
    zone = timezone.get_current_timezone()
    shifts = []
    for slot in post.slots.filter(is_active=True):
        day = start + timedelta(days=(slot.weekday - start.weekday()) % 7)
        while day <= end:
            starts_at = datetime.combine(day, slot.start_time, tzinfo=zone)
            shifts.append(Shift(
                post=post, slot=slot, volunteer_id=slot.volunteer_id, starts_at=starts_at,
                ends_at=datetime.combine(day, slot.end_time, tzinfo=zone),
                remind_at=starts_at - Shift.REMIND_BEFORE))
            day += timedelta(days=7)
    created = Shift.objects.bulk_create(shifts, ignore_conflicts=True)
    return len(created)


def roster_slot_add(*, post: ServicePost, volunteer: Volunteer, weekday: int,
                    start_time: Any, end_time: Any) -> RosterSlot:
    if volunteer.compound_id != post.compound_id:
        raise ApplicationError(_("值班人不属于该小区。"))
    if end_time <= start_time:
        raise ApplicationError(_("结束时间必须晚于开始时间。"))
    slot, _created = RosterSlot.objects.get_or_create(
        post=post, volunteer=volunteer, weekday=weekday, start_time=start_time,
        defaults={"end_time": end_time})
    return slot


def shift_swap_request(*, shift: Shift, user: User, to_volunteer: Volunteer,
                       reason: str = "") -> ShiftSwap:
    with transaction.atomic():
        shift = (Shift.objects.select_for_update(of=("self",)).select_related("volunteer")
                 .get(pk=shift.pk))
        if shift.volunteer.user_id != user.pk:
            raise PermissionDeniedError(_("只能为自己的值班申请换班。"))
        if shift.status != Shift.Status.SCHEDULED or shift.starts_at <= timezone.now():
            raise ApplicationError(_("该值班已开始或已结束，不能换班。"))
        if to_volunteer.pk == shift.volunteer_id or not to_volunteer.is_active:
            raise ApplicationError(_("请选择另一位在册志愿者替班。"))
        if to_volunteer.compound_id != shift.post.compound_id:
            raise ApplicationError(_("替班人不属于该小区。"))
        try:
            with transaction.atomic():
                swap = ShiftSwap.objects.create(shift=shift, from_volunteer=shift.volunteer,
                                                to_volunteer=to_volunteer, reason=reason)
        except IntegrityError:
            raise ApplicationError(_("该值班已有待处理的换班申请。")) from None
        if to_volunteer.user_id:
            notifications_create(
                user_ids=[to_volunteer.user_id], title=Message(gettext_noop("换班请求")),
                body=Message(gettext_noop("%(name)s 请您替班：%(shift)s"),
                             {"name": shift.volunteer.name, "shift": str(shift)}),
                link="/volunteers/my/", dedupe_key=f"shift-swap:{swap.pk}")
    return swap


def shift_swap_decide(*, swap: ShiftSwap, user: User, accept: bool) -> ShiftSwap:
    """The asked volunteer accepts (the shift changes hands) or declines."""
    with transaction.atomic():
        swap = ShiftSwap.objects.select_for_update(of=("self",)).select_related("to_volunteer").get(
            pk=swap.pk)
        if swap.to_volunteer.user_id != user.pk:
            raise PermissionDeniedError(_("只有被邀请的替班人可以处理。"))
        target = ShiftSwap.Status.ACCEPTED if accept else ShiftSwap.Status.DECLINED
        transition(swap, target, table=ShiftSwap.TRANSITIONS)  # saved below, with the shift
        if accept:
            shift = Shift.objects.select_for_update(of=("self",)).get(pk=swap.shift_id)
            if shift.volunteer_id != swap.from_volunteer_id or shift.starts_at <= timezone.now():
                raise ApplicationError(_("该值班已变更或已开始，换班失效。"))
            shift.volunteer_id = swap.to_volunteer_id
            shift.reminded_at = None
            shift.save(update_fields=["volunteer", "reminded_at", "updated_at"])
        swap.decided_at = timezone.now()
        swap.save(update_fields=["status", "decided_at", "updated_at"])
    return swap


def shift_check_in(*, shift: Shift, user: User) -> Shift:
    with transaction.atomic():
        shift = (Shift.objects.select_for_update(of=("self",)).select_related("volunteer")
                 .get(pk=shift.pk))
        if shift.volunteer.user_id != user.pk:
            raise PermissionDeniedError(_("只能为自己的值班签到。"))
        now = timezone.now()
        if shift.status != Shift.Status.SCHEDULED:
            raise ApplicationError(_("该值班已签到或已取消。"))
        if not shift.starts_at - CHECK_IN_EARLY <= now <= shift.ends_at:
            raise ApplicationError(_("不在值班签到时间内。"))
        shift.status = Shift.Status.CHECKED_IN
        shift.checked_in_at = now
        shift.save(update_fields=["status", "checked_in_at", "updated_at"])
    return shift


def shifts_send_reminders(*, now: datetime) -> int:
    """Remind every volunteer whose shift is near. Claimed with a conditional UPDATE.

    Queries: one read, one update, one insert per distinct (post, start); a second run finds
    nothing, and a concurrent run is harmless thanks to the notification dedupe key.
    """
    due = list(Shift.objects.filter(reminded_at__isnull=True, remind_at__lte=now,
                                    starts_at__gt=now, status=Shift.Status.SCHEDULED,
                                    volunteer__user__isnull=False)
               .values_list("id", "volunteer__user_id", "post__name", "starts_at"))
    if not due:
        return 0
    Shift.objects.filter(id__in=[row[0] for row in due], reminded_at__isnull=True).update(
        reminded_at=now)
    groups: dict[tuple[str, datetime], list[tuple[int, int]]] = {}
    for shift_id, user_id, post_name, starts_at in due:
        groups.setdefault((post_name, starts_at), []).append((shift_id, user_id))
    for (post_name, starts_at), rows in groups.items():
        local = timezone.localtime(starts_at)
        for shift_id, user_id in rows:
            notifications_create(
                user_ids=[user_id], title=Message(gettext_noop("值班提醒")),
                body=Message(gettext_noop("您在 %(time)s 有“%(post)s”值班。"), {
                    "time": local.strftime("%m-%d %H:%M"), "post": post_name}),
                link="/volunteers/my/", dedupe_key=f"shift-remind:{shift_id}")
    return len(due)


# --- activities, sign-ups and hours -------------------------------------------------------

def activity_create(*, compound: Compound, actor: User, title: str, kind: str,
                    starts_at: datetime, ends_at: datetime, capacity: int,
                    team: Team | None = None, location: str = "",
                    description: str = "") -> Activity:
    _require_staff(actor, compound)
    if ends_at <= starts_at:
        raise ApplicationError(_("结束时间必须晚于开始时间。"))
    if capacity <= 0:
        raise ApplicationError(_("名额必须大于 0。"))
    return Activity.objects.create(
        compound=compound, team=team, title=title, kind=kind, description=description,
        location=location, starts_at=starts_at, ends_at=ends_at, capacity=capacity,
        checkin_code=f"{secrets.randbelow(10**6):06d}", created_by=actor)


def activity_cancel(*, activity: Activity, actor: User, reason: str = "") -> Activity:
    """Staff call an activity off; everyone signed up or waiting is told."""
    with transaction.atomic():
        activity = (Activity.objects.select_for_update(of=("self",))
                    .select_related("compound__community").get(pk=activity.pk))
        _require_staff(actor, activity.compound)
        if activity.status == Activity.Status.CANCELLED:
            raise ApplicationError(_("该活动已取消。"))
        activity.status = Activity.Status.CANCELLED
        activity.save(update_fields=["status", "updated_at"])
        user_ids = (activity.signups.exclude(status=ActivitySignup.Status.CANCELLED)
                    .filter(volunteer__user__isnull=False)
                    .values_list("volunteer__user_id", flat=True))
        notifications_create(
            user_ids=list(user_ids), title=Message(gettext_noop("活动已取消")),
            body=Message(gettext_noop("“%(title)s”已取消。%(reason)s"),
                         {"title": activity.title, "reason": reason}),
            link=f"/volunteers/activities/{activity.pk}/",
            dedupe_key=f"activity-cancelled:{activity.pk}")
    return activity


def activity_signup(*, activity: Activity, volunteer: Volunteer) -> ActivitySignup:
    """Sign up; when the places are gone, join the waitlist.

    The activity row is locked for the capacity check and the insert, so two volunteers racing
    for the last place are served one after the other and the activity never over-books.
    """
    with transaction.atomic():
        activity = Activity.objects.select_for_update(of=("self",)).get(pk=activity.pk)
        if not activity.accepts_signups(timezone.now()):
            raise ApplicationError(_("该活动已截止报名。"))
        if volunteer.compound_id != activity.compound_id or not volunteer.is_active:
            raise ApplicationError(_("只有本小区在册志愿者可以报名。"))
        confirmed = activity.signups.filter(status=ActivitySignup.Status.CONFIRMED).count()
        status = (ActivitySignup.Status.CONFIRMED if confirmed < activity.capacity
                  else ActivitySignup.Status.WAITLISTED)
        signup = ActivitySignup.objects.filter(activity=activity, volunteer=volunteer).first()
        now = timezone.now()
        if signup is None:
            return ActivitySignup.objects.create(activity=activity, volunteer=volunteer,
                                                 status=status, signed_up_at=now)
        if signup.status != ActivitySignup.Status.CANCELLED:
            raise ApplicationError(_("您已报名该活动。"))
        signup.status = status
        signup.signed_up_at = now
        signup.save(update_fields=["status", "signed_up_at", "updated_at"])
        return signup


def activity_signup_cancel(*, signup: ActivitySignup, user: User) -> ActivitySignup:
    """Cancel a sign-up; a freed place goes to the first on the waitlist."""
    with transaction.atomic():
        activity = Activity.objects.select_for_update(of=("self",)).select_related(
            "compound__community").get(pk=signup.activity_id)
        signup = ActivitySignup.objects.select_related("volunteer").get(pk=signup.pk)
        if signup.volunteer.user_id != user.pk:
            _require_staff(user, activity.compound)
        if signup.status == ActivitySignup.Status.CANCELLED:
            raise ApplicationError(_("该报名已取消。"))
        if signup.checked_in_at is not None:
            raise ApplicationError(_("已签到，不能取消报名。"))
        was_confirmed = signup.status == ActivitySignup.Status.CONFIRMED
        signup.status = ActivitySignup.Status.CANCELLED
        signup.save(update_fields=["status", "updated_at"])
        if was_confirmed:
            _promote_waitlisted(activity)
    return signup


def _promote_waitlisted(activity: Activity) -> None:
    promoted = (activity.signups.filter(status=ActivitySignup.Status.WAITLISTED)
                .select_related("volunteer").order_by("signed_up_at", "id").first())
    if promoted is None:
        return
    promoted.status = ActivitySignup.Status.CONFIRMED
    promoted.save(update_fields=["status", "updated_at"])
    if promoted.volunteer.user_id:
        notifications_create(
            user_ids=[promoted.volunteer.user_id], title=Message(gettext_noop("候补转正")),
            body=Message(gettext_noop("您已获得“%(title)s”的报名名额。"),
                         {"title": activity.title}),
            link=f"/volunteers/activities/{activity.pk}/",
            dedupe_key=f"signup-promoted:{promoted.pk}:{promoted.updated_at.timestamp()}")


def _check_code_or_staff(*, activity: Activity, user: User, code: str | None,
                         signup: ActivitySignup) -> None:
    if selectors.is_staff_for_compound(user, activity.compound):
        return
    if signup.volunteer.user_id != user.pk:
        raise PermissionDeniedError(_("只能为自己签到。"))
    guesses.code_check(given=code, expected=activity.checkin_code, kind="activity",
                       object_id=activity.pk, user_id=user.pk)


def signup_check_in(*, signup: ActivitySignup, user: User,
                    code: str | None = None) -> ActivitySignup:
    with transaction.atomic():
        signup = (ActivitySignup.objects.select_for_update(of=("self",))
                  .select_related("activity__compound__community", "volunteer").get(pk=signup.pk))
        activity = signup.activity
        _check_code_or_staff(activity=activity, user=user, code=code, signup=signup)
        if signup.status != ActivitySignup.Status.CONFIRMED:
            raise ApplicationError(_("只有已报名（非候补）的志愿者可以签到。"))
        if signup.checked_in_at is not None:
            raise ApplicationError(_("已签到，请勿重复签到。"))
        now = timezone.now()
        if not activity.starts_at - CHECK_IN_EARLY <= now <= activity.ends_at:
            raise ApplicationError(_("不在活动签到时间内。"))
        signup.checked_in_at = now
        signup.save(update_fields=["checked_in_at", "updated_at"])
    return signup


def hours_compute(*, activity: Activity, checked_in_at: datetime,
                  checked_out_at: datetime) -> Decimal:
    """Presence inside the activity's time, rounded down to the half hour."""
    start = max(checked_in_at, activity.starts_at)
    end = min(checked_out_at, activity.ends_at)
    seconds = max((end - start).total_seconds(), 0)
    halves = (Decimal(seconds) / Decimal(1800)).to_integral_value(rounding=ROUND_DOWN)
    return halves * HALF_HOUR


def signup_check_out(*, signup: ActivitySignup, user: User,
                     code: str | None = None) -> HoursEntry:
    """Check out; the hours are computed and wait for a staff member's approval."""
    with transaction.atomic():
        signup = (ActivitySignup.objects.select_for_update(of=("self",))
                  .select_related("activity__compound__community", "volunteer").get(pk=signup.pk))
        activity = signup.activity
        _check_code_or_staff(activity=activity, user=user, code=code, signup=signup)
        if signup.checked_in_at is None:
            raise ApplicationError(_("尚未签到，不能签退。"))
        if signup.checked_out_at is not None:
            raise ApplicationError(_("已签退。"))
        now = timezone.now()
        signup.checked_out_at = now
        signup.save(update_fields=["checked_out_at", "updated_at"])
        hours = hours_compute(activity=activity, checked_in_at=signup.checked_in_at,
                              checked_out_at=now)
        return HoursEntry.objects.create(
            volunteer=signup.volunteer, activity=activity, signup=signup,
            source=HoursEntry.Source.APP, hours=hours,
            served_on=timezone.localdate(activity.starts_at), created_by=user,
            note=activity.title)


def _refuse_own_hours(volunteer: Volunteer, actor: User) -> None:
    """Hours are certified by someone else: a staff member who is also a volunteer (by their
    account, or through their resident record) neither approves nor adds their own."""
    own = volunteer.user_id == actor.pk or (volunteer.resident_id is not None and (
        Resident.objects.filter(pk=volunteer.resident_id, user_id=actor.pk).exists()))
    if own:
        raise PermissionDeniedError(_("不能认定或补录自己的志愿时长，请由其他工作人员办理。"))


def hours_entry_decide(*, entry: HoursEntry, actor: User, approve: bool,
                       hours: Decimal | None = None, note: str = "") -> HoursEntry:
    """Staff approve (optionally correcting the hours) or reject an app-recorded entry; never
    their own."""
    with transaction.atomic():
        entry = (HoursEntry.objects.select_for_update(of=("self",))
                 .select_related("volunteer__compound__community").get(pk=entry.pk))
        _require_staff(actor, entry.volunteer.compound)
        _refuse_own_hours(entry.volunteer, actor)
        target = HoursEntry.Status.APPROVED if approve else HoursEntry.Status.REJECTED
        transition(entry, target, table=HoursEntry.TRANSITIONS)  # saved below, with the hours
        fields = ["status", "decided_by", "decided_at", "updated_at"]
        if hours is not None:
            if hours < 0 or hours > Decimal("24"):
                raise ApplicationError(_("时长应在 0 到 24 小时之间。"))
            entry.hours = hours
            fields.append("hours")
        if note:
            entry.note = note[:200]
            fields.append("note")
        entry.decided_by = actor
        entry.decided_at = timezone.now()
        entry.save(update_fields=fields)
        if entry.volunteer.user_id:
            notifications_create(
                user_ids=[entry.volunteer.user_id],
                title=Message(gettext_noop("志愿时长已认定") if approve
                              else gettext_noop("志愿时长未通过认定")),
                body=Message(gettext_noop("%(note)s：%(hours)s 小时"),
                             {"note": entry.note, "hours": str(entry.hours)}),
                link="/volunteers/my/hours/", dedupe_key=f"hours-decided:{entry.pk}")
    return entry


def hours_entry_add(*, volunteer: Volunteer, actor: User, hours: Decimal, served_on: date,
                    note: str, activity: Activity | None = None) -> HoursEntry:
    """Staff add hours served off the app (kept apart from app-recorded hours); they count as
    approved, so never for oneself."""
    _require_staff(actor, volunteer.compound)
    _refuse_own_hours(volunteer, actor)
    if hours <= 0 or hours > Decimal("24"):
        raise ApplicationError(_("时长应在 0 到 24 小时之间。"))
    if served_on > timezone.localdate():
        raise ApplicationError(_("服务日期不能晚于今天。"))
    now = timezone.now()
    return HoursEntry.objects.create(
        volunteer=volunteer, activity=activity, source=HoursEntry.Source.STAFF,
        status=HoursEntry.Status.APPROVED, hours=hours, served_on=served_on, note=note[:200],
        created_by=actor, decided_by=actor, decided_at=now)


# --- micro-wishes -------------------------------------------------------------------------

def _wish_move(*, wish: MicroWish, target: str, actor: User | None, note: str = "",
               fields: list[str] | None = None) -> MicroWish:
    old = transition(wish, target, table=MicroWish.TRANSITIONS)
    wish.save(update_fields=["status", "updated_at", *(fields or [])])
    MicroWishEvent.objects.create(wish=wish, old_status=old, new_status=target, actor=actor,
                                  note=note[:200], at=timezone.now())
    return wish


def _wish_locked(wish: MicroWish) -> MicroWish:
    return (MicroWish.objects.select_for_update(of=("self",))
            .select_related("compound__community", "resident", "claimed_by__resident")
            .get(pk=wish.pk))


def micro_wish_submit(*, resident: Resident, title: str, description: str = "") -> MicroWish:
    if not title.strip():
        raise ApplicationError(_("请填写心愿内容。"))
    with transaction.atomic():
        wish = MicroWish.objects.create(
            compound_id=resident.household.building.compound_id, resident=resident,
            title=title.strip()[:100], description=description)
        MicroWishEvent.objects.create(wish=wish, new_status=wish.status, actor=resident.user,
                                      at=timezone.now())
    return wish


def micro_wish_publish(*, wish: MicroWish, actor: User) -> MicroWish:
    """Staff verify a wish and publish it to the compound's party members."""
    with transaction.atomic():
        wish = _wish_locked(wish)
        _require_staff(actor, wish.compound)
        _wish_move(wish=wish, target=MicroWish.Status.PUBLISHED, actor=actor)
        member_user_ids = (PartyMember.objects
                           .filter(resident__household__building__compound_id=wish.compound_id,
                                   resident__user__isnull=False)
                           .values_list("resident__user_id", flat=True))
        notifications_create(
            user_ids=list(member_user_ids), title=Message(gettext_noop("新的微心愿待认领")),
            body=wish.title,
            link=f"/volunteers/wishes/{wish.pk}/", dedupe_key=f"wish-published:{wish.pk}")
    return wish


def micro_wish_reject(*, wish: MicroWish, actor: User, reason: str) -> MicroWish:
    with transaction.atomic():
        wish = _wish_locked(wish)
        _require_staff(actor, wish.compound)
        _wish_move(wish=wish, target=MicroWish.Status.REJECTED, actor=actor, note=reason)
        if wish.resident.user_id:
            notifications_create(user_ids=[wish.resident.user_id],
                                 title=Message(gettext_noop("微心愿未通过审核")), body=reason,
                                 link=f"/volunteers/wishes/{wish.pk}/",
                                 dedupe_key=f"wish-rejected:{wish.pk}")
    return wish


def micro_wish_withdraw(*, wish: MicroWish, user: User) -> MicroWish:
    with transaction.atomic():
        wish = _wish_locked(wish)
        if wish.resident.user_id != user.pk:
            raise PermissionDeniedError(_("只有许愿人可以撤回心愿。"))
        return _wish_move(wish=wish, target=MicroWish.Status.WITHDRAWN, actor=user)


def micro_wish_claim(*, wish: MicroWish, user: User) -> MicroWish:
    """One party member of the compound claims the wish; the claim lapses if left untouched."""
    member = selectors.party_member_for_user(user)
    with transaction.atomic():
        wish = _wish_locked(wish)
        if member is None or member.resident.household.building.compound_id != wish.compound_id:
            raise PermissionDeniedError(_("只有本小区党员可以认领微心愿。"))
        if wish.status == MicroWish.Status.CLAIMED:
            raise ApplicationError(_("该心愿已被其他党员认领。"))
        now = timezone.now()
        wish.claimed_by = member
        wish.claimed_at = now
        wish.claim_expires_at = now + timedelta(days=wish_claim_days())
        _wish_move(wish=wish, target=MicroWish.Status.CLAIMED, actor=user,
                   fields=["claimed_by", "claimed_at", "claim_expires_at"])
        if wish.resident.user_id:
            notifications_create(
                user_ids=[wish.resident.user_id], title=Message(gettext_noop("您的微心愿已被认领")),
                body=Message(gettext_noop("党员 %(name)s 认领了“%(title)s”。"),
                             {"name": member.resident.name, "title": wish.title}),
                link=f"/volunteers/wishes/{wish.pk}/",
                dedupe_key=f"wish-claimed:{wish.pk}:{now.timestamp()}")
    return wish


def micro_wish_fulfil(*, wish: MicroWish, user: User, note: str,
                      photo: UploadedFile | None = None) -> MicroWish:
    if not note.strip() and photo is None:
        raise ApplicationError(_("请填写完成说明或上传照片。"))
    cleaned_photo = photo_reencode(photo) if photo is not None else None
    with transaction.atomic():
        wish = _wish_locked(wish)
        if wish.claimed_by is None or wish.claimed_by.resident.user_id != user.pk:
            raise PermissionDeniedError(_("只有认领人可以完成该心愿。"))
        wish.fulfilment_note = note.strip()
        wish.fulfilled_at = timezone.now()
        wish.claim_expires_at = None
        fields = ["fulfilment_note", "fulfilled_at", "claim_expires_at"]
        if cleaned_photo is not None:
            wish.fulfilment_photo.save(cleaned_photo.name, cleaned_photo, save=False)
            fields.append("fulfilment_photo")
        _wish_move(wish=wish, target=MicroWish.Status.FULFILLED, actor=user, fields=fields)
        if wish.resident.user_id:
            notifications_create(user_ids=[wish.resident.user_id],
                                 title=Message(gettext_noop("您的微心愿已完成")),
                                 body=Message(gettext_noop("请确认：%(title)s"),
                                              {"title": wish.title}),
                                 link=f"/volunteers/wishes/{wish.pk}/",
                                 dedupe_key=f"wish-fulfilled:{wish.pk}")
    return wish


def micro_wish_confirm(*, wish: MicroWish, user: User) -> MicroWish:
    with transaction.atomic():
        wish = _wish_locked(wish)
        if wish.resident.user_id != user.pk:
            raise PermissionDeniedError(_("只有许愿人可以确认。"))
        wish.confirmed_at = timezone.now()
        return _wish_move(wish=wish, target=MicroWish.Status.CONFIRMED, actor=user,
                          fields=["confirmed_at"])


def micro_wishes_expire_claims(*, now: datetime) -> int:
    """Return every claim left untouched past its deadline to the published pool.

    Set-based: one read, one conditional update, one insert. The UPDATE repeats the condition,
    so a wish fulfilled meanwhile, or released by a concurrent run, is not touched twice.
    """
    expired = list(MicroWish.objects.filter(status=MicroWish.Status.CLAIMED,
                                            claim_expires_at__lte=now)
                   .values_list("id", flat=True))
    if not expired:
        return 0
    with transaction.atomic():
        claimed = list(MicroWish.objects.select_for_update(skip_locked=True)
                       .filter(id__in=expired, status=MicroWish.Status.CLAIMED,
                               claim_expires_at__lte=now).values_list("id", flat=True))
        MicroWish.objects.filter(id__in=claimed).update(
            status=MicroWish.Status.PUBLISHED, claimed_by=None, claimed_at=None,
            claim_expires_at=None, updated_at=now)
        MicroWishEvent.objects.bulk_create([
            MicroWishEvent(wish_id=wish_id, old_status=MicroWish.Status.CLAIMED,
                           new_status=MicroWish.Status.PUBLISHED, note=_("认领超时，重新开放认领"),
                           at=now)
            for wish_id in claimed])
    return len(claimed)


# --- proxy services -----------------------------------------------------------------------

def _service_move(*, service: ProxyService, target: str, actor: User | None, note: str = "",
                  fields: list[str] | None = None) -> ProxyService:
    old = transition(service, target, table=ProxyService.TRANSITIONS)
    service.save(update_fields=["status", "updated_at", *(fields or [])])
    ProxyServiceEvent.objects.create(service=service, old_status=old, new_status=target,
                                     actor=actor, note=note[:200], at=timezone.now())
    return service


def _service_locked(service: ProxyService) -> ProxyService:
    return (ProxyService.objects.select_for_update(of=("self",))
            .select_related("compound__community", "resident", "assignee").get(pk=service.pk))


def proxy_service_request(*, resident: Resident, kind: str, title: str,
                          description: str = "") -> ProxyService:
    if not title.strip():
        raise ApplicationError(_("请填写需要代办的事项。"))
    with transaction.atomic():
        service = ProxyService.objects.create(
            compound_id=resident.household.building.compound_id, resident=resident, kind=kind,
            title=title.strip()[:100], description=description)
        ProxyServiceEvent.objects.create(service=service, new_status=service.status,
                                         actor=resident.user, at=timezone.now())
    return service


def proxy_service_assign(*, service: ProxyService, assignee: Volunteer,
                         actor: User) -> ProxyService:
    with transaction.atomic():
        service = _service_locked(service)
        _require_staff(actor, service.compound)
        if assignee.compound_id != service.compound_id or not assignee.is_active:
            raise ApplicationError(_("代办人须为本小区在册志愿者。"))
        service.assignee = assignee
        service.assigned_at = timezone.now()
        _service_move(service=service, target=ProxyService.Status.ASSIGNED, actor=actor,
                      note=assignee.name, fields=["assignee", "assigned_at"])
        if assignee.user_id:
            notifications_create(user_ids=[assignee.user_id],
                                 title=Message(gettext_noop("新的帮办代办任务")),
                                 body=service.title, link=f"/volunteers/services/{service.pk}/",
                                 dedupe_key=f"service-assigned:{service.pk}:{assignee.pk}")
    return service


def proxy_service_complete(*, service: ProxyService, user: User, note: str) -> ProxyService:
    with transaction.atomic():
        service = _service_locked(service)
        is_assignee = service.assignee is not None and service.assignee.user_id == user.pk
        if not is_assignee:
            _require_staff(user, service.compound)
        service.result_note = note.strip()
        service.done_at = timezone.now()
        _service_move(service=service, target=ProxyService.Status.DONE, actor=user,
                      fields=["result_note", "done_at"])
        if service.resident.user_id:
            notifications_create(user_ids=[service.resident.user_id],
                                 title=Message(gettext_noop("代办事项已办结")),
                                 body=service.title, link=f"/volunteers/services/{service.pk}/",
                                 dedupe_key=f"service-done:{service.pk}")
    return service


def proxy_service_confirm(*, service: ProxyService, user: User) -> ProxyService:
    with transaction.atomic():
        service = _service_locked(service)
        if service.resident.user_id != user.pk:
            raise PermissionDeniedError(_("只有委托人可以确认。"))
        service.confirmed_at = timezone.now()
        return _service_move(service=service, target=ProxyService.Status.CONFIRMED, actor=user,
                             fields=["confirmed_at"])


def proxy_service_cancel(*, service: ProxyService, user: User, reason: str = "") -> ProxyService:
    with transaction.atomic():
        service = _service_locked(service)
        if service.resident.user_id != user.pk:
            _require_staff(user, service.compound)
        return _service_move(service=service, target=ProxyService.Status.CANCELLED, actor=user,
                             note=reason)


# --- care ---------------------------------------------------------------------------------

def _care_due_dates(*, frequency: str, from_day: date) -> tuple[date, date]:
    interval = timedelta(days=CareFile.INTERVAL_DAYS[CareFile.Frequency(frequency)])
    return from_day + interval, from_day + 2 * interval


def care_file_create(*, resident: Resident, actor: User, category: str, risk: str,
                     caretaker: Volunteer | None = None, health_notes: str = "",
                     living_notes: str = "", emergency_contact: str = "",
                     emergency_phone: str = "", frequency: str | None = None) -> CareFile:
    """Open a care file; the visit plan follows the risk level unless set explicitly."""
    from core.scope import path_in_scope

    if not path_in_scope(actor, resident.household.building.micro_grid.path):
        raise PermissionDeniedError(_("您无权为该居民建立关爱档案。"))
    frequency = frequency or CareFile.FREQUENCY_BY_RISK[CareFile.Risk(risk)]
    next_due, second_miss = _care_due_dates(frequency=frequency, from_day=timezone.localdate())
    try:
        with transaction.atomic():
            return CareFile.objects.create(
                resident=resident, category=category, risk=risk, frequency=frequency,
                caretaker=caretaker, health_notes=health_notes, living_notes=living_notes,
                emergency_contact=emergency_contact, emergency_phone=emergency_phone,
                next_visit_due=next_due, second_miss_on=second_miss)
    except IntegrityError:
        raise ApplicationError(_("该居民已有关爱档案。")) from None


def care_file_log_access(*, care_file: CareFile, user: User, channel: str) -> None:
    """The file's own access log, and the portal's audit log: the page shows whole numbers."""
    CareFileAccessLog.objects.create(care_file=care_file, user=user, channel=channel)
    audit_event_record(action=AuditEvent.Action.REVEAL, object_type="volunteers.carefile",
                       object_id=care_file.pk, object_repr=channel,
                       fields=["emergency_phone", "health_notes", "living_notes"], actor=user)


def care_visit_log(*, care_file: CareFile, user: User, visited_on: date, notes: str,
                   condition: str = CareVisit.Condition.GOOD) -> CareVisit:
    """Record a visit; the next one falls due one interval later and the misses reset."""
    if visited_on > timezone.localdate():
        raise ApplicationError(_("走访日期不能晚于今天。"))
    with transaction.atomic():
        care_file = selectors.care_file_get_for_user(user=user, care_file_id=care_file.pk)
        care_file = CareFile.objects.select_for_update(of=("self",)).get(pk=care_file.pk)
        visitor = selectors.volunteer_for_user(user)
        visit = CareVisit.objects.create(care_file=care_file, visitor=visitor, recorded_by=user,
                                         visited_on=visited_on, condition=condition,
                                         notes=notes)
        latest = max(visited_on, care_file.visits.exclude(pk=visit.pk)
                     .order_by("-visited_on").values_list("visited_on", flat=True).first()
                     or visited_on)
        care_file.next_visit_due, care_file.second_miss_on = _care_due_dates(
            frequency=care_file.frequency, from_day=latest)
        care_file.missed_count = 0
        care_file.flagged_at = None
        care_file.alerted_at = None
        care_file.save(update_fields=["next_visit_due", "second_miss_on", "missed_count",
                                      "flagged_at", "alerted_at", "updated_at"])
    return visit


def care_visits_flag_overdue(*, now: datetime) -> dict[str, int]:
    """Flag files whose visit is overdue; after a second missed interval, alert the staff.

    1. First miss: `next_visit_due` has passed and nothing is flagged: flag it and tell the
       caretaker.
    2. Second miss: `second_miss_on` has passed too: alert the community staff whose scope
       covers the elder's home.
    Each step claims its rows with a conditional UPDATE, so a second (or concurrent) run finds
    nothing left to do; notification dedupe keys make a repeated message harmless.
    """
    today = timezone.localdate(now)
    flagged = list(CareFile.objects.filter(is_active=True, missed_count=0,
                                           next_visit_due__lt=today)
                   .values_list("id", "caretaker__user_id", "next_visit_due"))
    if flagged:
        CareFile.objects.filter(id__in=[row[0] for row in flagged], missed_count=0).update(
            missed_count=1, flagged_at=now)
        for file_id, user_id, due in flagged:
            if user_id:
                notifications_create(
                    user_ids=[user_id], title=Message(gettext_noop("关爱走访已逾期")),
                    body=Message(gettext_noop("档案 #%(id)s 应于 %(due)s 前走访。"),
                                 {"id": file_id, "due": str(due)}),
                    link=f"/volunteers/care/{file_id}/",
                    dedupe_key=f"care-overdue:{file_id}:{due}")
    alerted = list(CareFile.objects.filter(is_active=True, missed_count=1,
                                           second_miss_on__lt=today)
                   .values_list("id", "resident__household__building__micro_grid__path",
                                "second_miss_on"))
    if alerted:
        CareFile.objects.filter(id__in=[row[0] for row in alerted], missed_count=1).update(
            missed_count=2, alerted_at=now)
        _alert_community_staff(alerted)
    return {"flagged": len(flagged), "alerted": len(alerted)}


def _alert_community_staff(rows: list[tuple[int, str, date]]) -> None:
    from accounts.models import User

    staff = list(User.objects.filter(role=User.Role.COMMUNITY_STAFF, is_active=True,
                                     scope_area__isnull=False)
                 .values_list("id", "scope_area__path"))
    for file_id, path, second_miss_on in rows:
        user_ids = [user_id for user_id, scope in staff if path.startswith(scope)]
        if user_ids:
            notifications_create(
                user_ids=user_ids, title=Message(gettext_noop("关爱走访连续两次逾期")),
                body=Message(gettext_noop("档案 #%(id)s 已连续两个周期未走访，请尽快安排。"),
                             {"id": file_id}),
                link=f"/volunteers/care/{file_id}/",
                dedupe_key=f"care-second-miss:{file_id}:{second_miss_on}")


def care_file_update_risk(*, care_file: CareFile, actor: User, risk: str) -> CareFile:
    with transaction.atomic():
        care_file = selectors.care_file_get_for_user(user=actor, care_file_id=care_file.pk)
        care_file = CareFile.objects.select_for_update(of=("self",)).get(pk=care_file.pk)
        care_file.risk = risk
        care_file.frequency = CareFile.FREQUENCY_BY_RISK[CareFile.Risk(risk)]
        care_file.save(update_fields=["risk", "frequency", "updated_at"])
    return care_file

