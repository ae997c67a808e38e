"""Residents taking part: the session notice, sign-up, the paper sign-in list, the SMS opt-in,
the topic's discussion thread and its moderation, and the 评 reminders on `review_on`.

Writes follow the app's pattern (deliberation.services.topics): one transaction, permission
from deliberation.rules, locked rows, update_fields, notifications after commit. The two beat
jobs claim each row with a conditional UPDATE on its stamp (`notice_sent_at`,
`review_reminded_at`) that must change exactly one row, and write inbox rows and SMS with dedupe
keys, so two runs, or two workers, send each notice once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.wechat import ResidentMessage, resident_message_enqueue, wechat_reader_ids
from core.audit import audit_event_record, object_type_of
from core.exceptions import ApplicationError, PermissionDeniedError
from core.masking import mask_name
from core.models import AuditEvent
from deliberation import conf
from deliberation.models import (
    NoticePreference,
    Session,
    SessionAttendance,
    SessionSignUp,
    Topic,
    TopicComment,
)
from deliberation.rules import require_staff, user_is_deliberation_staff
from deliberation.selectors import (
    resident_in_compound,
    session_notice_recipients,
    staff_user_ids_by_compound,
)
from deliberation.services.sessions import lock_session
from deliberation.services.topics import topic_link
from notifications.messages import Message
from notifications.services import Sms, notifications_create, sms_enqueue_many

if TYPE_CHECKING:
    from accounts.models import User

COMMENT_MAX_LENGTH = 1000
COMMENT_OPEN_STATUSES = frozenset({
    Topic.Status.PROPOSED, Topic.Status.DELIBERATING, Topic.Status.DECIDED,
    Topic.Status.EXECUTING, Topic.Status.EVALUATING,
})


# --- the notice ---------------------------------------------------------------------------------

def sessions_notify_upcoming(*, now: datetime) -> int:
    """Tell each compound's residents of a planned session starting within
    DELIBERATION_NOTICE_DAYS, with its agenda: an inbox message to every resident with an
    account, and an SMS to those who opted in (NoticePreference).

    1. Find the due sessions (one indexed query: planned, not yet noticed, starting soon).
    2. Claim each with `UPDATE … SET notice_sent_at WHERE notice_sent_at IS NULL`; a session
       another run claimed first changes no row and is skipped.
    3. Write the inbox rows and the SMS, each with a dedupe key, in the claim's transaction.
    Returns how many sessions were noticed.
    """
    horizon = now + timedelta(days=conf.notice_days())
    due = list(Session.objects.filter(status=Session.Status.PLANNED, notice_sent_at__isnull=True,
                                      starts_at__gt=now, starts_at__lte=horizon)
               .values_list("id", flat=True))
    return sum(_notify_one(session_id, now=now) for session_id in due)


def sessions_notify_upcoming_one(*, session: Session) -> bool:
    """Send one session's notice now, if not sent yet (the demo's next 15th)."""
    return _notify_one(session.pk, now=timezone.now())


def _notify_one(session_id: int, *, now: datetime) -> bool:
    with transaction.atomic():
        claimed = Session.objects.filter(pk=session_id, notice_sent_at__isnull=True).update(
            notice_sent_at=now)
        if claimed != 1:
            return False
        _send_notice(Session.objects.prefetch_related("agenda_items").get(pk=session_id))
    return True


NOTICE_TEMPLATE = "deliberation_notice"  # a key of settings.WECHAT_TEMPLATES


def _send_notice(session: Session) -> None:
    agenda = "；".join(item.title for item in session.agenda_items.all()) or _("待定")
    params = {"title": session.title, "start": _local(session.starts_at),
              "place": session.place or "—", "agenda": agenda}
    title = Message(gettext_noop("议事会通知：%(title)s，%(start)s 在 %(place)s"), params)
    body = Message(gettext_noop("议程：%(agenda)s。欢迎报名参加。"), params)
    key = f"delib-session-notice:{session.pk}"
    link = reverse("deliberation:session-detail", args=[session.pk])
    recipients = session_notice_recipients(compound_id=session.compound_id)
    notifications_create(user_ids=[user_id for user_id, _phone in recipients], title=title,
                         body=body, link=link, dedupe_key=key)
    text = f"{title.stored_text()}。{body.stored_text()}"
    # Residents who chose WeChat hear it there (SMS when WeChat refuses); the rest by SMS.
    opted_in = [user_id for user_id, phone in recipients if phone]
    readers = wechat_reader_ids(user_ids=opted_in, template=NOTICE_TEMPLATE)
    message = ResidentMessage(
        template=NOTICE_TEMPLATE, sms_body=text, link=f"{settings.SITE_URL}{link}",
        data={"first": title.stored_text(), "keyword1": session.title,
              "keyword2": params["start"], "keyword3": params["place"],
              "remark": body.stored_text()})
    for user_id in sorted(readers):
        resident_message_enqueue(user_id=user_id, message=message, dedupe_key=f"{key}:{user_id}")
    sms_enqueue_many(messages=[Sms(phone=phone, body=text, dedupe_key=f"{key}:{user_id}")
                               for user_id, phone in recipients
                               if phone and user_id not in readers])


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%m月%d日 %H:%M")


def notice_preference_set(*, actor: User, sms_opt_in: bool) -> NoticePreference:
    """The resident's SMS opt-in; consent is dated when given, the date kept when withdrawn."""
    with transaction.atomic():
        preference, _created = (NoticePreference.objects.select_for_update()
                                .get_or_create(user=actor))
        fields = ["sms_opt_in"]
        if sms_opt_in and not preference.sms_opt_in:
            preference.sms_consent_at = timezone.now()
            fields.append("sms_consent_at")
        preference.sms_opt_in = sms_opt_in
        preference.save(update_fields=fields)
    return preference


