"""Residents taking part (issue #17, items 1-3): the session notice, sign-up and the paper
sign-in list, the discussion thread and its moderation, support and rating one a household,
the rating window, the proposer's messages and the 评 reminders."""

from __future__ import annotations

import importlib
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from core.exceptions import ApplicationError, PermissionDeniedError
from core.models import AuditEvent
from deliberation.models import (
    AgendaItem,
    NoticePreference,
    Session,
    SessionAttendance,
    SessionSignUp,
    Topic,
    TopicComment,
    TopicRating,
    TopicSupport,
)
from deliberation.services.participation import (
    notice_preference_set,
    session_attendance_record,
    session_sign_up,
    session_sign_up_cancel,
    sessions_notify_upcoming,
    topic_comment_add,
    topic_comment_edit,
    topic_comment_hide,
    topics_review_remind,
)
from deliberation.services.sessions import session_sign_in
from deliberation.services.topics import topic_rate, topic_reject, topic_support
from notifications.models import Notification, OutboundMessage
from tests.accounts.factories import UserFactory
from tests.deliberation.factories import SessionFactory, TopicFactory
from tests.residents.factories import ResidentFactory

TZ = timezone.get_default_timezone()


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


@pytest.fixture
def meeting(territory) -> Session:
    """The compound's deliberation day: 15 December 2026 at 09:00, with one agenda item."""
    session = SessionFactory(compound=territory.compound, starts_at=at(2026, 12, 15, 9),
                             kind=Session.Kind.MONTHLY, period="2026-12",
                             title="2026年12月议事日")
    AgendaItem.objects.create(session=session, title="电动车充电桩选址")
    return session


@pytest.fixture
def housemate(territory):
    """A second member of resident_user's household (household1)."""
    user = UserFactory(username="housemate", phone="13800005555")
    ResidentFactory(household=territory.household1, name="王小明", user=user)
    return user


# --- 1. the notice ------------------------------------------------------------------------------

def test_the_notice_is_sent_once_within_the_notice_days_even_when_run_twice(
        meeting, resident_user, neighbour, other_resident):
    notice_preference_set(actor=neighbour, sms_opt_in=True)
    with time_machine.travel(at(2026, 12, 11, 10), tick=False):
        # Four days before: not yet (DELIBERATION_NOTICE_DAYS is 3).
        assert sessions_notify_upcoming(now=timezone.now()) == 0
    with time_machine.travel(at(2026, 12, 12, 10), tick=False):
        assert sessions_notify_upcoming(now=timezone.now()) == 1
        assert sessions_notify_upcoming(now=timezone.now()) == 0
    notices = Notification.objects.filter(link=reverse("deliberation:session-detail",
                                                       args=[meeting.pk]))
    assert sorted(notices.values_list("user__username", flat=True)) == ["neighbour", "resident"]
    assert "电动车充电桩选址" in notices.first().body
    # Only the resident who opted in gets an SMS, once.
    assert list(OutboundMessage.objects.values_list("recipient", flat=True)) == ["13800002222"]
    meeting.refresh_from_db()
    assert meeting.notice_sent_at == at(2026, 12, 12, 10)


def test_a_resident_who_chose_wechat_gets_the_notice_there_and_the_others_by_sms(
        meeting, resident_user, neighbour, wechat_fake, settings):
    from accounts.models import WechatMessage
    from accounts.wechat import wechat_bind, wechat_outbox_deliver

    settings.WECHAT_TEMPLATES = {**settings.WECHAT_TEMPLATES,
                                 "deliberation_notice": next(iter(wechat_fake.templates))}
    notice_preference_set(actor=neighbour, sms_opt_in=True)
    notice_preference_set(actor=resident_user, sms_opt_in=True)
    wechat_bind(user=resident_user, openid=wechat_fake.browser_openid)
    with time_machine.travel(at(2026, 12, 12, 10), tick=False):
        assert sessions_notify_upcoming(now=timezone.now()) == 1
        assert sessions_notify_upcoming(now=timezone.now()) == 0  # a second beat: nothing
        assert wechat_outbox_deliver() == 1
    [sent] = wechat_fake.sent
    assert sent["touser"] == wechat_fake.browser_openid
    assert sent["data"]["keyword1"] == "2026年12月议事日"
    assert sent["url"].endswith(reverse("deliberation:session-detail", args=[meeting.pk]))
    assert WechatMessage.objects.count() == 1
    # The neighbour (no WeChat) by SMS; the resident not by SMS as well.
    assert list(OutboundMessage.objects.values_list("recipient", flat=True)) == ["13800002222"]


