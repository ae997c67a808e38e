"""Every write of the deliberation app: sessions, the five topic steps, surveys and the lists.

Each service is one transaction that checks the actor's permission (deliberation.selectors),
locks the row it changes, checks the transition table next to the model's TextChoices, saves with
update_fields, writes a TopicStatusChange where a topic moves, and notifies after commit.
"""

from __future__ import annotations

import calendar
import logging
import math
import secrets
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core import guesses
from core.exceptions import ApplicationError, PermissionDeniedError
from core.images import photo_reencode
from core.referral import Referral, petition_source
from core.workdays import WorkCalendar
from core.workflow import check_transition, transition
from deliberation import conf
from deliberation.models import (
    ActionEvidence,
    ActionItem,
    AgendaItem,
    InvitedBody,
    ListReview,
    Milestone,
    Need,
    Project,
    Resource,
    Satisfaction,
    Session,
    SessionAttendance,
    Survey,
    SurveyAnswer,
    Topic,
    TopicOpinion,
    TopicRating,
    TopicStatusChange,
    TopicSupport,
)
from deliberation.selectors import (
    resident_in_compound,
    staff_compounds,
    user_is_compound_resident,
    user_is_deliberation_staff,
)
from governance.models import Body
from notifications.messages import Message
from territory.models import Compound

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from accounts.models import User

TOPIC_LABELS = dict(Topic.Status.choices)
logger = logging.getLogger(__name__)

# The proposer of every referred topic: stored as data in the source language, whatever the
# language of the staff member who referred it (the topic is read by the compound's residents).
REFERRAL_PROPOSER = "居民"


def _require_staff(actor: User | Any, compound_id: int) -> None:
    if not user_is_deliberation_staff(actor, compound_id):
        raise PermissionDeniedError(_("只有社区工作人员或小区党支部书记可以办理。"))


def _require_resident(actor: User | Any, compound_id: int) -> None:
    if not user_is_compound_resident(actor, compound_id):
        raise PermissionDeniedError(_("只有本小区居民可以参与。"))


def _actor_name(actor: User | Any) -> str:
    return str(actor) if actor is not None else _("系统")


# --- the calendar of the 15th ------------------------------------------------------------------

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
    _require_staff(actor, compound.pk)
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


def _lock_session(session: Session) -> Session:
    return Session.objects.select_for_update().get(pk=session.pk)


def agenda_item_add(
    *, session: Session, actor: User, title: str, starts_at: Any = None,
    duration_minutes: int = 15,
) -> AgendaItem:
    _require_staff(actor, session.compound_id)
    with transaction.atomic():
        session = _lock_session(session)
        if session.status != Session.Status.PLANNED:
            raise ApplicationError(_("议事会已召开或已取消，不能再调整议程。"))
        position, next_start = _agenda_slot(session)
        return AgendaItem.objects.create(session=session, title=title,
                                         starts_at=starts_at or next_start,
                                         duration_minutes=duration_minutes, position=position)


def _agenda_slot(session: Session) -> tuple[int, Any]:
    """The next position and its start time: the session's start plus the items before it."""
    durations = list(AgendaItem.objects.filter(session=session)
                     .values_list("duration_minutes", flat=True))
    start = timezone.localtime(session.starts_at) + timedelta(minutes=sum(durations))
    return len(durations), start.time().replace(second=0, microsecond=0)


def session_sign_in(*, session: Session, actor: User, code: str) -> SessionAttendance:
    if not (user_is_compound_resident(actor, session.compound_id)
            or user_is_deliberation_staff(actor, session.compound_id)):
        raise PermissionDeniedError(_("只有本小区居民和工作人员可以签到。"))
    if session.status == Session.Status.CANCELLED:
        raise ApplicationError(_("议事会已取消。"))
    guesses.code_check(given=code, expected=session.sign_in_code, kind="session",
                       object_id=session.pk, user_id=actor.pk)
    attendance, _created = SessionAttendance.objects.get_or_create(session=session, user=actor)
    return attendance


def session_record_minutes(*, session: Session, actor: User, minutes: str) -> Session:
    """Record the minutes; the first time, the session becomes held (not before it starts)."""
    _require_staff(actor, session.compound_id)
    with transaction.atomic():
        session = _lock_session(session)
        fields = ["minutes", "updated_at"]
        if session.status == Session.Status.PLANNED:
            check_transition(Session.TRANSITIONS, session.status, Session.Status.HELD,
                             labels=dict(Session.Status.choices))
            now = timezone.now()
            if now < session.starts_at:
                raise TooEarly(_("议事会开始后才能记录纪要：“%(session)s”定于 %(start)s 开始。")
                               % {"session": session.title, "start": _local(session.starts_at)})
            session.status = Session.Status.HELD
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


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def session_cancel(*, session: Session, actor: User) -> Session:
    _require_staff(actor, session.compound_id)
    with transaction.atomic():
        session = _lock_session(session)
        check_transition(Session.TRANSITIONS, session.status, Session.Status.CANCELLED,
                         labels=dict(Session.Status.choices))
        session.status = Session.Status.CANCELLED
        session.save(update_fields=["status", "updated_at"])
    return session


