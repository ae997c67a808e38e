"""What more than one of volunteering's services needs: the staff gate, the check-in window,
the qualification gate, the overlap rule and the change window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ApplicationError, PermissionDeniedError
from territory.models import Compound
from volunteers import rules, selectors
from volunteers.models import ProxyConsent, Shift, Volunteer, requirement_labels

CHECK_IN_EARLY = timedelta(minutes=60)
HALF_HOUR = Decimal("0.5")


def require_staff(user: User, compound: Compound) -> None:
    if not rules.is_staff_for_compound(user, compound):
        raise PermissionDeniedError(_("您无权管理该小区的志愿服务。"))


def change_closes_before() -> timedelta:
    """How long before a shift its volunteer can no longer change or cancel it (setting
    VOLUNTEER_CHANGE_CLOSES_HOURS, default 24): the post needs time to find someone else."""
    return timedelta(hours=settings.VOLUNTEER_CHANGE_CLOSES_HOURS)


def require_change_open(shift: Shift, now: datetime) -> None:
    if now > shift.starts_at - change_closes_before():
        hours = int(change_closes_before().total_seconds() // 3600)
        raise ApplicationError(
            _("值班开始前 %(hours)s 小时内不能再更改或取消，请联系社区工作人员。")
            % {"hours": hours})


def require_qualified(volunteer: Volunteer, kinds: list[str], on: date) -> None:
    """Refuse a volunteer who lacks, on that day, a qualification the duty requires."""
    missing = selectors.qualifications_missing(volunteer_id=volunteer.pk, kinds=kinds, on=on)
    if missing:
        raise ApplicationError(
            _("%(name)s 缺少有效资质：%(kinds)s。")
            % {"name": volunteer.name, "kinds": "、".join(requirement_labels(missing))})


def refuse_overlap(*, volunteer_id: int, starts_at: datetime, ends_at: datetime,
                   exclude_shift_id: int | None = None) -> None:
    """One volunteer stands at one post at a time: refuse a shift that overlaps another of
    theirs that still holds the time (scheduled or checked in)."""
    if selectors.shift_overlaps(volunteer_id=volunteer_id, starts_at=starts_at, ends_at=ends_at,
                                exclude_shift_id=exclude_shift_id):
        raise ApplicationError(_("该志愿者在这段时间已有其他值班，班次不能重叠。"))


def half_hours_between(start: datetime, end: datetime) -> Decimal:
    """The time between two moments, rounded down to the half hour (never negative)."""
    seconds = max((end - start).total_seconds(), 0)
    halves = (Decimal(seconds) / Decimal(1800)).to_integral_value(rounding=ROUND_DOWN)
    return halves * HALF_HOUR


@dataclass(frozen=True)
class Consent:
    """代录: who agreed to staff recording on the elder's behalf, how and when."""

    by: str
    method: str
    at: datetime

    def checked(self) -> Consent:
        by = self.by.strip()
        if not by:
            raise ApplicationError(_("代录须注明同意人（老人本人或其家属）。"))
        if self.method not in ProxyConsent.ConsentMethod.values:
            raise ApplicationError(_("请选择老人同意的方式。"))
        if self.at > timezone.now():
            raise ApplicationError(_("同意时间不能晚于现在。"))
        return Consent(by=by[:50], method=self.method, at=self.at)

    def fields(self, actor: User) -> dict[str, object]:
        return {"recorded_by": actor, "consent_by": self.by, "consent_method": self.method,
                "consent_at": self.at}