# --- sign-up ------------------------------------------------------------------------------------

def session_sign_up(*, session: Session, actor: User) -> SessionSignUp:
    """报名: a resident of the compound says they will come; once, until the session starts."""
    resident = resident_in_compound(actor, session.compound_id)
    if resident is None:
        raise PermissionDeniedError(_("只有本小区居民可以报名。"))
    with transaction.atomic():
        session = lock_session(session)
        _check_before_start(session)
        sign_up, created = SessionSignUp.objects.get_or_create(
            session=session, user=actor, defaults={"household_id": resident.household_id})
        if not created:
            if sign_up.cancelled_at is None:
                raise ApplicationError(_("您已报名。"))
            sign_up.cancelled_at = None
            sign_up.save(update_fields=["cancelled_at"])
    return sign_up


def session_sign_up_cancel(*, session: Session, actor: User) -> SessionSignUp:
    with transaction.atomic():
        session = lock_session(session)
        _check_before_start(session)
        sign_up = (SessionSignUp.objects.select_for_update()
                   .filter(session=session, user=actor, cancelled_at__isnull=True).first())
        if sign_up is None:
            raise ApplicationError(_("您没有报名这次议事会。"))
        sign_up.cancelled_at = timezone.now()
        sign_up.save(update_fields=["cancelled_at"])
    return sign_up


def _check_before_start(session: Session) -> None:
    if session.status != Session.Status.PLANNED:
        raise ApplicationError(_("议事会已召开或已取消。"))
    if timezone.now() >= session.starts_at:
        raise ApplicationError(_("议事会已开始，不能再报名或取消报名。"))


def session_attendance_record(*, session: Session, actor: User,
                              user_ids: Iterable[int]) -> int:
    """补录: staff enter who signed the paper list, after the session has started.

    Only residents on the printed list (signed up, not cancelled) may be entered; whoever
    already signed in (at the door, by QR or code) is left as they are. Returns how many new.
    """
    require_staff(actor, session.compound_id)
    if timezone.now() < session.starts_at:
        raise ApplicationError(_("议事会开始后才能补录签到。"))
    if session.status == Session.Status.CANCELLED:
        raise ApplicationError(_("议事会已取消。"))
    wanted = set(user_ids)
    listed = set(SessionSignUp.objects.filter(session=session, cancelled_at__isnull=True,
                                              user_id__in=wanted)
                 .values_list("user_id", flat=True))
    if wanted - listed:
        raise ApplicationError(_("只能补录签到表上的报名居民。"))
    with transaction.atomic():
        before = SessionAttendance.objects.filter(session=session).count()
        SessionAttendance.objects.bulk_create(
            [SessionAttendance(session=session, user_id=user_id, recorded_by=actor)
             for user_id in sorted(listed)], ignore_conflicts=True)
        return SessionAttendance.objects.filter(session=session).count() - before


# --- the discussion thread ----------------------------------------------------------------------

def _author_label(actor: User, compound_id: int) -> str:
    resident = resident_in_compound(actor, compound_id)
    if resident is not None:
        number = resident.household.building.number
        # Stored as data, in the site's language, like the proposer's name.
        building = f"{number}栋" if number.isdigit() else number
        return f"{mask_name(resident.name)} · {building}"
    if user_is_deliberation_staff(actor, compound_id):
        return _("社区工作人员")
    raise PermissionDeniedError(_("只有本小区居民和工作人员可以参与讨论。"))


def _clean_body(body: str) -> str:
    body = body.strip()
    if not body:
        raise ApplicationError(_("请填写内容。"))
    if len(body) > COMMENT_MAX_LENGTH:
        raise ApplicationError(_("内容不能超过%(count)s字。") % {"count": COMMENT_MAX_LENGTH})
    return body