def session_publish(*, session: Session, actor: User) -> Session:
    """公示: the session's decisions go on the public page, dated."""
    _require_staff(actor, session.compound_id)
    with transaction.atomic():
        session = _lock_session(session)
        if session.status != Session.Status.HELD:
            raise InvalidSessionState(_("议事会召开后才能公示决议。"))
        if session.published_at is None:
            session.published_at = timezone.now()
            session.save(update_fields=["published_at", "updated_at"])
    return session


# --- topics: 提 -------------------------------------------------------------------------------

def _move(topic: Topic, target: str, *, actor: User | None, reason: str = "") -> list[str]:
    old = transition(topic, target, table=Topic.TRANSITIONS)
    TopicStatusChange.objects.create(topic=topic, old_status=old, new_status=target,
                                     actor=actor, reason=reason[:300])
    return ["status", "updated_at"]


def _lock_topic(topic: Topic) -> Topic:
    return Topic.objects.select_for_update().get(pk=topic.pk)


def _topic_create(**fields: Any) -> Topic:
    topic = Topic.objects.create(**fields)
    TopicStatusChange.objects.create(topic=topic, new_status=topic.status,
                                     actor=fields.get("recorded_by") or fields.get("proposer"),
                                     reason=str(topic.get_channel_display()))
    Need.objects.create(compound_id=topic.compound_id, title=topic.title,
                        detail=topic.description[:1000],
                        source=Need.Source.PETITION if topic.petition_id else Need.Source.TOPIC,
                        topic=topic, petition_id=topic.petition_id)
    return topic


def topic_propose(
    *, compound: Compound, actor: User, title: str, description: str = "",
    scale: str = Topic.Scale.SMALL,
) -> Topic:
    """提: a resident proposes a topic online."""
    resident = resident_in_compound(actor, compound.pk)
    if resident is None:
        raise PermissionDeniedError(_("只有本小区居民可以提议。"))
    if not title.strip():
        raise ApplicationError(_("请填写议题。"))
    with transaction.atomic():
        return _topic_create(compound=compound, title=title.strip(), description=description,
                             scale=scale, channel=Topic.Channel.ONLINE, proposer=actor,
                             proposer_name=resident.name)


def topic_propose_offline(
    *, compound: Compound, actor: User, proposer_name: str, title: str, description: str = "",
    scale: str = Topic.Scale.SMALL,
) -> Topic:
    """提: staff record a proposal made offline on a resident's behalf."""
    _require_staff(actor, compound.pk)
    if not title.strip() or not proposer_name.strip():
        raise ApplicationError(_("请填写议题和提议人。"))
    with transaction.atomic():
        return _topic_create(compound=compound, title=title.strip(), description=description,
                             scale=scale, channel=Topic.Channel.OFFLINE,
                             proposer_name=proposer_name.strip(), recorded_by=actor)


def topic_propose_from_petition(
    *, petition_id: int, actor: User, title: str = "", description: str = "", note: str = "",
) -> Topic:
    """提: staff who may dispatch the petition refer it; the petition moves to "referred".

    1. Every resident of the compound reads the topic (and anyone with the iCal URL its agenda
       line), so the petition's own words and its petitioner never reach it: a petition that is
       not public, or anonymous, needs a title and text written by staff that do not quote it;
       a public one gives its text as the 公示 page shows it. The proposer is "居民".
    2. The topic and the petition's move are one transaction: a refusal by petitions (not a
       dispatcher, wrong state) leaves no topic behind. Staff's note goes on the petition's
       timeline.
    """
    if Topic.objects.filter(petition_id=petition_id).exists():
        raise ApplicationError(_("该诉求已转为议题。"))
    with transaction.atomic():
        referral = petition_source().read(petition_id=petition_id, actor=actor)
        title, description = _referral_text(referral, title=title, description=description)
        topic = _topic_create(
            compound_id=referral.compound_id, title=title, description=description,
            scale=Topic.Scale.BIG, channel=Topic.Channel.PETITION, proposer_name=REFERRAL_PROPOSER,
            recorded_by=actor, petition_id=petition_id,
        )
        reason = _("转入协商议事：%s") % topic.title
        petition_source().refer(petition_id=petition_id, actor=actor, topic_id=topic.pk,
                                note=f"{reason}\n{note.strip()}" if note.strip() else reason)
    return topic


def _referral_text(referral: Referral, *, title: str, description: str) -> tuple[str, str]:
    title, description = title.strip(), description.strip()
    if referral.is_private and not (title and description):
        raise ApplicationError(_("该诉求未同意公开或为匿名诉求，请填写议题名称和说明："
                                 "由工作人员概括，不含诉求原文和诉求人信息。"))
    if referral.quotes(f"{title}\n{description}"):
        raise ApplicationError(_("议题名称和说明不能引用诉求原文或诉求人的姓名、电话，"
                                 "请用中性的文字概括。"))
    return (title or referral.title)[:200], description or referral.description


