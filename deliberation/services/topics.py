"""Topics through the five steps 提 议 决 做 评 结, their action items and the reminders.

Each service is one transaction that checks the actor's permission (deliberation.rules), locks
the row it changes, checks the transition table next to the model's TextChoices, saves with
update_fields, writes a TopicStatusChange where a topic moves, and notifies after commit.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, cast

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from core.exceptions import ApplicationError, PermissionDeniedError
from core.images import photo_reencode
from core.referral import Referral, petition_source
from core.workflow import check_transition, transition
from deliberation import conf
from deliberation.models import (
    REFERRAL_PROPOSER,
    ActionEvidence,
    ActionItem,
    AgendaItem,
    Need,
    Satisfaction,
    Session,
    Topic,
    TopicOpinion,
    TopicRating,
    TopicStatusChange,
    TopicSupport,
)
from deliberation.rules import (
    require_progress_reporter,
    require_staff,
    user_is_deliberation_staff,
)
from deliberation.selectors import (
    resident_in_compound,
    topic_household_rating,
    topic_household_supported,
)
from deliberation.services.sessions import (
    TooEarly,
    agenda_slot,
    local_minute,
    lock_session,
    session_next_for_compound,
)
from governance.models import Body
from notifications.messages import Message, choice
from notifications.services import notifications_create, sms_enqueue
from territory.models import Compound

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile



def _topic_labels() -> dict[str, str]:
    """The statuses' labels in the request's language, for check_transition's refusal."""
    return {value: str(label) for value, label in Topic.Status.choices}


def _actor_name(actor: User | None) -> str:
    return str(actor) if actor is not None else _("系统")


def _move(topic: Topic, target: str, *, actor: User | None, reason: str = "") -> list[str]:
    old = transition(topic, target, table=Topic.TRANSITIONS)
    change = TopicStatusChange.objects.create(topic=topic, old_status=old, new_status=target,
                                              actor=actor, reason=reason[:300])
    _notify_proposer_of_change(topic, change)
    return ["status", "updated_at"]


_OWN_MESSAGE_STEPS = frozenset({Topic.Status.DELIBERATING, Topic.Status.EVALUATING})


def _notify_proposer_of_change(topic: Topic, change: TopicStatusChange) -> None:
    """Every step of a topic reaches its proposer, with a link to the topic page (which a
    resident of the compound may open). Two steps have their own message instead: 议 says
    which session (_schedule) and 评 asks them to rate (_notify_rating_open)."""
    if not topic.proposer_id or change.new_status in _OWN_MESSAGE_STEPS:
        return
    proposer_id, pk = topic.proposer_id, topic.pk
    message = Message(gettext_noop("您提的议题“%(title)s”进入新阶段：%(status)s"),
                      {"title": topic.title, "status": choice("topic_status", change.new_status)})
    key = f"topic-status:{change.pk}"
    transaction.on_commit(lambda: _notify([proposer_id], message, key, link=topic_link(pk)))


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
    require_staff(actor, compound.pk)
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
    2. One support a household: the row is unique per (topic, household), and a household
       whose member supported before the rule (a row without household) counts as supported;
       the counter moves with an F() update.
    3. Reaching the threshold puts the topic on the compound's next session automatically.
    """
    resident = resident_in_compound(actor, topic.compound_id)
    if resident is None:
        raise PermissionDeniedError(_("只有本小区居民可以参与。"))
    with transaction.atomic():
        topic = _lock_topic(topic)
        if topic.status != Topic.Status.PROPOSED:
            raise ApplicationError(_("该议题已不在征集附议阶段。"))
        if topic.proposer_id == actor.pk:
            raise ApplicationError(_("提议人不能为自己附议。"))
        if topic_household_supported(topic=topic, user=actor):
            raise ApplicationError(_("您家已附议过该议题（每户一次）。"))
        try:
            with transaction.atomic():
                TopicSupport.objects.create(topic=topic, user=actor,
                                            household_id=resident.household_id)
        except IntegrityError:
            raise ApplicationError(_("您家已附议过该议题（每户一次）。")) from None
        Topic.objects.filter(pk=topic.pk).update(support_count=F("support_count") + 1)
        topic.refresh_from_db(fields=["support_count"])
        if topic.support_count >= conf.support_threshold():
            session = session_next_for_compound(compound_id=topic.compound_id)
            reason = _("附议数达到%(count)s，自动列入议程") % {"count": topic.support_count}
            _schedule(topic, session, actor=None, reason=reason)
    return topic


# --- 议 ---------------------------------------------------------------------------------------

def _schedule(topic: Topic, session: Session, *, actor: User | None, reason: str,
              starts_at: time | None = None, duration_minutes: int = 20) -> None:
    if session.compound_id != topic.compound_id:
        raise ApplicationError(_("议题和议事会不属于同一小区。"))
    if session.status != Session.Status.PLANNED:
        raise ApplicationError(_("只能列入待召开的议事会。"))
    fields = _move(topic, Topic.Status.DELIBERATING, actor=actor, reason=reason)
    topic.session = session
    topic.save(update_fields=[*fields, "session"])
    position, next_start = agenda_slot(session)
    AgendaItem.objects.create(session=session, topic=topic, title=topic.title,
                              starts_at=starts_at or next_start,
                              duration_minutes=duration_minutes, position=position)
    if topic.proposer_id:
        proposer_id, title, link = topic.proposer_id, topic.title, topic_link(topic.pk)
        transaction.on_commit(lambda: _notify(
            [proposer_id], Message(gettext_noop("您的议题已列入议程：%(title)s"), {"title": title}),
            f"topic-scheduled:{topic.pk}", link=link))


def topic_schedule(
    *, topic: Topic, session: Session, actor: User, starts_at: time | None = None,
    duration_minutes: int = 20,
) -> Topic:
    """议: put a proposed topic on a session's agenda."""
    require_staff(actor, topic.compound_id)
    with transaction.atomic():
        topic = _lock_topic(topic)
        session = lock_session(session)
        _schedule(topic, session, actor=actor, reason=session.title, starts_at=starts_at,
                  duration_minutes=duration_minutes)
    return topic


