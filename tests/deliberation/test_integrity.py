"""议 → 决 → 做 → 评 → 结 keeps to the calendar: a decision is recorded at (or after) the meeting it
is on; a topic is closed only after the residents' evaluation window, and with an evaluation.

Seen in use: a topic went through every step in three minutes, its 决议 recorded ten days before
its meeting and closed with no resident's evaluation. Each refusal gives its reason in Chinese
(ApplicationError: a page message, an API 400).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from core.exceptions import ApplicationError
from deliberation.models import Session, Topic, TopicStatusChange
from deliberation.services.sessions import session_record_minutes
from deliberation.services.topics import (
    action_item_add,
    action_item_tick_off,
    topic_close,
    topic_decide,
    topic_rate,
    topic_schedule,
    topic_settle_on_the_spot,
)
from tests.deliberation.factories import SessionFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
BEFORE_MEETING = "议事会召开时或召开后才能记录决议"


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)


@pytest.fixture
def api():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def meeting(territory) -> Session:
    """The compound's deliberation day: 15 December 2026 at 09:00."""
    return SessionFactory(compound=territory.compound, starts_at=at(2026, 12, 15, 9))


def _decide(topic, actor, review_on=date(2026, 12, 18)):
    return topic_decide(topic=topic, actor=actor, decision_text="同意实施",
                                 mode="consensus", review_on=review_on)


def _scheduled(topic, meeting, actor):
    with time_machine.travel(at(2026, 12, 5, 10), tick=False):
        return topic_schedule(topic=topic, session=meeting, actor=actor)


def _in_evaluation(topic, meeting, actor, *, review_on=date(2026, 12, 18)):
    """Decided at the meeting and settled on the spot at 10:00: the evaluation opens then."""
    _scheduled(topic, meeting, actor)
    with time_machine.travel(at(2026, 12, 15, 10), tick=False):
        _decide(topic, actor, review_on=review_on)
        topic_settle_on_the_spot(topic=topic, actor=actor)
    return Topic.objects.get(pk=topic.pk)


# --- 决: at or after the meeting ---------------------------------------------------------------

def test_a_decision_before_its_meeting_starts_is_refused_and_one_at_it_is_recorded(
        topic, meeting, community_staff):
    _scheduled(topic, meeting, community_staff)
    for moment in (at(2026, 12, 5, 10, 3), at(2026, 12, 15, 8, 59)):
        with time_machine.travel(moment, tick=False), pytest.raises(
                ApplicationError, match=BEFORE_MEETING):
            _decide(topic, community_staff)
    assert Topic.objects.get(pk=topic.pk).status == "deliberating"
    with time_machine.travel(at(2026, 12, 15, 9), tick=False):
        _decide(topic, community_staff)
    topic.refresh_from_db()
    assert (topic.status, topic.decided_at) == ("decided", at(2026, 12, 15, 9))
    # The refused attempts left no trace in the timeline.
    moves = list(TopicStatusChange.objects.filter(topic=topic).values_list("new_status",
                                                                         flat=True))
    assert moves == ["deliberating", "decided"]


def test_the_decide_page_and_the_api_show_why_a_decision_is_too_early(
        client, api, topic, meeting, community_staff):
    _scheduled(topic, meeting, community_staff)
    client.force_login(community_staff)
    api.force_authenticate(community_staff)
    body = {"decision_text": "同意", "mode": "consensus", "review_on": "2026-12-30",
            "votes_for": 0, "votes_against": 0, "votes_abstain": 0}
    with time_machine.travel(at(2026, 12, 5, 10, 3), tick=False):
        page = client.post(reverse("deliberation:topic-decide", args=[topic.pk]), body,
                           follow=True).content.decode()
        response = api.post(reverse("api:deliberation-topic-decide", args=[topic.pk]), body)
    assert BEFORE_MEETING in page and "2026-12-15 09:00" in page
    assert response.status_code == 400 and BEFORE_MEETING in response.json()["message"]
    assert Topic.objects.get(pk=topic.pk).status == "deliberating"


def test_minutes_are_refused_before_the_meeting_starts(meeting, community_staff):
    with time_machine.travel(at(2026, 12, 5, 10), tick=False), pytest.raises(
            ApplicationError, match="议事会开始后才能记录纪要"):
        session_record_minutes(session=meeting, actor=community_staff, minutes="纪要")
    with time_machine.travel(at(2026, 12, 15, 11), tick=False):
        session_record_minutes(session=meeting, actor=community_staff, minutes="纪要")
    meeting.refresh_from_db()
    assert (meeting.status, meeting.held_at) == ("held", at(2026, 12, 15, 11))