def referral_topics_redact() -> int:
    """Topics referred before the referral rule, brought under it; returns how many changed.

    A title or text quoting a private petition's words, or the petitioner's name or phone, is
    replaced (a public petition's: by its 公示 text; a private one's: by a neutral title and
    no text, staff still reach the petition through the topic's link); the proposer becomes
    居民. The agenda lines and needs copied from the topic follow. Idempotent.
    """
    changed = 0
    topics = Topic.objects.filter(petition_id__isnull=False).order_by("id")
    for topic in topics.iterator():
        # Not None: the filter above.
        referral = petition_source().referral_by_id(petition_id=cast("int", topic.petition_id))
        if referral is not None:
            changed += _topic_redact(topic, referral)
    return changed


def _topic_redact(topic: Topic, referral: Referral) -> bool:
    title, description, proposer = topic.title, topic.description, REFERRAL_PROPOSER
    if referral.quotes(title):
        title = (referral.title or _("居民诉求转议（诉求内容不公开）"))[:200]
    if referral.quotes(description):
        description = referral.description
    if (title, description, proposer) == (topic.title, topic.description, topic.proposer_name):
        return False
    with transaction.atomic():
        Topic.objects.filter(pk=topic.pk).update(title=title, description=description,
                                                 proposer_name=proposer)
        AgendaItem.objects.filter(topic_id=topic.pk, title=topic.title).update(title=title)
        Need.objects.filter(topic_id=topic.pk, title=topic.title).update(title=title)
        Need.objects.filter(topic_id=topic.pk, detail=topic.description[:1000]).update(
            detail=description[:1000])
    return True


def topic_support(*, topic: Topic, actor: User) -> Topic:
    """附议: another resident of the compound supports a proposal.

    1. Only residents of the compound, not the proposer, only while collecting support.
    2. The support row is unique per (topic, user); the counter moves with an F() update.
    3. Reaching the threshold puts the topic on the compound's next session automatically.
    """
    _require_resident(actor, topic.compound_id)
    with transaction.atomic():
        topic = _lock_topic(topic)
        if topic.status != Topic.Status.PROPOSED:
            raise ApplicationError(_("该议题已不在征集附议阶段。"))
        if topic.proposer_id == actor.pk:
            raise ApplicationError(_("提议人不能为自己附议。"))
        try:
            with transaction.atomic():
                TopicSupport.objects.create(topic=topic, user=actor)
        except IntegrityError:
            raise ApplicationError(_("您已附议过该议题。")) from None
        Topic.objects.filter(pk=topic.pk).update(support_count=F("support_count") + 1)
        topic.refresh_from_db(fields=["support_count"])
        if topic.support_count >= conf.support_threshold():
            session = session_next_for_compound(compound_id=topic.compound_id)
            reason = _("附议数达到%(count)s，自动列入议程") % {"count": topic.support_count}
            _schedule(topic, session, actor=None, reason=reason)
    return topic


# --- 议 ---------------------------------------------------------------------------------------

def _schedule(topic: Topic, session: Session, *, actor: User | None, reason: str,
              starts_at: Any = None, duration_minutes: int = 20) -> None:
    if session.compound_id != topic.compound_id:
        raise ApplicationError(_("议题和议事会不属于同一小区。"))
    if session.status != Session.Status.PLANNED:
        raise ApplicationError(_("只能列入待召开的议事会。"))
    fields = _move(topic, Topic.Status.DELIBERATING, actor=actor, reason=reason)
    topic.session = session
    topic.save(update_fields=[*fields, "session"])
    position, next_start = _agenda_slot(session)
    AgendaItem.objects.create(session=session, topic=topic, title=topic.title,
                              starts_at=starts_at or next_start,
                              duration_minutes=duration_minutes, position=position)
    if topic.proposer_id:
        proposer_id, title, link = topic.proposer_id, topic.title, topic_link(topic.pk)
        transaction.on_commit(lambda: _notify(
            [proposer_id], Message(gettext_noop("您的议题已列入议程：%(title)s"), {"title": title}),
            f"topic-scheduled:{topic.pk}", link=link))


def topic_schedule(
    *, topic: Topic, session: Session, actor: User, starts_at: Any = None,
    duration_minutes: int = 20,
) -> Topic:
    """议: put a proposed topic on a session's agenda."""
    _require_staff(actor, topic.compound_id)
    with transaction.atomic():
        topic = _lock_topic(topic)
        session = _lock_session(session)
        _schedule(topic, session, actor=actor, reason=session.title, starts_at=starts_at,
                  duration_minutes=duration_minutes)
    return topic


def topic_reject(*, topic: Topic, actor: User, reason: str) -> Topic:
    """Dismiss a proposal (or an undecidable topic) with a published reason."""
    _require_staff(actor, topic.compound_id)
    if not reason.strip():
        raise ApplicationError(_("请说明不予受理的理由。"))
    with transaction.atomic():
        topic = _lock_topic(topic)
        fields = _move(topic, Topic.Status.REJECTED, actor=actor, reason=reason)
        topic.outcome = reason
        topic.closed_at = topic.published_at = timezone.now()
        topic.save(update_fields=[*fields, "outcome", "closed_at", "published_at"])
        _close_petition(topic, actor=actor)
    return topic