def test_a_second_run_racing_the_claim_sends_nothing(meeting, resident_user):
    with time_machine.travel(at(2026, 12, 13, 10), tick=False):
        # Another worker claimed it between our read and our update.
        Session.objects.filter(pk=meeting.pk).update(notice_sent_at=timezone.now())
        assert sessions_notify_upcoming(now=timezone.now()) == 0
    assert not Notification.objects.exists()


def test_the_notice_days_are_a_setting(meeting, resident_user, settings):
    settings.DELIBERATION_NOTICE_DAYS = 7
    with time_machine.travel(at(2026, 12, 9, 10), tick=False):
        assert sessions_notify_upcoming(now=timezone.now()) == 1


def test_no_notice_for_a_cancelled_or_past_session(territory, meeting, resident_user):
    Session.objects.filter(pk=meeting.pk).update(status=Session.Status.CANCELLED)
    SessionFactory(compound=territory.compound, starts_at=at(2026, 12, 12, 9))
    with time_machine.travel(at(2026, 12, 13, 10), tick=False):
        assert sessions_notify_upcoming(now=timezone.now()) == 0


def test_withdrawing_sms_consent_keeps_the_date_it_was_given(resident_user):
    with time_machine.travel(at(2026, 12, 1, 10), tick=False):
        notice_preference_set(actor=resident_user, sms_opt_in=True)
    notice_preference_set(actor=resident_user, sms_opt_in=False)
    preference = NoticePreference.objects.get(user=resident_user)
    assert (preference.sms_opt_in, preference.sms_consent_at) == (False, at(2026, 12, 1, 10))


# --- 1. sign-up and sign-in ---------------------------------------------------------------------

def test_a_resident_signs_up_once_and_may_cancel_and_come_back_before_the_start(
        meeting, resident_user):
    with time_machine.travel(at(2026, 12, 10), tick=False):
        session_sign_up(session=meeting, actor=resident_user)
        with pytest.raises(ApplicationError, match="已报名"):
            session_sign_up(session=meeting, actor=resident_user)
        session_sign_up_cancel(session=meeting, actor=resident_user)
        with pytest.raises(ApplicationError, match="没有报名"):
            session_sign_up_cancel(session=meeting, actor=resident_user)
        session_sign_up(session=meeting, actor=resident_user)
    assert SessionSignUp.objects.get().cancelled_at is None


def test_signing_up_or_cancelling_is_refused_once_the_session_started(meeting, resident_user):
    with time_machine.travel(at(2026, 12, 10), tick=False):
        session_sign_up(session=meeting, actor=resident_user)
    with time_machine.travel(at(2026, 12, 15, 9, ), tick=False):
        with pytest.raises(ApplicationError, match="已开始"):
            session_sign_up_cancel(session=meeting, actor=resident_user)
        with pytest.raises(ApplicationError, match="已开始"):
            session_sign_up(session=meeting, actor=resident_user)


def test_only_residents_of_the_compound_sign_up(meeting, other_resident, community_staff):
    with time_machine.travel(at(2026, 12, 10), tick=False):
        for user in (other_resident, community_staff):
            with pytest.raises(PermissionDeniedError, match="只有本小区居民可以报名"):
                session_sign_up(session=meeting, actor=user)