# --- 评 before 结: the evaluation window --------------------------------------------------------

def test_the_window_lasts_seven_days_when_the_review_date_is_sooner(
        topic, meeting, community_staff, neighbour):
    topic = _in_evaluation(topic, meeting, community_staff, review_on=date(2026, 12, 18))
    assert topic.evaluation_ends_at == at(2026, 12, 22, 10)
    with time_machine.travel(at(2026, 12, 16, 20), tick=False):
        topic_rate(topic=topic, actor=neighbour, score="satisfied")
    with time_machine.travel(at(2026, 12, 22, 9, 59), tick=False), pytest.raises(
            ApplicationError, match="评议期至 2026-12-22 10:00"):
        topic_close(topic=topic, actor=community_staff, outcome="已完成")
    with time_machine.travel(at(2026, 12, 22, 10), tick=False):
        topic_close(topic=topic, actor=community_staff, outcome="已完成")
    assert Topic.objects.get(pk=topic.pk).status == "closed"


def test_the_window_runs_to_the_review_date_set_at_the_decision(
        topic, meeting, community_staff, neighbour):
    topic = _in_evaluation(topic, meeting, community_staff, review_on=date(2027, 1, 10))
    assert topic.evaluation_ends_at == at(2027, 1, 10, 0)
    with time_machine.travel(at(2026, 12, 20), tick=False):
        topic_rate(topic=topic, actor=neighbour, score="basically")
    with time_machine.travel(at(2027, 1, 9, 18), tick=False), pytest.raises(
            ApplicationError, match="评议期"):
        topic_close(topic=topic, actor=community_staff, outcome="已完成")
    with time_machine.travel(at(2027, 1, 10, 9), tick=False):
        topic_close(topic=topic, actor=community_staff, outcome="已完成")
    assert Topic.objects.get(pk=topic.pk).status == "closed"


def test_closing_without_any_evaluation_needs_an_offline_evaluation_record(
        client, topic, meeting, community_staff):
    topic = _in_evaluation(topic, meeting, community_staff)
    with time_machine.travel(at(2026, 12, 23, 10), tick=False):
        with pytest.raises(ApplicationError, match="还没有居民评议"):
            topic_close(topic=topic, actor=community_staff, outcome="已完成")
        with pytest.raises(ApplicationError, match="还没有居民评议"):
            topic_close(topic=topic, actor=community_staff, outcome="已完成",
                                 evaluation_note="  ")
        topic_close(topic=topic, actor=community_staff, outcome="已完成",
                             evaluation_note="12月23日居民代表评议会：到会12人，11人满意")
    topic.refresh_from_db()
    assert topic.status == "closed"
    assert topic.evaluation_note == "12月23日居民代表评议会：到会12人，11人满意"
    client.force_login(community_staff)
    page = client.get(reverse("deliberation:topic-detail", args=[topic.pk])).content.decode()
    assert "到会12人，11人满意" in page


def test_the_close_page_and_the_api_show_why_closing_is_too_early(
        client, api, topic, meeting, community_staff):
    topic = _in_evaluation(topic, meeting, community_staff)
    client.force_login(community_staff)
    api.force_authenticate(community_staff)
    with time_machine.travel(at(2026, 12, 15, 10, 3), tick=False):
        detail = client.get(reverse("deliberation:topic-detail", args=[topic.pk])).content.decode()
        page = client.post(reverse("deliberation:topic-close", args=[topic.pk]),
                           {"outcome": "已完成"}, follow=True).content.decode()
        response = api.post(reverse("api:deliberation-topic-close", args=[topic.pk]),
                            {"outcome": "已完成"})
    # The staff see when the window ends before they try.
    assert "评议截止 2026-12-22 10:00" in detail
    assert "评议期至 2026-12-22 10:00" in page
    assert response.status_code == 400 and "评议期" in response.json()["message"]
    assert Topic.objects.get(pk=topic.pk).status == "evaluating"


def test_ticking_off_the_last_item_opens_the_window(topic, meeting, community_staff):
    _scheduled(topic, meeting, community_staff)
    with time_machine.travel(at(2026, 12, 15, 10), tick=False):
        _decide(topic, community_staff, review_on=date(2026, 12, 15))
        item = action_item_add(topic=topic, actor=community_staff, title="换灯",
                                        owner_name="物业", deadline=date(2026, 12, 30))
    with time_machine.travel(at(2026, 12, 28, 15), tick=False):
        action_item_tick_off(item=item, actor=community_staff)
    topic.refresh_from_db()
    assert topic.status == "evaluating"
    assert topic.evaluation_ends_at == at(2026, 12, 28, 15) + timedelta(days=7)
