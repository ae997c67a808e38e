"""Duty posts and their rosters: weekly slots, the shifts generated from them, swaps between
volunteers, check-in and the reminder sweep."""

from __future__ import annotations

from datetime import date, datetime, timedelta
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
from volunteers import rules
from volunteers.models import (
    RosterSlot,
    ServicePost,
    Shift,
    ShiftSwap,
    Volunteer,
)
from volunteers.services._common import CHECK_IN_EARLY

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
        if not rules.is_shift_holder(user, shift):
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
        if not rules.is_swap_target(user, swap):
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
        if not rules.is_shift_holder(user, shift):
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