def topic_opinion_add(
    *, topic: Topic, actor: User, speaker: str, body: str,
    stance: str = TopicOpinion.Stance.NEUTRAL,
) -> TopicOpinion:
    _require_staff(actor, topic.compound_id)
    if not body.strip():
        raise ApplicationError(_("请填写意见。"))
    with transaction.atomic():
        topic = _lock_topic(topic)
        if topic.status != Topic.Status.DELIBERATING:
            raise ApplicationError(_("只有上会协商中的议题可以记录意见。"))
        return TopicOpinion.objects.create(topic=topic, speaker=speaker or _actor_name(actor),
                                           stance=stance, body=body, recorded_by=actor)


# --- 决 ---------------------------------------------------------------------------------------

def quorum_for(eligible_voters: int) -> int:
    return math.ceil(eligible_voters * conf.quorum_ratio())


def topic_decide(
    *, topic: Topic, actor: User, decision_text: str, mode: str, review_on: date | None,
    votes_for: int = 0, votes_against: int = 0, votes_abstain: int = 0,
    eligible_voters: int | None = None,
) -> Topic:
    """决: record the decision.

    1. A decision is made at the session the topic is on: not before the session starts.
    2. A vote needs the eligible number; the votes cast must reach the quorum (ratio setting).
    3. A vote passes with more than half of the votes cast in favour; consensus always passes.
    4. Passed: decided, with a review date; not passed: rejected and published at once.
    """
    _require_staff(actor, topic.compound_id)
    if not decision_text.strip():
        raise ApplicationError(_("请填写决议内容。"))
    with transaction.atomic():
        topic = _lock_topic(topic)
        # Only a topic under deliberation is decided (a vote that fails rejects it then).
        check_transition(Topic.TRANSITIONS, topic.status, Topic.Status.DECIDED,
                         labels=TOPIC_LABELS)
        _check_session_started(topic)
        passed = _vote_passes(mode, votes_for, votes_against, votes_abstain, eligible_voters)
        if passed and review_on is None:
            raise ApplicationError(_("请设定评议日期。"))
        if passed and review_on < timezone.localdate():
            raise ApplicationError(_("评议日期不能早于今天。"))
        target = Topic.Status.DECIDED if passed else Topic.Status.REJECTED
        fields = _move(topic, target, actor=actor, reason=decision_text[:300])
        topic.decision_text = decision_text
        topic.decision_mode = mode
        topic.votes_for, topic.votes_against = votes_for, votes_against
        topic.votes_abstain, topic.eligible_voters = votes_abstain, eligible_voters
        topic.decided_at = timezone.now()
        topic.review_on = review_on if passed else None
        fields += ["decision_text", "decision_mode", "votes_for", "votes_against",
                   "votes_abstain", "eligible_voters", "decided_at", "review_on"]
        if not passed:
            topic.outcome = _("表决未通过：%(text)s") % {"text": decision_text}
            topic.closed_at = topic.published_at = timezone.now()
            fields += ["outcome", "closed_at", "published_at"]
        topic.save(update_fields=fields)
        if not passed:
            _close_petition(topic, actor=actor)
    return topic


def _check_session_started(topic: Topic) -> None:
    """决 belongs to the session the topic is on: recorded at it or after it, never before."""
    session = Session.objects.filter(pk=topic.session_id).first()
    if session is None:
        raise ApplicationError(_("议题尚未列入议事会，不能记录决议。"))
    if timezone.now() < session.starts_at:
        raise TooEarly(
            _("议事会召开时或召开后才能记录决议：“%(session)s”定于 %(start)s 开始。")
            % {"session": session.title, "start": _local(session.starts_at)})


def _vote_passes(mode: str, votes_for: int, votes_against: int, votes_abstain: int,
                 eligible_voters: int | None) -> bool:
    if mode == Topic.DecisionMode.CONSENSUS:
        return True
    if mode != Topic.DecisionMode.VOTE:
        raise ApplicationError(_("未知的决议方式。"))
    if min(votes_for, votes_against, votes_abstain) < 0:
        raise ApplicationError(_("票数不能为负数。"))
    if not eligible_voters or eligible_voters <= 0:
        raise ApplicationError(_("表决须填写应到人数。"))
    cast = votes_for + votes_against + votes_abstain
    if cast > eligible_voters:
        raise ApplicationError(_("投票总数不能超过应到人数。"))
    quorum = quorum_for(eligible_voters)
    if cast < quorum:
        raise ApplicationError(
            _("未达到法定人数：应到%(eligible)s人，至少%(quorum)s人参加表决，实际%(cast)s人。")
            % {"eligible": eligible_voters, "quorum": quorum, "cast": cast})
    return votes_for * 2 > cast


# --- 做 ---------------------------------------------------------------------------------------

