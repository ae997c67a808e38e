"""Duty posts and their rosters: weekly slots, the shifts generated from them, swaps between
volunteers, check-in and the reminder sweep."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from core.exceptions import ApplicationError, PermissionDeniedError
from core.workflow import transition
from notifications.messages import Message
from notifications.services import notifications_create
from volunteers import rules, selectors
from volunteers.models import (
    HoursEntry,
    RosterSlot,
    ServicePost,
    Shift,
    ShiftSwap,
    Volunteer,
)
from volunteers.services._common import (
    CHECK_IN_EARLY,
    half_hours_between,
    refuse_overlap,
    require_change_open,
    require_qualified,
    require_staff,
)

# --- rosters ------------------------------------------------------------------------------

def roster_generate(*, post: ServicePost, start: date, end: date) -> int:
    """Create the shifts of every active slot of `post` between two dates (inclusive).

    Idempotent: an occurrence that exists already (slot, start) is skipped by the unique key,
    so a swapped shift keeps its new volunteer when the roster is generated again. An
    occurrence its volunteer cannot take is left out, not forced: one that overlaps another of
    their shifts, or falls on a day they hold no valid qualification the post requires.
    """
    if end < start:
        raise ApplicationError(_("结束日期不能早于开始日期。"))
    if (end - start).days > 92:
        raise ApplicationError(_("一次最多生成一个季度的值班表。"))
    zone = timezone.get_current_timezone()
    # The occurrences generated before, read once (not one query per occurrence).
    generated = set(Shift.objects.filter(
        slot__post=post,
        starts_at__gte=datetime.combine(start, time.min, tzinfo=zone),
        starts_at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    ).values_list("slot_id", "starts_at"))
    shifts: list[Shift] = []
    for slot in post.slots.filter(is_active=True):
        day = start + timedelta(days=(slot.weekday - start.weekday()) % 7)
        while day <= end:
            starts_at = datetime.combine(day, slot.start_time, tzinfo=zone)
            shift = Shift(
                post=post, slot=slot, volunteer_id=slot.volunteer_id, starts_at=starts_at,
                ends_at=datetime.combine(day, slot.end_time, tzinfo=zone),
                remind_at=starts_at - Shift.REMIND_BEFORE)
            if (slot.pk, starts_at) not in generated and _may_take(shift, post=post,
                                                                   batch=shifts):
                shifts.append(shift)
            day += timedelta(days=7)
    created = Shift.objects.bulk_create(shifts, ignore_conflicts=True)
    return len(created)


def _may_take(shift: Shift, *, post: ServicePost, batch: list[Shift]) -> bool:
    """An occurrence not generated before (perhaps swapped since: the unique key keeps it)
    that its volunteer can take."""
    if any(other.volunteer_id == shift.volunteer_id and other.starts_at < shift.ends_at
           and other.ends_at > shift.starts_at for other in batch):
        return False
    if selectors.shift_overlaps(volunteer_id=shift.volunteer_id, starts_at=shift.starts_at,
                                ends_at=shift.ends_at):
        return False
    return not selectors.qualifications_missing(
        volunteer_id=shift.volunteer_id, kinds=post.required_qualifications,
        on=timezone.localdate(shift.starts_at))


def shift_assign(*, post: ServicePost, volunteer: Volunteer, actor: User, starts_at: datetime,
                 ends_at: datetime) -> Shift:
    """Staff put a volunteer on a one-off shift: qualified on the day, and free at that time."""
    with transaction.atomic():
        # The volunteer's row is the lock that serialises two assignments racing for their time.
        volunteer = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
        require_staff(actor, post.compound)
        if volunteer.compound_id != post.compound_id or not volunteer.is_active:
            raise ApplicationError(_("值班人须为本小区在册志愿者。"))
        if ends_at <= starts_at:
            raise ApplicationError(_("结束时间必须晚于开始时间。"))
        require_qualified(volunteer, post.required_qualifications, timezone.localdate(starts_at))
        refuse_overlap(volunteer_id=volunteer.pk, starts_at=starts_at, ends_at=ends_at)
        return Shift.objects.create(post=post, volunteer=volunteer, starts_at=starts_at,
                                    ends_at=ends_at, remind_at=starts_at - Shift.REMIND_BEFORE)


def roster_slot_add(*, post: ServicePost, volunteer: Volunteer, weekday: int,
                    start_time: Any, end_time: Any) -> RosterSlot:
    if volunteer.compound_id != post.compound_id:
        raise ApplicationError(_("值班人不属于该小区。"))
    if end_time <= start_time:
        raise ApplicationError(_("结束时间必须晚于开始时间。"))
    require_qualified(volunteer, post.required_qualifications, timezone.localdate())
    slot, _created = RosterSlot.objects.get_or_create(
        post=post, volunteer=volunteer, weekday=weekday, start_time=start_time,
        defaults={"end_time": end_time})
    return slot


def shift_swap_request(*, shift: Shift, user: User, to_volunteer: Volunteer,
                       reason: str = "") -> ShiftSwap:
    with transaction.atomic():
        shift = (Shift.objects.select_for_update(of=("self",)).select_related("volunteer")
                 .get(pk=shift.pk))
        if not rules.is_shift_holder(user, shift):
            raise PermissionDeniedError(_("只能为自己的值班申请换班。"))
        if shift.status != Shift.Status.SCHEDULED or shift.starts_at <= timezone.now():
            raise ApplicationError(_("该值班已开始或已结束，不能换班。"))
        require_change_open(shift, timezone.now())
        if to_volunteer.pk == shift.volunteer_id or not to_volunteer.is_active:
            raise ApplicationError(_("请选择另一位在册志愿者替班。"))
        if to_volunteer.compound_id != shift.post.compound_id:
            raise ApplicationError(_("替班人不属于该小区。"))
        _require_may_stand_in(shift, to_volunteer)
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


def _require_may_stand_in(shift: Shift, volunteer: Volunteer) -> None:
    post = ServicePost.objects.only("required_qualifications").get(pk=shift.post_id)
    require_qualified(volunteer, post.required_qualifications, timezone.localdate(shift.starts_at))
    refuse_overlap(volunteer_id=volunteer.pk, starts_at=shift.starts_at, ends_at=shift.ends_at,
                   exclude_shift_id=shift.pk)


def shift_swap_decide(*, swap: ShiftSwap, user: User, accept: bool) -> ShiftSwap:
    """The asked volunteer accepts (the shift changes hands) or declines."""
    with transaction.atomic():
        swap = ShiftSwap.objects.select_for_update(of=("self",)).select_related("to_volunteer").get(
            pk=swap.pk)
        if not rules.is_swap_target(user, swap):
            raise PermissionDeniedError(_("只有被邀请的替班人可以处理。"))
        target = ShiftSwap.Status.ACCEPTED if accept else ShiftSwap.Status.DECLINED
        transition(swap, target, table=ShiftSwap.TRANSITIONS)  # saved below, with the shift
        if accept:
            shift = Shift.objects.select_for_update(of=("self",)).get(pk=swap.shift_id)
            if shift.volunteer_id != swap.from_volunteer_id or shift.starts_at <= timezone.now():
                raise ApplicationError(_("该值班已变更或已开始，换班失效。"))
            require_change_open(shift, timezone.now())
            _require_may_stand_in(shift, swap.to_volunteer)
            shift.volunteer_id = swap.to_volunteer_id
            shift.reminded_at = None
            shift.save(update_fields=["volunteer", "reminded_at", "updated_at"])
        swap.decided_at = timezone.now()
        swap.save(update_fields=["status", "decided_at", "updated_at"])
    return swap


def shift_check_in(*, shift: Shift, user: User) -> Shift:
    """Check in at the post; the shift's hours are credited at once, pending staff approval
    as an activity's are (from the later of the start and the check-in, to the end)."""
    with transaction.atomic():
        shift = (Shift.objects.select_for_update(of=("self",)).select_related("volunteer", "post")
                 .get(pk=shift.pk))
        if not rules.is_shift_holder(user, shift):
            raise PermissionDeniedError(_("只能为自己的值班签到。"))
        now = timezone.now()
        if shift.status != Shift.Status.SCHEDULED:
            raise ApplicationError(_("该值班已签到、已取消或已记缺勤。"))
        if not shift.starts_at - CHECK_IN_EARLY <= now <= shift.ends_at:
            raise ApplicationError(_("不在值班签到时间内。"))
        # A qualification may have lapsed since the roster was made: checked again at the door.
        require_qualified(shift.volunteer, shift.post.required_qualifications,
                          timezone.localdate(now))
        transition(shift, Shift.Status.CHECKED_IN, table=Shift.TRANSITIONS)
        shift.checked_in_at = now
        shift.save(update_fields=["status", "checked_in_at", "updated_at"])
        HoursEntry.objects.create(
            volunteer=shift.volunteer, shift=shift, source=HoursEntry.Source.SHIFT,
            hours=half_hours_between(max(now, shift.starts_at), shift.ends_at),
            served_on=timezone.localdate(shift.starts_at), created_by=user,
            note=shift.post.name[:200])
    return shift