def topic_comment_add(*, topic: Topic, actor: User, body: str) -> TopicComment:
    """A comment in the topic's one thread, signed with the author's masked name."""
    label = _author_label(actor, topic.compound_id)
    body = _clean_body(body)
    with transaction.atomic():
        # The topic's lock orders a reply after an edit of the comment before it (and both
        # after a close), so "no edit once someone replied" holds under concurrency.
        topic = Topic.objects.select_for_update().get(pk=topic.pk)
        if topic.status not in COMMENT_OPEN_STATUSES:
            raise ApplicationError(_("议题已办结，讨论已关闭。"))
        return TopicComment.objects.create(topic=topic, author=actor, author_label=label[:60],
                                           body=body)


def topic_comment_edit(*, comment: TopicComment, actor: User, body: str) -> TopicComment:
    """The author edits their comment, only while nobody has commented after it."""
    body = _clean_body(body)
    with transaction.atomic():
        topic = Topic.objects.select_for_update().get(pk=comment.topic_id)
        if topic.status not in COMMENT_OPEN_STATUSES:
            raise ApplicationError(_("议题已办结，讨论已关闭。"))
        comment = TopicComment.objects.select_for_update().get(pk=comment.pk)
        if comment.author_id != actor.pk:
            raise PermissionDeniedError(_("只能修改自己的发言。"))
        if comment.hidden_at is not None:
            raise ApplicationError(_("该发言已被屏蔽，不能修改。"))
        if TopicComment.objects.filter(topic_id=comment.topic_id,
                                       created_at__gte=comment.created_at,
                                       id__gt=comment.pk).exists():
            raise ApplicationError(_("已有人回复，不能再修改。"))
        comment.body = body
        comment.edited_at = timezone.now()
        comment.save(update_fields=["body", "edited_at"])
    return comment


def topic_comment_hide(*, comment: TopicComment, actor: User, reason: str) -> TopicComment:
    """Moderation: staff hide a comment with a recorded reason (audited; the row stays)."""
    require_staff(actor, comment.topic.compound_id)
    reason = reason.strip()
    if not reason:
        raise ApplicationError(_("请填写屏蔽理由。"))
    with transaction.atomic():
        comment = TopicComment.objects.select_for_update().get(pk=comment.pk)
        if comment.hidden_at is not None:
            raise ApplicationError(_("该发言已屏蔽。"))
        comment.hidden_at = timezone.now()
        comment.hidden_by = actor
        comment.hidden_reason = reason[:200]
        comment.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
        audit_event_record(action=AuditEvent.Action.CHANGE, object_type=object_type_of(comment),
                           object_id=comment.pk, object_repr=reason[:200],
                           fields=["hidden_at", "hidden_reason"], actor=actor)
    return comment


# --- 评 reminders -------------------------------------------------------------------------------

REVIEW_STATUSES = (Topic.Status.DECIDED, Topic.Status.EXECUTING, Topic.Status.EVALUATING)


def topics_review_remind(*, today: date) -> int:
    """On a topic's review date (`review_on`, 评), remind the compound's staff and its proposer.

    Each topic is claimed with `UPDATE … SET review_reminded_at WHERE review_reminded_at IS
    NULL` (one row or none), and inbox rows carry a dedupe key: once a topic, however often it
    runs. A topic already closed or rejected needs no reminder. Returns how many were reminded.
    """
    due = list(Topic.objects.filter(review_on__lte=today, review_reminded_at__isnull=True,
                                    status__in=REVIEW_STATUSES)
               .values("id", "title", "compound_id", "proposer_id"))
    if not due:
        return 0
    staff = staff_user_ids_by_compound(compound_ids={row["compound_id"] for row in due})
    now = timezone.now()
    reminded = 0
    for row in due:
        with transaction.atomic():
            if Topic.objects.filter(pk=row["id"], review_reminded_at__isnull=True).update(
                    review_reminded_at=now) != 1:
                continue
            key = f"delib-topic-review:{row['id']}"
            link = topic_link(row["id"], anchor="rate")
            notifications_create(
                user_ids=staff.get(row["compound_id"], []), link=link, dedupe_key=key,
                title=Message(gettext_noop("议题今日到评议日期，请组织居民评议：%(title)s"),
                              {"title": row["title"]}))
            if row["proposer_id"]:
                notifications_create(
                    user_ids=[row["proposer_id"]], link=link, dedupe_key=key,
                    title=Message(gettext_noop("您提的议题到了评议日期，请您评议：%(title)s"),
                                  {"title": row["title"]}))
            reminded += 1
    return reminded