def test_staff_enter_the_paper_list_after_the_start_for_listed_residents_only(
        meeting, resident_user, neighbour, housemate, community_staff):
    with time_machine.travel(at(2026, 12, 10), tick=False):
        session_sign_up(session=meeting, actor=resident_user)
        session_sign_up(session=meeting, actor=neighbour)
        with pytest.raises(ApplicationError, match="开始后"):
            session_attendance_record(session=meeting, actor=community_staff,
                                      user_ids=[resident_user.pk])
    with time_machine.travel(at(2026, 12, 15, 9, 5), tick=False):
        # The neighbour signed in at the door with the code; the list leaves them as they are.
        session_sign_in(session=meeting, actor=neighbour, code=meeting.sign_in_code)
        with pytest.raises(ApplicationError, match="签到表上"):
            session_attendance_record(session=meeting, actor=community_staff,
                                      user_ids=[housemate.pk])
        with pytest.raises(PermissionDeniedError, match="只有社区工作人员"):
            session_attendance_record(session=meeting, actor=resident_user,
                                      user_ids=[resident_user.pk])
        assert session_attendance_record(session=meeting, actor=community_staff,
                                         user_ids=[resident_user.pk, neighbour.pk]) == 1
        assert session_attendance_record(session=meeting, actor=community_staff,
                                         user_ids=[resident_user.pk]) == 0
    rows = dict(SessionAttendance.objects.values_list("user_id", "recorded_by_id"))
    assert rows == {neighbour.pk: None, resident_user.pk: community_staff.pk}


def test_the_session_page_signs_up_and_cancels(client, meeting, resident_user):
    client.force_login(resident_user)
    url = reverse("deliberation:session-detail", args=[meeting.pk])
    with time_machine.travel(at(2026, 12, 10), tick=False):
        assert "我要参加" in client.get(url).content.decode()
        client.post(reverse("deliberation:session-sign-up", args=[meeting.pk]))
        page = client.get(url).content.decode()
        assert "您已报名" in page and "已报名 1 人" in page
        client.post(reverse("deliberation:session-sign-up-cancel", args=[meeting.pk]))
        assert "已报名 0 人" in client.get(url).content.decode()


def test_the_sign_in_sheet_lists_masked_names_in_constant_queries(
        client, meeting, resident_user, neighbour, housemate, community_staff,
        django_assert_num_queries):
    with time_machine.travel(at(2026, 12, 10), tick=False):
        session_sign_up(session=meeting, actor=resident_user)
    client.force_login(community_staff)
    url = reverse("deliberation:session-sign-in-sheet", args=[meeting.pk])
    client.get(url)
    with django_assert_num_queries(8) as one:
        client.get(url)
    with time_machine.travel(at(2026, 12, 10), tick=False):
        session_sign_up(session=meeting, actor=neighbour)
        session_sign_up(session=meeting, actor=housemate)
    with django_assert_num_queries(len(one.captured_queries)):
        page = client.get(url).content.decode()
    assert "王**" in page and "李**" in page and "王小明" not in page and "李大爷" not in page


def test_the_sign_in_sheet_is_for_staff_only(client, meeting, resident_user, outsider):
    url = reverse("deliberation:session-sign-in-sheet", args=[meeting.pk])
    for user in (resident_user, outsider):
        client.force_login(user)
        assert client.get(url).status_code == 404


def test_staff_enter_the_sheet_through_the_page(client, meeting, resident_user, community_staff):
    with time_machine.travel(at(2026, 12, 10), tick=False):
        session_sign_up(session=meeting, actor=resident_user)
    client.force_login(community_staff)
    with time_machine.travel(at(2026, 12, 15, 12), tick=False):
        response = client.post(reverse("deliberation:session-attendance-record",
                                       args=[meeting.pk]), {"users": [resident_user.pk]},
                               follow=True)
    assert "已补录 1 人签到" in response.content.decode()
    assert SessionAttendance.objects.get().recorded_by == community_staff


# --- 2. the discussion --------------------------------------------------------------------------

def test_a_comment_is_signed_with_a_masked_name_and_shown_as_mine_to_its_author(
        client, topic, resident_user, neighbour):
    comment = topic_comment_add(topic=topic, actor=resident_user, body="建议装在3栋旁")
    assert comment.author_label == "王** · 1栋"
    url = reverse("deliberation:topic-detail", args=[topic.pk])
    client.force_login(neighbour)
    page = client.get(url).content.decode()
    assert "王** · 1栋" in page and "王阿姨" not in page.split('id="comments"')[1]
    client.force_login(resident_user)
    assert "<strong>我</strong>" in client.get(url).content.decode()