def action_item_add(
    *, topic: Topic, actor: User, title: str, deadline: date, owner_name: str = "",
    owner_user: User | None = None, owner_body: Body | None = None,
) -> ActionItem:
    """做: an action item with an owner (a person or a body) and a deadline."""
    _require_staff(actor, topic.compound_id)
    if not title.strip():
        raise ApplicationError(_("请填写落实事项。"))
    if owner_body is not None and owner_body.compound_id not in (None, topic.compound_id):
        raise ApplicationError(_("责任主体不属于本小区。"))
    name = owner_name.strip() or (str(owner_body) if owner_body else "") or (
        str(owner_user) if owner_user else "")
    if not name:
        raise ApplicationError(_("请指定责任人或责任主体。"))
    with transaction.atomic():
        topic = _lock_topic(topic)
        if topic.status == Topic.Status.DECIDED:
            topic.save(update_fields=_move(topic, Topic.Status.EXECUTING, actor=actor,
                                           reason=title))
        elif topic.status != Topic.Status.EXECUTING:
            raise ApplicationError(_("议题决议后才能分解落实事项。"))
        item = ActionItem.objects.create(topic=topic, title=title.strip(), deadline=deadline,
                                         owner_name=name[:100], owner_user=owner_user,
                                         owner_body=owner_body)
    if owner_user is not None:
        user_id = owner_user.pk
        link = action_item_link(item_id=item.pk, topic_id=topic.pk,
                                compound_id=topic.compound_id, user=owner_user)
        message = Message(gettext_noop("您有新的落实事项：%(title)s"), {"title": item.title})
        transaction.on_commit(lambda: _notify([user_id], message, f"action-assigned:{item.pk}",
                                              link=link))
    return item


def _lock_item(item: ActionItem) -> ActionItem:
    return ActionItem.objects.select_for_update().get(pk=item.pk)


def action_item_progress(
    *, item: ActionItem, actor: User, progress: int, note: str = "",
    photo: UploadedFile | None = None, caption: str = "",
) -> ActionItem:
    """Report progress (the owner or staff), optionally with an evidence photo."""
    topic = item.topic
    if item.owner_user_id != actor.pk:
        _require_staff(actor, topic.compound_id)
    if not 0 <= progress <= 100:
        raise ApplicationError(_("进度须在 0 到 100 之间。"))
    content = photo_reencode(photo) if photo is not None else None
    with transaction.atomic():
        item = _lock_item(item)
        if item.status != ActionItem.Status.OPEN:
            raise ApplicationError(_("该事项已销号。"))
        item.progress = progress
        item.progress_note = note
        item.save(update_fields=["progress", "progress_note", "updated_at"])
        if content is not None:
            ActionEvidence.objects.create(action_item=item, photo=content, caption=caption,
                                          uploaded_by=actor)
    return item


def action_item_tick_off(*, item: ActionItem, actor: User) -> ActionItem:
    """销号: staff close an action item; when none is left open the topic goes to evaluation."""
    _require_staff(actor, item.topic.compound_id)
    with transaction.atomic():
        topic = _lock_topic(item.topic)
        item = _lock_item(item)
        check_transition(ActionItem.TRANSITIONS, item.status, ActionItem.Status.DONE,
                         labels=dict(ActionItem.Status.choices))
        item.status = ActionItem.Status.DONE
        item.progress = 100
        item.done_at = timezone.now()
        item.save(update_fields=["status", "progress", "done_at", "updated_at"])
        still_open = topic.action_items.filter(status=ActionItem.Status.OPEN).exists()
        if topic.status == Topic.Status.EXECUTING and not still_open:
            topic.save(update_fields=_open_evaluation(topic, actor=actor,
                                                      reason=_("落实事项全部销号")))
    return item


def topic_settle_on_the_spot(*, topic: Topic, actor: User) -> Topic:
    """A small matter settled at the session needs no action item: straight to evaluation."""
    _require_staff(actor, topic.compound_id)
    with transaction.atomic():
        topic = _lock_topic(topic)
        topic.save(update_fields=_open_evaluation(topic, actor=actor,
                                                  reason=_("现场议定，无需分解落实")))
    return topic


def evaluation_end(*, opened_at: datetime, review_on: date | None) -> datetime:
    """When the residents' evaluation opened at `opened_at` ends: it lasts at least
    DELIBERATION_EVALUATION_DAYS, and runs to the review date the decision set (its start)."""
    end = opened_at + timedelta(days=conf.evaluation_days())
    if review_on is not None:
        end = max(end, timezone.make_aware(datetime.combine(review_on, time.min)))
    return end


def _open_evaluation(topic: Topic, *, actor: User | None, reason: str) -> list[str]:
    """评: the topic moves to evaluation, its window opens, the proposer is asked to rate."""
    fields = _move(topic, Topic.Status.EVALUATING, actor=actor, reason=reason)
    topic.evaluation_ends_at = evaluation_end(opened_at=timezone.now(),
                                              review_on=topic.review_on)
    _notify_rating_open(topic)
    return [*fields, "evaluation_ends_at"]


def _notify_rating_open(topic: Topic) -> None:
    if topic.proposer_id:
        proposer_id, title, pk = topic.proposer_id, topic.title, topic.pk
        link = topic_link(pk, anchor="rate")
        message = Message(gettext_noop("议题已落实，请您评议：%(title)s"), {"title": title})
        transaction.on_commit(lambda: _notify([proposer_id], message, f"topic-rate:{pk}",
                                              link=link))