def shift_cancel(*, shift: Shift, user: User, reason: str = "") -> Shift:
    """The volunteer gives up a shift, up to the change window before it (staff any time
    before it starts)."""
    with transaction.atomic():
        shift = (Shift.objects.select_for_update(of=("self",))
                 .select_related("volunteer", "post__compound__community").get(pk=shift.pk))
        now = timezone.now()
        if rules.is_shift_holder(user, shift):
            require_change_open(shift, now)
        else:
            require_staff(user, shift.post.compound)
        if shift.starts_at <= now:
            raise ApplicationError(_("该值班已开始，不能取消。"))
        transition(shift, Shift.Status.CANCELLED, table=Shift.TRANSITIONS)
        shift.closed_by, shift.closed_at, shift.close_reason = user, now, reason.strip()[:200]
        shift.save(update_fields=["status", "closed_by", "closed_at", "close_reason",
                                  "updated_at"])
    return shift


def shift_no_show_record(*, shift: Shift, actor: User, note: str = "") -> Shift:
    """Staff record that the volunteer did not come: shown in their ledger, never as hours."""
    with transaction.atomic():
        shift = (Shift.objects.select_for_update(of=("self",))
                 .select_related("volunteer", "post__compound__community").get(pk=shift.pk))
        require_staff(actor, shift.post.compound)
        now = timezone.now()
        if shift.starts_at > now:
            raise ApplicationError(_("值班尚未开始，不能记缺勤。"))
        transition(shift, Shift.Status.NO_SHOW, table=Shift.TRANSITIONS)
        shift.closed_by, shift.closed_at, shift.close_reason = actor, now, note.strip()[:200]
        shift.save(update_fields=["status", "closed_by", "closed_at", "close_reason",
                                  "updated_at"])
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