def test_a_comment_may_be_edited_by_its_author_until_someone_replies(
        topic, resident_user, neighbour):
    comment = topic_comment_add(topic=topic, actor=resident_user, body="第一稿")
    with pytest.raises(PermissionDeniedError, match="只能修改自己的发言"):
        topic_comment_edit(comment=comment, actor=neighbour, body="改别人的")
    topic_comment_edit(comment=comment, actor=resident_user, body="第二稿")
    topic_comment_add(topic=topic, actor=neighbour, body="同意")
    with pytest.raises(ApplicationError, match="已有人回复"):
        topic_comment_edit(comment=comment, actor=resident_user, body="第三稿")
    comment.refresh_from_db()
    assert (comment.body, comment.edited_at is not None) == ("第二稿", True)


def test_staff_hide_a_comment_only_with_a_reason_which_is_recorded_and_audited(
        client, topic, resident_user, neighbour, community_staff):
    comment = topic_comment_add(topic=topic, actor=neighbour, body="骂人的话")
    with pytest.raises(ApplicationError, match="理由"):
        topic_comment_hide(comment=comment, actor=community_staff, reason="  ")
    with pytest.raises(PermissionDeniedError, match="只有社区工作人员"):
        topic_comment_hide(comment=comment, actor=resident_user, reason="不喜欢")
    topic_comment_hide(comment=comment, actor=community_staff, reason="人身攻击")
    comment.refresh_from_db()
    assert (comment.hidden_by, comment.hidden_reason) == (community_staff, "人身攻击")
    assert AuditEvent.objects.filter(object_type="deliberation.topiccomment",
                                     object_id=str(comment.pk), actor=community_staff).exists()
    with pytest.raises(ApplicationError, match="已屏蔽"):
        topic_comment_hide(comment=comment, actor=community_staff, reason="再次")
    with pytest.raises(ApplicationError, match="屏蔽"):
        topic_comment_edit(comment=comment, actor=neighbour, body="改一下")
    client.force_login(resident_user)
    page = client.get(reverse("deliberation:topic-detail", args=[topic.pk])).content.decode()
    assert "骂人的话" not in page and "人身攻击" in page


def test_residents_cannot_open_the_hide_action(client, topic, resident_user, neighbour):
    comment = topic_comment_add(topic=topic, actor=neighbour, body="x")
    client.force_login(resident_user)
    response = client.post(reverse("deliberation:topic-comment-hide", args=[comment.pk]),
                           {"reason": "x"})
    assert response.status_code == 404


def test_outsiders_and_closed_topics_take_no_comments(topic, other_resident, community_staff):
    with pytest.raises(PermissionDeniedError, match="只有本小区居民和工作人员"):
        topic_comment_add(topic=topic, actor=other_resident, body="路过")
    assert topic_comment_add(topic=topic, actor=community_staff,
                             body="周五前答复").author_label == "社区工作人员"
    topic_reject(topic=topic, actor=community_staff, reason="不属于小区事务")
    topic.refresh_from_db()
    with pytest.raises(ApplicationError, match="讨论已关闭"):
        topic_comment_add(topic=topic, actor=community_staff, body="x")


def test_the_thread_is_read_in_constant_queries(client, topic, resident_user, neighbour,
                                                django_assert_num_queries):
    topic_comment_add(topic=topic, actor=neighbour, body="一")
    client.force_login(resident_user)
    url = reverse("deliberation:topic-detail", args=[topic.pk])
    client.get(url)
    with django_assert_num_queries(14) as one:
        client.get(url)
    for body in ("二", "三", "四"):
        topic_comment_add(topic=topic, actor=neighbour, body=body)
    with django_assert_num_queries(len(one.captured_queries)):
        client.get(url)


def test_the_comment_pages_post_edit_and_refuse_an_empty_body(client, topic, resident_user):
    client.force_login(resident_user)
    client.post(reverse("deliberation:topic-comment-create", args=[topic.pk]), {"body": "好"})
    comment = TopicComment.objects.get()
    client.post(reverse("deliberation:topic-comment-update", args=[comment.pk]), {"body": "很好"})
    response = client.post(reverse("deliberation:topic-comment-create", args=[topic.pk]),
                           {"body": ""}, follow=True)
    assert response.status_code == 200
    assert list(TopicComment.objects.values_list("body", flat=True)) == ["很好"]