# --- 评 ---------------------------------------------------------------------------------------

def topic_rate(*, topic: Topic, actor: User, score: str, comment: str = "") -> TopicRating:
    """评: a resident of the compound rates the outcome, once."""
    _require_resident(actor, topic.compound_id)
    if score not in Satisfaction.values:
        raise ApplicationError(_("请选择评价。"))
    with transaction.atomic():
        topic = _lock_topic(topic)
        if topic.status != Topic.Status.EVALUATING:
            raise ApplicationError(_("该议题当前不在评议阶段。"))
        try:
            with transaction.atomic():
                return TopicRating.objects.create(topic=topic, user=actor, score=score,
                                                  comment=comment[:300])
        except IntegrityError:
            raise ApplicationError(_("您已评议过该议题。")) from None


def topic_close(*, topic: Topic, actor: User, outcome: str, evaluation_note: str = "") -> Topic:
    """结: close the topic, publish its outcome, resolve its needs, close a referring petition.

    1. Only after 评: the evaluation window has ended (the residents were told they could rate
       until then; closing early would cut them off).
    2. With an evaluation: at least one resident's rating, or, where nobody rated online (many
       residents are elderly), a record of the evaluation held offline (a 评议会 or door-to-door
       回访: how many, what they said), kept with the topic and shown on its page.
    """
    _require_staff(actor, topic.compound_id)
    if not outcome.strip():
        raise ApplicationError(_("请填写办理结果。"))
    evaluation_note = evaluation_note.strip()
    with transaction.atomic():
        topic = _lock_topic(topic)
        check_transition(Topic.TRANSITIONS, topic.status, Topic.Status.CLOSED,
                         labels=TOPIC_LABELS)
        now = timezone.now()
        _check_evaluated(topic, now=now, evaluation_note=evaluation_note)
        fields = _move(topic, Topic.Status.CLOSED, actor=actor, reason=outcome[:300])
        topic.outcome = outcome
        topic.closed_at = topic.published_at = now
        fields += ["outcome", "closed_at", "published_at"]
        if evaluation_note:
            topic.evaluation_note = evaluation_note
            fields.append("evaluation_note")
        topic.save(update_fields=fields)
        Need.objects.filter(topic=topic).exclude(status=Need.Status.RESOLVED).update(
            status=Need.Status.RESOLVED, resolution=outcome[:300], resolved_at=now)
        _close_petition(topic, actor=actor)
    return topic


def _check_evaluated(topic: Topic, *, now: datetime, evaluation_note: str) -> None:
    if topic.evaluation_ends_at is not None and now < topic.evaluation_ends_at:
        raise TooEarly(_("评议期至 %(end)s，评议期结束后才能办结：居民在此之前都可以评议。")
                       % {"end": _local(topic.evaluation_ends_at)})
    if not evaluation_note and not topic.ratings.exists():
        raise ApplicationError(_("还没有居民评议：请提醒居民评议，或召开评议会、入户回访后"
                                 "填写线下评议记录（参加人数和意见），再办结。"))


def _close_petition(topic: Topic, *, actor: User) -> None:
    if topic.petition_id is None:
        return
    petition_source().close(petition_id=topic.petition_id, outcome=topic.outcome, actor=actor)


def rating_summary(topic: Topic) -> dict[str, int]:
    counts = dict.fromkeys(Satisfaction.values, 0)
    for score in topic.ratings.values_list("score", flat=True):
        counts[score] += 1
    return counts


# --- reminders --------------------------------------------------------------------------------

def action_items_remind(*, now: datetime) -> int:
    """Remind owners before the deadline and once after it passes.

    Each reminder is claimed with a conditional UPDATE on its `reminded_*_at` column (only rows
    still NULL), so a second run or a second worker sends nothing twice; inbox rows carry a
    dedupe key as well.
    """
    today = timezone.localdate(now)
    soon = today + timedelta(days=conf.remind_before_days())
    open_items = ActionItem.objects.filter(status=ActionItem.Status.OPEN)
    sent = _claim_and_notify(
        open_items.filter(reminded_before_at__isnull=True, deadline__gte=today,
                          deadline__lte=soon),
        "reminded_before_at", now, gettext_noop("落实事项即将到期：%(title)s（%(deadline)s）"),
        "before")
    sent += _claim_and_notify(
        open_items.filter(reminded_after_at__isnull=True, deadline__lt=today),
        "reminded_after_at", now, gettext_noop("落实事项已逾期：%(title)s（%(deadline)s）"),
        "after")
    return sent


