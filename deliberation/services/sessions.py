"""Sessions: the monthly deliberation day (the 15th), joint meetings, agenda, sign-in, minutes.

Each service is one transaction that checks the actor's permission (deliberation.rules), locks
the row it changes, checks the transition table next to the model's TextChoices and saves with
update_fields.
"""

from __future__ import annotations

import calendar
import logging
import secrets
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import guesses
from core.exceptions import ApplicationError
from core.workdays import WorkCalendar
from core.workflow import transition
from deliberation import conf
from deliberation.models import AgendaItem, InvitedBody, Session, SessionAttendance
from deliberation.rules import require_attendee, require_staff
from territory.models import Compound

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)


def deliberation_date(year: int, month: int, *, workdays: WorkCalendar | None = None) -> date:
    """The compound's deliberation day in a month, moved off a public holiday per the policy.

    Public holidays come from the holiday table (core.workdays); a batch passes one
    `WorkCalendar` so the table is read once. A day past the table's end cannot be known to be
    a holiday: it is kept, and the log says so (the table's end is also a system check and a
    banner for street admins, long before the scheduler's lead window reaches it).
    """
    day = date(year, month, min(conf.deliberation_day(), calendar.monthrange(year, month)[1]))
    policy = conf.holiday_policy()
    if policy == "keep":
        return day
    workdays = workdays or WorkCalendar()
    if not workdays.is_covered(day):
        logger.warning("deliberation day %s lies past the holiday table's end: not moved", day)
    if not workdays.is_public_holiday(day):
        return day
    if policy == "next_workday":
        return workdays.next_workday(day)
    return workdays.previous_workday(day)


def _months_from(today: date, until: date) -> list[tuple[int, int]]:
    months = []
    year, month = today.year, today.month
    while date(year, month, 1) <= until:
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _monthly_session(compound_id: int, year: int, month: int, *,
                     workdays: WorkCalendar | None = None) -> Session:
    day = deliberation_date(year, month, workdays=workdays)
    starts_at = timezone.make_aware(datetime.combine(day, conf.start_time()))
    return Session(
        compound_id=compound_id, kind=Session.Kind.MONTHLY, period=f"{year:04d}-{month:02d}",
        title=_("%(year)s年%(month)s月议事日") % {"year": year, "month": month},
        starts_at=starts_at, ends_at=starts_at + timedelta(hours=2), place=conf.default_place(),
        invited_bodies=list(InvitedBody.values), sign_in_code=_new_code(),
    )


def _new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def sessions_schedule_monthly(*, today: date) -> int:
    """Create every compound's monthly session whose day falls within the lead window.

    Set-based and idempotent: one INSERT … ON CONFLICT DO NOTHING on the unique
    (compound, period) of monthly sessions, so running it twice, or on two workers, makes one.
    Returns how many sessions were new.
    """
    until = today + timedelta(days=conf.lead_days())
    compound_ids = list(Compound.objects.values_list("id", flat=True))
    workdays = WorkCalendar()
    wanted = [(year, month) for year, month in _months_from(today, until)
              if today <= deliberation_date(year, month, workdays=workdays) <= until]
    if not wanted or not compound_ids:
        return 0
    periods = [f"{year:04d}-{month:02d}" for year, month in wanted]
    before = Session.objects.filter(kind=Session.Kind.MONTHLY, period__in=periods).count()
    Session.objects.bulk_create(
        [_monthly_session(compound_id, year, month, workdays=workdays)
         for compound_id in compound_ids for year, month in wanted],
        ignore_conflicts=True,
    )
    return Session.objects.filter(kind=Session.Kind.MONTHLY, period__in=periods).count() - before


def session_next_for_compound(*, compound_id: int, now: datetime | None = None) -> Session:
    """The next planned session of the compound, creating the next month's 15th if none."""
    now = now or timezone.now()
    upcoming = (Session.objects.filter(compound_id=compound_id, status=Session.Status.PLANNED,
                                       starts_at__gte=now).order_by("starts_at").first())
    if upcoming is not None:
        return upcoming
    today = timezone.localdate(now)
    year, month = today.year, today.month
    workdays = WorkCalendar()
    if deliberation_date(year, month, workdays=workdays) <= today:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    Session.objects.bulk_create([_monthly_session(compound_id, year, month, workdays=workdays)],
                                ignore_conflicts=True)
    return Session.objects.get(compound_id=compound_id, kind=Session.Kind.MONTHLY,
                               period=f"{year:04d}-{month:02d}")


