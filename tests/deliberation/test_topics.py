"""The five steps 提、议、决、做、评, each with its permission, and every refusal."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from core.exceptions import ApplicationError, InvalidTransition, PermissionDeniedError
from deliberation.models import ActionItem, AgendaItem, Need, Session, Topic, TopicStatusChange
from deliberation.services.sessions import agenda_item_add, session_record_minutes
from deliberation.services.topics import (
    action_item_add,
    action_item_progress,
    action_item_tick_off,
    action_items_remind,
    rating_summary,
    topic_close,
    topic_decide,
    topic_opinion_add,
    topic_propose,
    topic_propose_offline,
    topic_rate,
    topic_reject,
    topic_schedule,
    topic_settle_on_the_spot,
    topic_support,
)
from tests.deliberation.factories import ActionItemFactory, SessionFactory, TopicFactory

REVIEW = date(2099, 1, 1)


def _decided(topic, actor):
    topic_decide(topic=topic, actor=actor, decision_text="同意", mode="consensus",
                          review_on=REVIEW)
    return Topic.objects.get(pk=topic.pk)


def _on_agenda(topic, session, actor):
    return topic_schedule(topic=topic, session=session, actor=actor)


# --- 提 ---

def test_a_resident_proposes_a_topic_online_and_it_enters_the_needs_list(territory, resident_user):
    topic = topic_propose(compound=territory.compound, actor=resident_user,
                                   title="  加装电梯  ", description="老人上下楼难")
    assert (topic.status, topic.channel, topic.title) == ("proposed", "online", "加装电梯")
    assert topic.proposer_name == "王阿姨"
    assert Need.objects.get(topic=topic).source == Need.Source.TOPIC
    assert topic.status_changes.get().new_status == "proposed"


def test_it_refuses_a_proposal_from_a_resident_of_another_compound(territory, other_resident):
    with pytest.raises(PermissionDeniedError, match="只有本小区居民可以提议"):
        topic_propose(compound=territory.compound, actor=other_resident, title="x")


def test_it_refuses_an_empty_title(territory, resident_user):
    with pytest.raises(ApplicationError, match="请填写议题"):
        topic_propose(compound=territory.compound, actor=resident_user, title="  ")


def test_staff_record_an_offline_proposal_on_a_residents_behalf(territory, community_staff):
    topic = topic_propose_offline(compound=territory.compound, actor=community_staff,
                                           proposer_name="张大妈", title="楼道堆物清理")
    assert (topic.channel, topic.proposer_name, topic.recorded_by) == (
        "offline", "张大妈", community_staff)


def test_a_resident_cannot_record_an_offline_proposal(territory, resident_user):
    with pytest.raises(PermissionDeniedError, match="只有社区工作人员或小区党支部书记可以办理"):
        topic_propose_offline(compound=territory.compound, actor=resident_user,
                                       proposer_name="张大妈", title="x")


def test_staff_of_another_community_cannot_record_a_proposal(territory, outsider):
    with pytest.raises(PermissionDeniedError, match="只有社区工作人员或小区党支部书记可以办理"):
        topic_propose_offline(compound=territory.compound, actor=outsider,
                                       proposer_name="张大妈", title="x")


# --- support and the threshold ---

def test_a_neighbour_supports_a_proposal_once(topic, neighbour):
    topic_support(topic=topic, actor=neighbour)
    assert Topic.objects.get(pk=topic.pk).support_count == 1
    with pytest.raises(ApplicationError, match="已附议"):
        topic_support(topic=topic, actor=neighbour)
    assert Topic.objects.get(pk=topic.pk).support_count == 1


def test_the_proposer_cannot_support_their_own_topic(topic, resident_user):
    with pytest.raises(ApplicationError, match="提议人"):
        topic_support(topic=topic, actor=resident_user)


def test_a_resident_of_another_compound_cannot_support(topic, other_resident):
    with pytest.raises(PermissionDeniedError, match="只有本小区居民可以参与"):
        topic_support(topic=topic, actor=other_resident)


def test_reaching_the_support_threshold_puts_the_topic_on_the_next_agenda(
        topic, neighbour, secretary, settings):
    settings.DELIBERATION_SUPPORT_THRESHOLD = 2
    topic_support(topic=topic, actor=neighbour)
    assert Topic.objects.get(pk=topic.pk).status == "proposed"
    topic_support(topic=topic, actor=secretary)
    topic.refresh_from_db()
    assert topic.status == "deliberating"
    # No session was planned, so the compound's next monthly one was made for it.
    assert topic.session.kind == Session.Kind.MONTHLY
    assert timezone.localtime(topic.session.starts_at).day == 15
    assert AgendaItem.objects.get(topic=topic).session == topic.session
    assert "自动列入议程" in topic.status_changes.last().reason


def test_the_threshold_uses_an_already_planned_session(topic, neighbour, territory, settings):
    settings.DELIBERATION_SUPPORT_THRESHOLD = 1
    upcoming = SessionFactory(compound=territory.compound)
    topic_support(topic=topic, actor=neighbour)
    topic.refresh_from_db()
    assert topic.session == upcoming


def test_support_is_refused_once_the_topic_is_on_the_agenda(topic, neighbour, session,
                                                             community_staff):
    _on_agenda(topic, session, community_staff)
    with pytest.raises(ApplicationError, match="不在征集附议"):
        topic_support(topic=topic, actor=neighbour)


# --- 议 ---

def test_the_branch_secretary_puts_a_topic_on_the_agenda(topic, session, secretary):
    _on_agenda(topic, session, secretary)
    topic.refresh_from_db()
    assert (topic.status, topic.session) == ("deliberating", session)
    assert session.agenda_items.get().topic == topic


def test_a_resident_cannot_put_a_topic_on_the_agenda(topic, session, neighbour):
    with pytest.raises(PermissionDeniedError, match="只有社区工作人员或小区党支部书记可以办理"):
        _on_agenda(topic, session, neighbour)


def test_a_grid_worker_is_not_deliberation_staff(topic, session, grid_worker):
    with pytest.raises(PermissionDeniedError, match="只有社区工作人员或小区党支部书记可以办理"):
        _on_agenda(topic, session, grid_worker)


def test_it_refuses_a_session_of_another_compound(territory, topic, community_staff):
    from tests.deliberation.factories import SessionFactory

    other = SessionFactory(compound=territory.other_compound)
    with pytest.raises(ApplicationError, match="同一小区"):
        _on_agenda(topic, other, community_staff)


def test_it_refuses_a_session_already_held(topic, session, community_staff):
    session_record_minutes(session=session, actor=community_staff, minutes="纪要")
    with pytest.raises(ApplicationError, match="待召开"):
        _on_agenda(topic, session, community_staff)


def test_opinions_are_recorded_only_while_deliberating(topic, session, community_staff):
    with pytest.raises(ApplicationError, match="上会协商"):
        topic_opinion_add(topic=topic, actor=community_staff, speaker="业委会",
                                   body="赞成")
    _on_agenda(topic, session, community_staff)
    opinion = topic_opinion_add(topic=topic, actor=community_staff, speaker="业委会",
                                         body="赞成", stance="for")
    assert opinion.topic == topic


# --- 决 ---

def test_it_refuses_to_decide_a_topic_not_yet_deliberated(topic, community_staff):
    with pytest.raises(InvalidTransition, match="不能从“提：征集附议”变为“决：已决议”"):
        _decided(topic, community_staff)


def test_a_vote_below_the_quorum_is_refused(topic, session, community_staff):
    _on_agenda(topic, session, community_staff)
    # 9 eligible → quorum ceil(9 × 2/3) = 6; 5 votes cast is short by one.
    with pytest.raises(ApplicationError, match="未达到法定人数"):
        topic_decide(topic=topic, actor=community_staff, decision_text="表决",
                              mode="vote", review_on=REVIEW, votes_for=5, eligible_voters=9)
    assert Topic.objects.get(pk=topic.pk).status == "deliberating"


def test_a_vote_at_the_quorum_with_a_majority_passes(topic, session, community_staff):
    _on_agenda(topic, session, community_staff)
    topic_decide(topic=topic, actor=community_staff, decision_text="同意改造",
                          mode="vote", review_on=REVIEW, votes_for=4, votes_against=1,
                          votes_abstain=1, eligible_voters=9)
    topic.refresh_from_db()
    assert (topic.status, topic.votes_cast, topic.review_on) == ("decided", 6, REVIEW)


def test_a_tied_vote_does_not_pass_and_is_published(topic, session, community_staff):
    _on_agenda(topic, session, community_staff)
    topic_decide(topic=topic, actor=community_staff, decision_text="不同意",
                          mode="vote", review_on=REVIEW, votes_for=3, votes_against=3,
                          eligible_voters=7)
    topic.refresh_from_db()
    assert topic.status == "rejected"
    assert topic.published_at is not None
    assert "表决未通过" in topic.outcome


@pytest.mark.parametrize(("votes", "eligible", "message"), [
    ((5, 0, 0), None, "应到人数"),
    ((5, 3, 3), 10, "不能超过"),
    ((-1, 0, 0), 3, "负数"),
])
def test_it_refuses_bad_tallies(topic, session, community_staff, votes, eligible, message):
    _on_agenda(topic, session, community_staff)
    with pytest.raises(ApplicationError, match=message):
        topic_decide(topic=topic, actor=community_staff, decision_text="x", mode="vote",
                              review_on=REVIEW, votes_for=votes[0], votes_against=votes[1],
                              votes_abstain=votes[2], eligible_voters=eligible)


def test_it_refuses_a_review_date_in_the_past(topic, session, community_staff):
    _on_agenda(topic, session, community_staff)
    with pytest.raises(ApplicationError, match="评议日期"):
        topic_decide(topic=topic, actor=community_staff, decision_text="x",
                              mode="consensus", review_on=date(2000, 1, 1))


# --- 做 ---

def test_the_first_action_item_starts_execution_and_ticking_all_off_opens_evaluation(
        topic, session, secretary, community_staff):
    _on_agenda(topic, session, secretary)
    _decided(topic, secretary)
    first = action_item_add(topic=topic, actor=secretary, title="更换灯具",
                                      deadline=date(2099, 1, 1), owner_user=community_staff)
    second = action_item_add(topic=topic, actor=secretary, title="验收",
                                       owner_name="业委会", deadline=date(2099, 1, 2))
    assert Topic.objects.get(pk=topic.pk).status == "executing"
    action_item_tick_off(item=first, actor=secretary)
    assert Topic.objects.get(pk=topic.pk).status == "executing"
    action_item_tick_off(item=second, actor=secretary)
    assert Topic.objects.get(pk=topic.pk).status == "evaluating"
    first.refresh_from_db()
    assert (first.status, first.progress) == ("done", 100)


def test_an_action_item_needs_a_decided_topic_and_an_owner(topic, session, community_staff):
    with pytest.raises(ApplicationError, match="决议后"):
        action_item_add(topic=topic, actor=community_staff, title="x",
                                 owner_name="物业", deadline=date(2099, 1, 1))
    _on_agenda(topic, session, community_staff)
    _decided(topic, community_staff)
    with pytest.raises(ApplicationError, match="责任人"):
        action_item_add(topic=topic, actor=community_staff, title="x",
                                 deadline=date(2099, 1, 1))


def test_it_refuses_ticking_off_twice(topic, community_staff):
    item = ActionItemFactory(topic=topic)
    action_item_tick_off(item=item, actor=community_staff)
    with pytest.raises(InvalidTransition, match="不能从“已销号”变为“已销号”"):
        action_item_tick_off(item=item, actor=community_staff)


def test_the_owner_reports_progress_with_an_evidence_photo(topic, resident_user):
    from io import BytesIO

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (20, 20), "red").save(buffer, format="PNG")
    item = ActionItemFactory(topic=topic, owner_user=resident_user)
    action_item_progress(item=item, actor=resident_user, progress=60, note="已采购",
                                  photo=SimpleUploadedFile("a.png", buffer.getvalue()))
    item.refresh_from_db()
    assert item.progress == 60
    assert item.evidence.get().photo.name.endswith(".jpg")


def test_someone_else_cannot_report_progress(topic, neighbour):
    item = ActionItemFactory(topic=topic)
    with pytest.raises(PermissionDeniedError, match="只有社区工作人员或小区党支部书记可以办理"):
        action_item_progress(item=item, actor=neighbour, progress=10)


def test_progress_outside_0_to_100_is_refused(topic, community_staff):
    item = ActionItemFactory(topic=topic)
    with pytest.raises(ApplicationError, match="0 到 100"):
        action_item_progress(item=item, actor=community_staff, progress=120)


def test_a_small_matter_settled_on_the_spot_goes_straight_to_evaluation(
        topic, session, community_staff):
    _on_agenda(topic, session, community_staff)
    _decided(topic, community_staff)
    topic_settle_on_the_spot(topic=topic, actor=community_staff)
    assert Topic.objects.get(pk=topic.pk).status == "evaluating"


# --- 评 ---

def _evaluating(topic):
    """In 评 with its window over (the window's rules: tests/deliberation/test_integrity.py)."""
    Topic.objects.filter(pk=topic.pk).update(status=Topic.Status.EVALUATING,
                                             evaluation_ends_at=timezone.now())
    topic.refresh_from_db()
    return topic


def test_residents_rate_once_and_staff_close_and_publish(topic, neighbour, resident_user,
                                                         community_staff):
    _evaluating(topic)
    # Residents rate inside the window; staff close after it (test_participation: the window).
    Topic.objects.filter(pk=topic.pk).update(evaluation_ends_at=timezone.now()
                                             + timedelta(days=1))
    topic_rate(topic=topic, actor=neighbour, score="satisfied")
    topic_rate(topic=topic, actor=resident_user, score="basically")
    with pytest.raises(ApplicationError, match="已评议"):
        topic_rate(topic=topic, actor=neighbour, score="dissatisfied")
    assert rating_summary(topic) == {"satisfied": 1, "basically": 1,
                                              "dissatisfied": 0}
    _evaluating(topic)
    need = Need.objects.create(compound=topic.compound, title="x", source="topic", topic=topic)
    topic_close(topic=topic, actor=community_staff, outcome="已完成改造")
    topic.refresh_from_db()
    assert (topic.status, topic.outcome) == ("closed", "已完成改造")
    assert topic.published_at is not None
    need.refresh_from_db()
    assert need.status == "resolved"


def test_rating_is_refused_outside_evaluation_and_to_outsiders(topic, neighbour, other_resident):
    with pytest.raises(ApplicationError, match="评议阶段"):
        topic_rate(topic=topic, actor=neighbour, score="satisfied")
    _evaluating(topic)
    with pytest.raises(PermissionDeniedError, match="只有本小区居民可以参与"):
        topic_rate(topic=topic, actor=other_resident, score="satisfied")
    with pytest.raises(ApplicationError, match="请选择"):
        topic_rate(topic=topic, actor=neighbour, score="great")


def test_closing_is_refused_before_evaluation(topic, community_staff):
    with pytest.raises(InvalidTransition, match="不能从“提：征集附议”变为“已办结”"):
        topic_close(topic=topic, actor=community_staff, outcome="x")


def test_staff_reject_a_proposal_with_a_reason(topic, community_staff):
    with pytest.raises(ApplicationError, match="理由"):
        topic_reject(topic=topic, actor=community_staff, reason=" ")
    topic_reject(topic=topic, actor=community_staff, reason="属物业合同范围")
    assert Topic.objects.get(pk=topic.pk).status == "rejected"


@pytest.mark.parametrize("current", list(Topic.Status.values))
def test_the_transition_table_allows_exactly_its_moves(territory, current):
    """Walk the whole table: every listed move passes the guard, every other one is refused."""
    from core.workflow import check_transition

    for target in Topic.Status.values:
        allowed = target in Topic.TRANSITIONS[current]
        try:
            check_transition(Topic.TRANSITIONS, current, target, labels={})
            assert allowed, (current, target)
        except InvalidTransition:
            assert not allowed, (current, target)


def test_every_move_writes_a_status_change(topic, session, community_staff):
    _on_agenda(topic, session, community_staff)
    _decided(topic, community_staff)
    moves = list(TopicStatusChange.objects.filter(topic=topic).values_list("old_status",
                                                                         "new_status"))
    assert moves == [("proposed", "deliberating"), ("deliberating", "decided")]


# --- reminders ---

def test_owners_are_reminded_before_and_after_the_deadline_once_each(topic, community_staff):
    from notifications.models import Notification

    today = timezone.localdate()
    soon = ActionItemFactory(topic=topic, owner_user=community_staff,
                             deadline=today + timedelta(days=1))
    late = ActionItemFactory(topic=topic, owner_user=community_staff,
                             deadline=today - timedelta(days=1))
    ActionItemFactory(topic=topic, owner_user=community_staff, deadline=today + timedelta(days=30))
    ActionItemFactory(topic=topic, owner_user=community_staff, deadline=today - timedelta(days=3),
                      status=ActionItem.Status.DONE)
    assert action_items_remind(now=timezone.now()) == 2
    assert action_items_remind(now=timezone.now()) == 0
    titles = sorted(Notification.objects.values_list("title", flat=True))
    assert len(titles) == 2
    assert any("即将到期" in title and soon.title in title for title in titles)
    assert any("已逾期" in title and late.title in title for title in titles)


def test_a_body_owner_is_reminded_by_sms(topic, territory):
    from governance.models import Body
    from notifications.models import OutboundMessage

    body = Body.objects.create(kind="property_company", name="瑞城物业",
                               compound=territory.compound,
                               contact_phone="13700000000")
    ActionItemFactory(topic=topic, owner_body=body, deadline=timezone.localdate())
    action_items_remind(now=timezone.now())
    assert OutboundMessage.objects.get().recipient == "13700000000"


def test_topics_of_other_compounds_are_out_of_a_secretarys_reach(territory, secretary):
    foreign = TopicFactory(compound=territory.other_compound)
    with pytest.raises(PermissionDeniedError, match="只有社区工作人员或小区党支部书记可以办理"):
        topic_reject(topic=foreign, actor=secretary, reason="x")


def test_agenda_items_are_timed_one_after_another(territory, community_staff):
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    from tests.deliberation.factories import SessionFactory

    session = SessionFactory(compound=territory.compound, starts_at=datetime(
        2099, 3, 15, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    agenda_item_add(session=session, actor=community_staff, title="开场",
                             duration_minutes=10)
    first, second = TopicFactory.create_batch(2, compound=territory.compound)
    topic_schedule(topic=first, session=session, actor=community_staff,
                            duration_minutes=30)
    topic_schedule(topic=second, session=session, actor=community_staff)
    assert list(session.agenda_items.values_list("starts_at", "position")) == [
        (time(9, 0), 0), (time(9, 10), 1), (time(9, 40), 2)]


# --- every message links to its object -----------------------------------------------------


def _opened(client, user, notification) -> int:
    """What the receiver gets when they tap the message in their inbox (the redirect followed)."""
    from django.urls import reverse

    client.force_login(user)
    response = client.get(reverse("notifications:open", args=[notification.pk]), follow=True)
    return response.status_code


def test_the_proposers_messages_about_their_topic_open_the_topic(
        client, topic, session, community_staff, resident_user,
        django_capture_on_commit_callbacks):
    from django.urls import reverse

    from notifications.models import Notification

    with django_capture_on_commit_callbacks(execute=True):
        _on_agenda(topic, session, community_staff)
        _decided(topic, community_staff)
        topic_settle_on_the_spot(topic=topic, actor=community_staff)
    url = reverse("deliberation:topic-detail", args=[topic.pk])
    messages = {row.title: row for row in Notification.objects.filter(user=resident_user)}
    assert {title: row.link for title, row in messages.items()} == {
        f"您的议题已列入议程：{topic.title}": url,
        f"您提的议题“{topic.title}”进入新阶段：决：已决议": url,
        f"议题已落实，请您评议：{topic.title}": f"{url}#rate",
    }
    for row in messages.values():
        assert _opened(client, resident_user, row) == 200


def test_an_action_item_owner_is_sent_where_they_can_open_it(
        client, topic, session, community_staff, resident_user,
        django_capture_on_commit_callbacks):
    from django.urls import reverse

    from notifications.models import Notification

    _on_agenda(topic, session, community_staff)
    _decided(topic, community_staff)
    with django_capture_on_commit_callbacks(execute=True):
        for_staff = action_item_add(topic=topic, actor=community_staff, title="更换灯具",
                                             deadline=date(2099, 1, 1),
                                             owner_user=community_staff)
        for_resident = action_item_add(topic=topic, actor=community_staff,
                                                title="楼道通知", deadline=date(2099, 1, 1),
                                                owner_user=resident_user)
    staff_message = Notification.objects.get(user=community_staff)
    # (The proposer also hears that the topic moved to 做: not this message.)
    resident_message = Notification.objects.get(user=resident_user, title__contains="落实事项")
    assert staff_message.link == f"{reverse('deliberation:action-items')}#item-{for_staff.pk}"
    assert resident_message.link == (f"{reverse('deliberation:topic-detail', args=[topic.pk])}"
                                     f"#item-{for_resident.pk}")
    assert _opened(client, community_staff, staff_message) == 200
    assert _opened(client, resident_user, resident_message) == 200


def test_a_resident_owners_reminder_opens_the_topic_not_the_staff_board(topic, resident_user):
    from django.urls import reverse

    from notifications.models import Notification

    item = ActionItemFactory(topic=topic, owner_user=resident_user,
                             deadline=timezone.localdate() - timedelta(days=1))
    assert action_items_remind(now=timezone.now()) == 1
    assert Notification.objects.get(user=resident_user).link == (
        f"{reverse('deliberation:topic-detail', args=[topic.pk])}#item-{item.pk}")