# --- 2. support a household ---------------------------------------------------------------------

def test_support_counts_once_a_household(topic, neighbour, territory):
    other_member = UserFactory(username="neighbour2", phone="13800006666")
    ResidentFactory(household=territory.household2, name="李奶奶", user=other_member)
    topic_support(topic=topic, actor=neighbour)
    with pytest.raises(ApplicationError, match="每户一次"):
        topic_support(topic=topic, actor=other_member)
    topic.refresh_from_db()
    assert topic.support_count == 1
    assert TopicSupport.objects.get().household == territory.household2


def test_a_support_from_before_the_rule_blocks_the_rest_of_its_household(
        topic, neighbour, territory):
    TopicSupport.objects.create(topic=topic, user=neighbour)  # no household: an old row
    other_member = UserFactory(username="neighbour2", phone="13800006666")
    ResidentFactory(household=territory.household2, name="李奶奶", user=other_member)
    with pytest.raises(ApplicationError, match="每户一次"):
        topic_support(topic=topic, actor=other_member)


def test_the_migration_gives_old_rows_a_household_and_deletes_none(
        topic, neighbour, territory, other_resident):
    migration = importlib.import_module(
        "deliberation.migrations.0005_backfill_support_rating_households")
    other_member = UserFactory(username="neighbour2", phone="13800006666")
    ResidentFactory(household=territory.household2, name="李奶奶", user=other_member)
    first = TopicSupport.objects.create(topic=topic, user=neighbour)
    second = TopicSupport.objects.create(topic=topic, user=other_member)
    stranger = TopicSupport.objects.create(topic=topic, user=other_resident)
    migration.forwards(apps, None)
    households = dict(TopicSupport.objects.values_list("id", "household_id"))
    assert households == {first.pk: territory.household2.pk, second.pk: None, stranger.pk: None}
    migration.backwards(apps, None)
    assert not TopicSupport.objects.filter(household__isnull=False).exists()


# --- 2. my topics and the proposer's messages ---------------------------------------------------

def test_my_topics_lists_only_mine_with_their_step_in_constant_queries(
        client, territory, topic, resident_user, neighbour, django_assert_num_queries):
    TopicFactory(compound=territory.compound, proposer=neighbour, title="别人的议题")
    client.force_login(resident_user)
    url = reverse("deliberation:my-topics")
    client.get(url)
    with django_assert_num_queries(5) as one:
        page = client.get(url).content.decode()
    assert topic.title in page and "别人的议题" not in page
    for number in range(3):
        TopicFactory(compound=territory.compound, proposer=resident_user, title=f"我的{number}")
    with django_assert_num_queries(len(one.captured_queries)):
        page = client.get(url).content.decode()
    assert "我的2" in page and "提：征集附议" in page