def session_call_joint(
    *, compound: Compound, actor: User, title: str, starts_at: datetime, place: str = "",
    mode: str = Session.Mode.OFFLINE, online_link: str = "",
    invited_bodies: list[str] | None = None,
) -> Session:
    """Call an ad-hoc joint meeting (联席会议) at any time."""
    require_staff(actor, compound.pk)
    if starts_at < timezone.now() - timedelta(days=1):
        raise ApplicationError(_("联席会议时间不能早于今天。"))
    session = Session(
        compound=compound, kind=Session.Kind.JOINT, title=title, starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2), place=place, mode=mode, online_link=online_link,
        invited_bodies=invited_bodies if invited_bodies is not None else list(InvitedBody.values),
        sign_in_code=_new_code(), created_by=actor,
    )
    session.full_clean()
    session.save()
    return session


def lock_session(session: Session) -> Session:
    return Session.objects.select_for_update().get(pk=session.pk)


def agenda_item_add(
    *, session: Session, actor: User, title: str, starts_at: time | None = None,
    duration_minutes: int = 15,
) -> AgendaItem:
    require_staff(actor, session.compound_id)
    with transaction.atomic():
        session = lock_session(session)
        if session.status != Session.Status.PLANNED:
            raise ApplicationError(_("议事会已召开或已取消，不能再调整议程。"))
        position, next_start = agenda_slot(session)
        return AgendaItem.objects.create(session=session, title=title,
                                         starts_at=starts_at or next_start,
                                         duration_minutes=duration_minutes, position=position)


def agenda_slot(session: Session) -> tuple[int, time]:
    """The next position and its start time: the session's start plus the items before it."""
    durations = list(AgendaItem.objects.filter(session=session)
                     .values_list("duration_minutes", flat=True))
    start = timezone.localtime(session.starts_at) + timedelta(minutes=sum(durations))
    return len(durations), start.time().replace(second=0, microsecond=0)


def session_sign_in(*, session: Session, actor: User, code: str) -> SessionAttendance:
    require_attendee(actor, session.compound_id)
    if session.status == Session.Status.CANCELLED:
        raise ApplicationError(_("议事会已取消。"))
    guesses.code_check(given=code, expected=session.sign_in_code, kind="session",
                       object_id=session.pk, user_id=actor.pk)
    attendance, _created = SessionAttendance.objects.get_or_create(session=session, user=actor)
    return attendance


def session_record_minutes(*, session: Session, actor: User, minutes: str) -> Session:
    """Record the minutes; the first time, the session becomes held (not before it starts)."""
    require_staff(actor, session.compound_id)
    with transaction.atomic():
        session = lock_session(session)
        fields = ["minutes", "updated_at"]
        if session.status == Session.Status.PLANNED:
            # Set on the locked copy: a refusal below rolls the transaction back with it.
            transition(session, Session.Status.HELD, table=Session.TRANSITIONS)
            now = timezone.now()
            if now < session.starts_at:
                raise TooEarly(_("议事会开始后才能记录纪要：“%(session)s”定于 %(start)s 开始。")
                               % {"session": session.title,
                                  "start": local_minute(session.starts_at)})
            session.held_at = now
            fields += ["status", "held_at"]
        elif session.status != Session.Status.HELD:
            raise InvalidSessionState(_("已取消的议事会不能记录纪要。"))
        session.minutes = minutes
        session.save(update_fields=fields)
    return session


class InvalidSessionState(ApplicationError):
    status_code = 409
    code = "invalid_transition"


class TooEarly(ApplicationError):
    """A step of the calendar taken before its time (a 400: the request may come again later)."""

    code = "too_early"


def local_minute(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def session_cancel(*, session: Session, actor: User) -> Session:
    require_staff(actor, session.compound_id)
    with transaction.atomic():
        session = lock_session(session)
        transition(session, Session.Status.CANCELLED, table=Session.TRANSITIONS)
        session.save(update_fields=["status", "updated_at"])
    return session


def session_publish(*, session: Session, actor: User) -> Session:
    """公示: the session's decisions go on the public page, dated."""
    require_staff(actor, session.compound_id)
    with transaction.atomic():
        session = lock_session(session)
        if session.status != Session.Status.HELD:
            raise InvalidSessionState(_("议事会召开后才能公示决议。"))
        if session.published_at is None:
            session.published_at = timezone.now()
            session.save(update_fields=["published_at", "updated_at"])
    return session