def topic_reject(*, topic: Topic, actor: User, reason: str) -> Topic:
    """Dismiss a proposal (or an undecidable topic) with a published reason."""
    require_staff(actor, topic.compound_id)
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
    require_staff(actor, topic.compound_id)
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
    require_staff(actor, topic.compound_id)
    if not decision_text.strip():
        raise ApplicationError(_("请填写决议内容。"))
    with transaction.atomic():
        topic = _lock_topic(topic)
        # Only a topic under deliberation is decided (a vote that fails rejects it then).
        check_transition(Topic.TRANSITIONS, topic.status, Topic.Status.DECIDED,
                         labels=_topic_labels())
        _check_session_started(topic)
        passed = _vote_passes(mode, votes_for, votes_against, votes_abstain, eligible_voters)
        if passed:
            if review_on is None:
                raise ApplicationError(_("请设定评议日期。"))
            if review_on < timezone.localdate():
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
    session = (None if topic.session_id is None
               else Session.objects.filter(pk=topic.session_id).first())
    if session is None:
        raise ApplicationError(_("议题尚未列入议事会，不能记录决议。"))
    if timezone.now() < session.starts_at:
        raise TooEarly(
            _("议事会召开时或召开后才能记录决议：“%(session)s”定于 %(start)s 开始。")
            % {"session": session.title, "start": local_minute(session.starts_at)})


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
    require_staff(actor, topic.compound_id)
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
    photo: UploadedFile[bytes] | None = None, caption: str = "",
) -> ActionItem:
    """Report progress (the owner or staff), optionally with an evidence photo."""
    require_progress_reporter(actor, item)
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
    require_staff(actor, item.topic.compound_id)
    with transaction.atomic():
        topic = _lock_topic(item.topic)
        item = _lock_item(item)
        transition(item, ActionItem.Status.DONE, table=ActionItem.TRANSITIONS)
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
    require_staff(actor, topic.compound_id)
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
    """评 opens: the proposer, and the residents who supported or discussed the topic, are asked
    to rate (one rating a household; the page says so)."""
    user_ids = [topic.proposer_id] if topic.proposer_id else []
    user_ids += list(topic.supports.values_list("user_id", flat=True))
    user_ids += list(topic.comments.filter(author__isnull=False)
                     .values_list("author_id", flat=True).distinct())
    if not user_ids:
        return
    title, pk = topic.title, topic.pk
    link = topic_link(pk, anchor="rate")
    message = Message(gettext_noop("议题已落实，请您评议：%(title)s"), {"title": title})
    transaction.on_commit(lambda: _notify(user_ids, message, f"topic-rate:{pk}", link=link))


# --- 评 ---------------------------------------------------------------------------------------

def topic_rate(*, topic: Topic, actor: User, score: str, comment: str = "") -> TopicRating:
    """评: a resident of the compound rates the outcome, once a household, within the window
    (until `evaluation_ends_at`)."""
    resident = resident_in_compound(actor, topic.compound_id)
    if resident is None:
        raise PermissionDeniedError(_("只有本小区居民可以参与。"))
    if score not in Satisfaction.values:
        raise ApplicationError(_("请选择评价。"))
    with transaction.atomic():
        topic = _lock_topic(topic)
        if topic.status != Topic.Status.EVALUATING:
            raise ApplicationError(_("该议题当前不在评议阶段。"))
        if topic.evaluation_ends_at is not None and timezone.now() >= topic.evaluation_ends_at:
            raise ApplicationError(_("评议期已于 %(end)s 结束。")
                                   % {"end": local_minute(topic.evaluation_ends_at)})
        if topic_household_rating(topic=topic, user=actor) is not None:
            raise ApplicationError(_("您家已评议过该议题（每户一次）。"))
        try:
            with transaction.atomic():
                return TopicRating.objects.create(topic=topic, user=actor,
                                                  household_id=resident.household_id,
                                                  score=score, comment=comment[:300])
        except IntegrityError:
            raise ApplicationError(_("您家已评议过该议题（每户一次）。")) from None


def topic_close(*, topic: Topic, actor: User, outcome: str, evaluation_note: str = "") -> Topic:
    """结: close the topic, publish its outcome, resolve its needs, close a referring petition.

    1. Only after 评: the evaluation window has ended (the residents were told they could rate
       until then; closing early would cut them off).
    2. With an evaluation: at least one resident's rating, or, where nobody rated online (many
       residents are elderly), a record of the evaluation held offline (a 评议会 or door-to-door
       回访: how many, what they said), kept with the topic and shown on its page.
    """
    require_staff(actor, topic.compound_id)
    if not outcome.strip():
        raise ApplicationError(_("请填写办理结果。"))
    evaluation_note = evaluation_note.strip()
    with transaction.atomic():
        topic = _lock_topic(topic)
        check_transition(Topic.TRANSITIONS, topic.status, Topic.Status.CLOSED,
                         labels=_topic_labels())
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
                       % {"end": local_minute(topic.evaluation_ends_at)})
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


def _claim_and_notify(queryset: QuerySet[ActionItem], column: str, now: datetime,
                      template: str, kind: str) -> int:
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
    notifications_create(user_ids=user_ids, title=title, link=link, dedupe_key=key)
