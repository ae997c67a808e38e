"""Volunteers and their teams, activities, sign-ups and hours: who serves, where they sign up,
and the hours that staff certify."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from core import guesses
from core.exceptions import ApplicationError, PermissionDeniedError
from core.workflow import transition
from notifications.messages import Message
from notifications.services import notifications_create
from residents.models import PartyMember
from territory.models import Compound
from volunteers import rules, selectors
from volunteers.models import (
    Activity,
    ActivitySignup,
    HoursEntry,
    Qualification,
    QualificationKind,
    Team,
    TeamMembership,
    Volunteer,
)
from volunteers.services._common import (
    CHECK_IN_EARLY,
    half_hours_between,
    require_qualified,
    require_staff,
)

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


def volunteer_calendar_token_rotate(*, volunteer: Volunteer, user: User) -> Volunteer:
    """A new secret for the volunteer's calendar feed URL; the old URL stops working at once.
    Only the volunteer themself: the URL is theirs to put in their phone's calendar."""
    if volunteer.user_id != user.pk:
        raise PermissionDeniedError(_("只能管理自己的日历订阅。"))
    volunteer.calendar_token = secrets.token_urlsafe(32)
    volunteer.save(update_fields=["calendar_token", "updated_at"])
    return volunteer


def team_member_add(*, team: Team, volunteer: Volunteer,
                    role: str = TeamMembership.Role.MEMBER) -> TeamMembership:
    if volunteer.compound_id != team.compound_id:
        raise ApplicationError(_("志愿者不属于该团队所在小区。"))
    membership, _created = TeamMembership.objects.get_or_create(
        team=team, volunteer=volunteer, defaults={"role": role, "joined_on": timezone.localdate()})
    return membership


# --- activities, sign-ups and hours -------------------------------------------------------

def activity_create(*, compound: Compound, actor: User, title: str, kind: str,
                    starts_at: datetime, ends_at: datetime, capacity: int,
                    team: Team | None = None, location: str = "",
                    description: str = "",
                    required_qualifications: list[str] | None = None) -> Activity:
    require_staff(actor, compound)
    if ends_at <= starts_at:
        raise ApplicationError(_("结束时间必须晚于开始时间。"))
    if capacity <= 0:
        raise ApplicationError(_("名额必须大于 0。"))
    return Activity.objects.create(
        compound=compound, team=team, title=title, kind=kind, description=description,
        location=location, starts_at=starts_at, ends_at=ends_at, capacity=capacity,
        checkin_code=f"{secrets.randbelow(10**6):06d}", created_by=actor,
        required_qualifications=_known_kinds(required_qualifications or []))


def _known_kinds(kinds: list[str]) -> list[str]:
    if unknown := set(kinds) - set(QualificationKind.values):
        raise ApplicationError(_("未知的资质类型：%(kinds)s")
                               % {"kinds": "、".join(sorted(unknown))})
    return sorted(set(kinds))


def activity_cancel(*, activity: Activity, actor: User, reason: str = "") -> Activity:
    """Staff call an activity off; everyone signed up or waiting is told."""
    with transaction.atomic():
        activity = (Activity.objects.select_for_update(of=("self",))
                    .select_related("compound__community").get(pk=activity.pk))
        require_staff(actor, activity.compound)
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
        require_qualified(volunteer, activity.required_qualifications,
                          timezone.localdate(activity.starts_at))
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
        if not rules.is_signup_owner(user, signup):
            require_staff(user, activity.compound)
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
    if rules.is_staff_for_compound(user, activity.compound):
        return
    if not rules.is_signup_owner(user, signup):
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
    return half_hours_between(max(checked_in_at, activity.starts_at),
                              min(checked_out_at, activity.ends_at))


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
    if rules.is_own_volunteer(actor, volunteer):
        raise PermissionDeniedError(_("不能认定或补录自己的志愿时长，请由其他工作人员办理。"))


def hours_entry_decide(*, entry: HoursEntry, actor: User, approve: bool,
                       hours: Decimal | None = None, note: str = "") -> HoursEntry:
    """Staff approve (optionally correcting the hours) or reject an app-recorded entry; never
    their own."""
    with transaction.atomic():
        entry = (HoursEntry.objects.select_for_update(of=("self",))
                 .select_related("volunteer__compound__community").get(pk=entry.pk))
        require_staff(actor, entry.volunteer.compound)
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
    require_staff(actor, volunteer.compound)
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


# --- qualifications -----------------------------------------------------------------------

def qualification_record(*, volunteer: Volunteer, actor: User, kind: str, obtained_on: date,
                         expires_on: date | None = None, reference: str = "") -> Qualification:
    """Staff record (or renew) a volunteer's certificate or check; one row per kind."""
    require_staff(actor, volunteer.compound)
    _known_kinds([kind])
    if expires_on is not None and expires_on < obtained_on:
        raise ApplicationError(_("有效期不能早于取得日期。"))
    if obtained_on > timezone.localdate():
        raise ApplicationError(_("取得日期不能晚于今天。"))
    qualification, _created = Qualification.objects.update_or_create(
        volunteer=volunteer, kind=kind,
        defaults={"obtained_on": obtained_on, "expires_on": expires_on,
                  "reference": reference.strip()[:50], "recorded_by": actor})
    return qualification