def test_every_step_reaches_the_proposer_with_a_link_that_opens_for_them(
        client, topic, resident_user, community_staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        topic_reject(topic=topic, actor=community_staff, reason="不属于小区事务")
    message = Notification.objects.get(user=resident_user)
    assert message.title == f"您提的议题“{topic.title}”进入新阶段：未通过"
    client.force_login(resident_user)
    assert client.get(message.link).status_code == 200


def test_the_sms_opt_in_is_set_on_my_topics(client, resident_user):
    client.force_login(resident_user)
    client.post(reverse("deliberation:notice-preference"), {"sms_opt_in": "on"})
    assert NoticePreference.objects.get(user=resident_user).sms_opt_in is True
    assert 'checked' in client.get(reverse("deliberation:my-topics")).content.decode()


# --- 3. 评 ----------------------------------------------------------------------------------------

def _evaluating_until(topic, end):
    Topic.objects.filter(pk=topic.pk).update(status=Topic.Status.EVALUATING,
                                             evaluation_ends_at=end)
    topic.refresh_from_db()


def test_a_rating_counts_once_a_household(topic, resident_user, housemate, neighbour):
    _evaluating_until(topic, timezone.now() + timedelta(days=3))
    topic_rate(topic=topic, actor=housemate, score="satisfied")
    with pytest.raises(ApplicationError, match="每户一次"):
        topic_rate(topic=topic, actor=resident_user, score="dissatisfied")
    topic_rate(topic=topic, actor=neighbour, score="basically")
    assert TopicRating.objects.count() == 2


def test_ratings_are_taken_only_within_the_window(topic, neighbour):
    _evaluating_until(topic, at(2026, 12, 20, 0))
    with (time_machine.travel(at(2026, 12, 20, 0), tick=False),
          pytest.raises(ApplicationError, match="评议期已于")):
        topic_rate(topic=topic, actor=neighbour, score="satisfied")
    with time_machine.travel(at(2026, 12, 19, 23), tick=False):
        topic_rate(topic=topic, actor=neighbour, score="satisfied")


def test_the_evaluation_shows_n_and_the_distribution(client, topic, resident_user, neighbour):
    _evaluating_until(topic, timezone.now() + timedelta(days=3))
    topic_rate(topic=topic, actor=neighbour, score="satisfied")
    topic_rate(topic=topic, actor=resident_user, score="dissatisfied")
    client.force_login(neighbour)
    page = client.get(reverse("deliberation:topic-detail", args=[topic.pk])).content.decode()
    assert "n = 2 户" in page
    assert '<progress max="100" value="50">' in page and "1（50%）" in page
    assert "您家已评议" in page


def test_the_review_date_reminds_staff_and_the_proposer_once(
        territory, topic, resident_user, community_staff, secretary):
    Topic.objects.filter(pk=topic.pk).update(status=Topic.Status.EXECUTING,
                                             review_on=date(2026, 12, 18))
    TopicFactory(compound=territory.compound, status=Topic.Status.CLOSED,
                 review_on=date(2026, 12, 18), proposer=resident_user)
    assert topics_review_remind(today=date(2026, 12, 17)) == 0
    assert topics_review_remind(today=date(2026, 12, 18)) == 1
    assert topics_review_remind(today=date(2026, 12, 19)) == 0
    recipients = sorted(Notification.objects.values_list("user__username", flat=True))
    assert recipients == ["community", "resident", "secretary"]
    assert all(link.endswith("#rate") for link in Notification.objects.values_list("link",
                                                                                     flat=True))


# --- personal data (PIPL) ------------------------------------------------------------------------

def test_a_residents_comments_sign_ups_and_opt_in_are_exported_and_anonymised(
        topic, meeting, neighbour):
    from accounts.personal_data import ANONYMISED_NAME, Identifiers
    from deliberation.privacy import anonymise, deliberation_export

    comment = topic_comment_add(topic=topic, actor=neighbour, body="我是李大爷，电话13800002222")
    with time_machine.travel(at(2026, 12, 10), tick=False):
        session_sign_up(session=meeting, actor=neighbour)
    notice_preference_set(actor=neighbour, sms_opt_in=True)
    exported = deliberation_export(user=neighbour)
    assert [row["body"] for row in exported["comments"]] == [comment.body]
    assert [row["session_id"] for row in exported["session_sign_ups"]] == [meeting.pk]
    assert exported["notice_preference"][0]["sms_opt_in"] is True
    anonymise(user=neighbour, identifiers=Identifiers(
        phones=frozenset({"13800002222"}), names=frozenset({"李大爷"}), id_numbers=frozenset(),
        usernames=frozenset({"neighbour"}), resident_ids=(), volunteer_ids=()))
    comment.refresh_from_db()
    assert comment.author_label == ANONYMISED_NAME
    assert "李大爷" not in comment.body and "13800002222" not in comment.body
    assert not NoticePreference.objects.filter(user=neighbour).exists()


def test_when_evaluation_opens_the_supporters_and_discussants_are_asked_to_rate(
        topic, resident_user, neighbour, community_staff, territory,
        django_capture_on_commit_callbacks):
    from deliberation.services.topics import topic_settle_on_the_spot

    commenter = UserFactory(username="commenter", phone="13800007777")
    ResidentFactory(household=territory.household1, name="王小红", user=commenter)
    topic_support(topic=topic, actor=neighbour)
    topic_comment_add(topic=topic, actor=commenter, body="盼早日落实")
    topic_comment_add(topic=topic, actor=commenter, body="再顶一下")
    Topic.objects.filter(pk=topic.pk).update(status=Topic.Status.DECIDED)
    topic.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        topic_settle_on_the_spot(topic=topic, actor=community_staff)
    asked = Notification.objects.filter(title__startswith="议题已落实，请您评议")
    assert sorted(asked.values_list("user__username", flat=True)) == [
        "commenter", "neighbour", "resident"]


def test_staff_hide_through_the_topic_page_and_still_see_what_was_hidden(
        client, topic, neighbour, community_staff):
    comment = topic_comment_add(topic=topic, actor=neighbour, body="广告：低价装修")
    client.force_login(community_staff)
    url = reverse("deliberation:topic-detail", args=[topic.pk])
    assert reverse("deliberation:topic-comment-hide", args=[comment.pk]) in (
        client.get(url).content.decode())
    response = client.post(reverse("deliberation:topic-comment-hide", args=[comment.pk]),
                           {"reason": "广告"}, follow=True)
    page = response.content.decode()
    assert "发言已屏蔽，理由已记录" in page and "<s>广告：低价装修</s>" in page


def test_the_staff_session_page_links_the_sheet_and_counts_the_sign_ups(
        client, meeting, resident_user, community_staff):
    with time_machine.travel(at(2026, 12, 10), tick=False):
        session_sign_up(session=meeting, actor=resident_user)
        client.force_login(community_staff)
        page = client.get(reverse("deliberation:session-detail",
                                  args=[meeting.pk])).content.decode()
    assert reverse("deliberation:session-sign-in-sheet", args=[meeting.pk]) in page
    assert "已报名 1 人" in page and "我要参加" not in page


def test_the_home_page_signs_up_for_the_next_session_in_the_same_queries(
        client, meeting, resident_user, neighbour, django_assert_num_queries):
    with time_machine.travel(at(2026, 12, 10), tick=False):
        client.force_login(resident_user)
        url = reverse("deliberation:home")
        client.get(url)
        with django_assert_num_queries(11) as one:
            page = client.get(url).content.decode()
        assert "我要参加" in page and "已报名 0 人" in page
        session_sign_up(session=meeting, actor=resident_user)
        session_sign_up(session=meeting, actor=neighbour)
        with django_assert_num_queries(len(one.captured_queries)):
            page = client.get(url).content.decode()
    assert "您已报名" in page and "已报名 2 人" in page


def test_the_api_refuses_a_second_support_of_a_household_in_chinese(
        topic, neighbour, territory):
    from rest_framework.test import APIClient

    other_member = UserFactory(username="neighbour2", phone="13800006666")
    ResidentFactory(household=territory.household2, name="李奶奶", user=other_member)
    api = APIClient()
    url = f"/api/v1/deliberation/topics/{topic.pk}/support/"
    api.force_authenticate(neighbour)
    assert api.post(url).status_code == 200
    api.force_authenticate(other_member)
    response = api.post(url)
    assert response.status_code == 400
    assert "每户一次" in response.content.decode()


def test_the_proposers_name_is_masked_for_other_residents_and_whole_for_staff_and_themselves(
        client, topic, neighbour, resident_user, community_staff):
    """Names are masked by default: another resident reads 王**, as a comment's author."""
    from core.masking import mask_name
    from deliberation.rules import proposer_label

    name = topic.proposer_name
    assert name and len(name) > 1
    proposer = topic.proposer
    others = [user for user in (neighbour, resident_user) if user.pk != topic.proposer_id]
    assert others
    assert proposer_label(topic, others[0]) == mask_name(name) != name
    assert proposer_label(topic, community_staff) == name
    if proposer is not None:
        assert proposer_label(topic, proposer) == name
    url = reverse("deliberation:topic-detail", args=[topic.pk])
    client.force_login(others[0])
    page = client.get(url).content.decode()
    assert mask_name(name) in page and f"提议人 {name}" not in page
    api = client.get(f"/api/v1/deliberation/topics/{topic.pk}/").json()
    assert api["proposer_name"] == mask_name(name)
    client.force_login(community_staff)
    assert f"提议人 {name}" in client.get(url).content.decode()