def _claim_and_notify(queryset: Any, column: str, now: datetime, template: str,
                      kind: str) -> int:
    from accounts.models import User
    from notifications.services import notifications_create, sms_enqueue

    with transaction.atomic():
        # Lock only the action items (owner_body is an outer join PostgreSQL cannot lock).
        rows = list(queryset.select_for_update(skip_locked=True, of=("self",))
                    .values("id", "title", "deadline", "owner_user_id", "owner_body__contact_phone",
                            "topic_id", "topic__compound_id"))
        ids = [row["id"] for row in rows]
        claimed = set(ActionItem.objects.filter(id__in=ids, **{f"{column}__isnull": True})
                      .values_list("id", flat=True))
        ActionItem.objects.filter(id__in=claimed).update(**{column: now})
        owners = User.objects.in_bulk([row["owner_user_id"] for row in rows
                                       if row["owner_user_id"] and row["id"] in claimed])
        for row in rows:
            if row["id"] not in claimed:
                continue
            message = Message(template, {"title": row["title"], "deadline": str(row["deadline"])})
            text = message.stored_text()
            key = f"delib-action-{kind}:{row['id']}"
            owner = owners.get(row["owner_user_id"])
            if owner is not None:
                link = action_item_link(item_id=row["id"], topic_id=row["topic_id"],
                                        compound_id=row["topic__compound_id"], user=owner)
                notifications_create(user_ids=[owner.pk], title=message, link=link,
                                     dedupe_key=key)
            if row["owner_body__contact_phone"]:
                sms_enqueue(phone=row["owner_body__contact_phone"], body=text, dedupe_key=key)
    return len(claimed)


def topic_link(topic_id: int, *, anchor: str = "") -> str:
    """The topic's page: every resident and every staff member of its compound may open it."""
    url = reverse("deliberation:topic-detail", args=[topic_id])
    return f"{url}#{anchor}" if anchor else url


def action_item_link(*, item_id: int, topic_id: int, compound_id: int, user: User) -> str:
    """Where the item's owner opens it: staff report progress on the action-item board; any
    other owner (a resident, who may not open the board) reads it on the topic's page."""
    if user_is_deliberation_staff(user, compound_id):
        return f"{reverse('deliberation:action-items')}#item-{item_id}"
    return topic_link(topic_id, anchor=f"item-{item_id}")


def _notify(user_ids: list[int], title: Message, key: str, link: str = "") -> None:
    from notifications.services import notifications_create

    notifications_create(user_ids=user_ids, title=title, link=link, dedupe_key=key)


# --- quarterly survey -------------------------------------------------------------------------

def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_end(year: int, quarter: int) -> date:
    month = quarter * 3
    return date(year, month, calendar.monthrange(year, month)[1])


def surveys_generate_quarterly(*, today: date) -> int:
    """Open each compound's satisfaction survey near the quarter's end (idempotent, set-based)."""
    year, quarter = quarter_of(today)
    end = quarter_end(year, quarter)
    if today < end - timedelta(days=conf.survey_days_before_quarter_end()):
        return 0
    compound_ids = list(Compound.objects.values_list("id", flat=True))
    before = Survey.objects.filter(year=year, quarter=quarter).count()
    Survey.objects.bulk_create([
        Survey(compound_id=compound_id, year=year, quarter=quarter,
               title=_("%(year)s年第%(quarter)s季度满意度测评") % {"year": year,
                                                                 "quarter": quarter},
               opens_on=today, closes_on=end + timedelta(days=conf.survey_days_after_quarter_end()))
        for compound_id in compound_ids
    ], ignore_conflicts=True)
    return Survey.objects.filter(year=year, quarter=quarter).count() - before


def survey_answer_submit(
    *, survey: Survey, actor: User, satisfaction: str, comment: str = "", need: str = "",
) -> SurveyAnswer:
    """One answer per household; a stated need goes onto the needs list."""
    resident = resident_in_compound(actor, survey.compound_id)
    if resident is None:
        raise PermissionDeniedError(_("只有本小区居民可以参加测评。"))
    today = timezone.localdate()
    if not survey.opens_on <= today <= survey.closes_on:
        raise ApplicationError(_("测评不在开放时间内。"))
    if satisfaction not in Satisfaction.values:
        raise ApplicationError(_("请选择总体评价。"))
    try:
        with transaction.atomic():
            answer = SurveyAnswer.objects.create(survey=survey, household=resident.household,
                                                 user=actor, satisfaction=satisfaction,
                                                 comment=comment[:500])
            if need.strip():
                Need.objects.create(compound_id=survey.compound_id, title=need.strip()[:200],
                                    source=Need.Source.SURVEY, survey_answer=answer)
    except IntegrityError:
        raise ApplicationError(_("本户已经填写过本季度测评。")) from None
    return answer


# --- the three lists --------------------------------------------------------------------------

def need_create(*, compound: Compound, actor: User, title: str, source: str,
                detail: str = "", petition_id: int | None = None) -> Need:
    _require_staff(actor, compound.pk)
    if not title.strip():
        raise ApplicationError(_("请填写需求。"))
    if source not in Need.Source.values:
        raise ApplicationError(_("未知的需求来源。"))
    return Need.objects.create(compound=compound, title=title.strip(), detail=detail,
                               source=source, petition_id=petition_id)


def need_resolve(*, need: Need, actor: User, resolution: str) -> Need:
    _require_staff(actor, need.compound_id)
    with transaction.atomic():
        need = Need.objects.select_for_update().get(pk=need.pk)
        check_transition(Need.TRANSITIONS, need.status, Need.Status.RESOLVED,
                         labels=dict(Need.Status.choices))
        need.status = Need.Status.RESOLVED
        need.resolution = resolution[:300]
        need.resolved_at = timezone.now()
        need.save(update_fields=["status", "resolution", "resolved_at", "updated_at"])
    return need


def resource_create(*, compound: Compound, actor: User, kind: str, name: str, offers: str,
                    contact: str = "", body: Body | None = None) -> Resource:
    _require_staff(actor, compound.pk)
    if kind not in Resource.Kind.values or not name.strip() or not offers.strip():
        raise ApplicationError(_("请填写资源类型、名称和可提供的内容。"))
    return Resource.objects.create(compound=compound, kind=kind, name=name.strip(),
                                   offers=offers, contact=contact, body=body)


def project_create(
    *, compound: Compound, actor: User, kind: str, title: str, owner_name: str,
    budget: Decimal = Decimal(0), need_ids: list[int] | None = None,
    resource_ids: list[int] | None = None, topic: Topic | None = None,
) -> Project:
    _require_staff(actor, compound.pk)
    if kind not in Project.Kind.values or not title.strip() or not owner_name.strip():
        raise ApplicationError(_("请填写项目类型、名称和牵头人。"))
    if budget < 0:
        raise ApplicationError(_("预算不能为负数。"))
    with transaction.atomic():
        project = Project.objects.create(compound=compound, kind=kind, title=title.strip(),
                                         owner_name=owner_name.strip(), budget=budget,
                                         topic=topic)
        if need_ids:
            project.needs.set(Need.objects.filter(compound=compound, pk__in=need_ids))
            Need.objects.filter(pk__in=need_ids, compound=compound,
                                status=Need.Status.OPEN).update(status=Need.Status.MATCHED)
        if resource_ids:
            project.resources.set(Resource.objects.filter(compound=compound,
                                                          pk__in=resource_ids))
    return project


def milestone_add(*, project: Project, actor: User, title: str, due_on: date) -> Milestone:
    _require_staff(actor, project.compound_id)
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        if project.status == Project.Status.TICKED_OFF:
            raise ApplicationError(_("项目已销号。"))
        if project.status == Project.Status.PLANNED:
            project.status = Project.Status.IN_PROGRESS
            project.save(update_fields=["status", "updated_at"])
        return Milestone.objects.create(project=project, title=title, due_on=due_on)


def milestone_complete(*, milestone: Milestone, actor: User, done_on: date | None = None
                       ) -> Milestone:
    _require_staff(actor, milestone.project.compound_id)
    with transaction.atomic():
        milestone = Milestone.objects.select_for_update().get(pk=milestone.pk)
        if milestone.done_on is not None:
            raise ApplicationError(_("该节点已完成。"))
        milestone.done_on = done_on or timezone.localdate()
        milestone.save(update_fields=["done_on"])
    return milestone


def project_tick_off(*, project: Project, actor: User) -> Project:
    """销号: the project is done; its needs count as resolved."""
    _require_staff(actor, project.compound_id)
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        check_transition(Project.TRANSITIONS, project.status, Project.Status.TICKED_OFF,
                         labels=dict(Project.Status.choices))
        now = timezone.now()
        project.status = Project.Status.TICKED_OFF
        project.ticked_off_at = now
        project.save(update_fields=["status", "ticked_off_at", "updated_at"])
        project.needs.exclude(status=Need.Status.RESOLVED).update(
            status=Need.Status.RESOLVED, resolved_at=now,
            resolution=_("项目销号：%s") % project.title)
    return project


def list_reviews_remind(*, today: date) -> int:
    """At each quarter's end, open the review of the three lists and tell the compound's staff."""
    from accounts.models import User

    year, quarter = quarter_of(today)
    if today < quarter_end(year, quarter) - timedelta(days=conf.survey_days_before_quarter_end()):
        return 0
    compounds = list(Compound.objects.select_related("community"))
    ListReview.objects.bulk_create(
        [ListReview(compound=compound, year=year, quarter=quarter) for compound in compounds],
        ignore_conflicts=True)
    staff = list(User.objects.filter(role=User.Role.COMMUNITY_STAFF, is_active=True)
                 .select_related("scope_area"))
    for compound in compounds:
        user_ids = [user.pk for user in staff
                    if user.scope_area and compound.community.path.startswith(
                        user.scope_area.path)]
        if user_ids:
            _notify(user_ids,
                    Message(gettext_noop("请完成%(year)s年第%(quarter)s季度三张清单复盘：%(name)s"),
                            {"year": year, "quarter": quarter, "name": compound.name}),
                    f"delib-list-review:{compound.pk}:{year}:{quarter}",
                    link="/deliberation/staff/lists/")
    return len(compounds)


def list_review_complete(*, review: ListReview, actor: User) -> ListReview:
    _require_staff(actor, review.compound_id)
    updated = ListReview.objects.filter(pk=review.pk, reviewed_at__isnull=True).update(
        reviewed_at=timezone.now(), reviewed_by=actor)
    if not updated:
        raise ApplicationError(_("本季度清单已复盘。"))
    review.refresh_from_db()
    return review


def compounds_for_staff(actor: User) -> list[Compound]:
    return list(staff_compounds(actor).order_by("name"))
