"""REST API under /api/v1/deliberation/: filters, query counts, transitions, outsiders get 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from deliberation.models import Need, Project, Resource, Topic
from tests.deliberation.factories import (
    ActionItemFactory,
    SessionFactory,
    TopicFactory,
    quarterly_survey,
)


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def rows(territory, resident_user, session):
    for index in range(5):
        topic = TopicFactory(compound=territory.compound, proposer=resident_user,
                             status="closed" if index % 2 else "proposed",
                             published_at=timezone.now() if index % 2 else None)
        ActionItemFactory(topic=topic)
        Need.objects.create(compound=territory.compound, title=f"n{index}", source="visit")
        Resource.objects.create(compound=territory.compound, kind="organisation",
                                name=f"r{index}", offers="x")
        project = Project.objects.create(compound=territory.compound, kind="co_building",
                                         title=f"p{index}", owner_name="x")
        project.milestones.create(title="m", due_on=timezone.localdate())
        SessionFactory(compound=territory.compound)
    TopicFactory(compound=territory.other_compound)


@pytest.mark.parametrize(("name", "limit"), [
    ("deliberation-topic-list", 4), ("deliberation-session-list", 5),
    ("deliberation-action-item-list", 4), ("deliberation-need-list", 4),
    ("deliberation-resource-list", 4), ("deliberation-project-list", 7),
    ("deliberation-survey-list", 4), ("deliberation-result-list", 3),
])
def test_lists_are_scoped_and_use_few_queries(api, community_staff, rows, name, limit,
                                              django_assert_max_num_queries):
    api.force_authenticate(community_staff)
    with django_assert_max_num_queries(limit):
        response = api.get(reverse(f"api:{name}"))
    assert response.status_code == 200
    compounds = {row.get("compound") for row in response.json()["results"]}
    assert compounds <= {None, community_staff.scope_area.compounds.get().pk}


def test_topics_filter_by_status(api, community_staff, rows):
    api.force_authenticate(community_staff)
    body = api.get(reverse("api:deliberation-topic-list"), {"status": "closed"}).json()
    assert {row["status"] for row in body["results"]} == {"closed"}
    assert len(body["results"]) == 2


def test_an_outsider_sees_no_topics_and_gets_404_on_one(api, outsider, topic):
    api.force_authenticate(outsider)
    assert api.get(reverse("api:deliberation-topic-list")).json()["results"] == []
    url = reverse("api:deliberation-topic-detail", args=[topic.pk])
    assert api.get(url).status_code == 404
    for action in ["support", "schedule", "decide", "close", "rate", "reject", "settle"]:
        response = api.post(reverse(f"api:deliberation-topic-{action}", args=[topic.pk]), {})
        assert response.status_code == 404, action


def test_an_outsider_gets_404_on_sessions_items_projects_and_surveys(api, outsider, session,
                                                                     topic, territory):
    item = ActionItemFactory(topic=topic)
    project = Project.objects.create(compound=territory.compound, kind="livelihood", title="x",
                                     owner_name="y")
    survey = quarterly_survey(compound=territory.compound, year=2025, quarter=1)
    api.force_authenticate(outsider)
    checks = [
        ("get", reverse("api:deliberation-session-detail", args=[session.pk])),
        ("post", reverse("api:deliberation-session-publish", args=[session.pk])),
        ("post", reverse("api:deliberation-session-sign-in", args=[session.pk])),
        ("post", reverse("api:deliberation-action-item-tick-off", args=[item.pk])),
        ("post", reverse("api:deliberation-project-tick-off", args=[project.pk])),
        ("post", reverse("api:deliberation-survey-answers", args=[survey.pk])),
    ]
    for method, url in checks:
        assert getattr(api, method)(url, {"code": "1"}).status_code == 404, url


def test_the_whole_cycle_through_the_api(api, resident_user, neighbour, secretary, session,
                                         territory):
    api.force_authenticate(resident_user)
    response = api.post(reverse("api:deliberation-topic-list"),
                        {"compound": territory.compound.pk, "title": "充电桩扩容"})
    assert response.status_code == 201
    topic_id = response.json()["id"]
    api.force_authenticate(neighbour)
    assert api.post(reverse("api:deliberation-topic-support", args=[topic_id])).json()[
        "support_count"] == 1
    api.force_authenticate(secretary)
    api.post(reverse("api:deliberation-topic-schedule", args=[topic_id]),
             {"session": session.pk})
    response = api.post(reverse("api:deliberation-topic-decide", args=[topic_id]), {
        "decision_text": "同意", "mode": "vote", "eligible_voters": 9, "votes_for": 1,
        "review_on": "2099-01-01"})
    assert response.status_code == 400
    assert "未达到法定人数" in response.json()["message"]
    review_on = timezone.localdate() + timedelta(days=3)
    response = api.post(reverse("api:deliberation-topic-decide", args=[topic_id]), {
        "decision_text": "同意", "mode": "vote", "eligible_voters": 9, "votes_for": 5,
        "votes_against": 1, "review_on": review_on.isoformat()})
    assert response.json()["status"] == "decided"
    response = api.post(reverse("api:deliberation-topic-action-items", args=[topic_id]),
                        {"title": "扩容", "owner_name": "物业", "deadline": "2099-01-01"})
    item_id = response.json()["id"]
    api.post(reverse("api:deliberation-action-item-tick-off", args=[item_id]))
    api.force_authenticate(resident_user)
    assert api.post(reverse("api:deliberation-topic-rate", args=[topic_id]),
                    {"score": "satisfied"}).status_code == 204
    api.force_authenticate(secretary)
    close = reverse("api:deliberation-topic-close", args=[topic_id])
    # Not before the residents' evaluation window (7 days from the tick-off) has ended.
    assert api.post(close, {"outcome": "新增充电桩40个"}).status_code == 400
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        response = api.post(close, {"outcome": "新增充电桩40个"})
    assert response.json()["status"] == "closed"
    api.force_authenticate(None)
    published = api.get(reverse("api:deliberation-result-list")).json()["results"]
    assert [row["id"] for row in published] == [topic_id]


def test_an_illegal_jump_is_a_409(api, community_staff, topic):
    api.force_authenticate(community_staff)
    response = api.post(reverse("api:deliberation-topic-close", args=[topic.pk]),
                        {"outcome": "x"})
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_a_resident_cannot_use_staff_actions(api, neighbour, topic):
    api.force_authenticate(neighbour)
    response = api.post(reverse("api:deliberation-topic-reject", args=[topic.pk]),
                        {"reason": "x"})
    assert response.status_code == 404
    assert Topic.objects.get(pk=topic.pk).status == "proposed"


def test_staff_call_a_joint_meeting_and_record_minutes(api, community_staff, territory):
    api.force_authenticate(community_staff)
    response = api.post(reverse("api:deliberation-session-joint"), {
        "compound": territory.compound.pk, "title": "联席会议",
        "starts_at": (timezone.now() + timedelta(days=1)).isoformat(), "mode": "online",
        "invited_bodies": ["owners_committee"]}, format="json")
    assert response.status_code == 201
    session_id = response.json()["id"]
    url = reverse("api:deliberation-session-minutes", args=[session_id])
    response = api.post(url, {"minutes": "纪要"})
    assert response.status_code == 400 and "开始后才能记录纪要" in response.json()["message"]
    with time_machine.travel(timezone.now() + timedelta(days=1, hours=1)):
        response = api.post(url, {"minutes": "纪要"})
    assert response.json()["status"] == "held"


def test_survey_results_by_compound_and_quarter(api, resident_user, neighbour, territory):
    survey = quarterly_survey(compound=territory.compound, year=2025, quarter=2)
    api.force_authenticate(resident_user)
    api.post(reverse("api:deliberation-survey-answers", args=[survey.pk]),
             {"satisfaction": "satisfied"})
    api.force_authenticate(neighbour)
    api.post(reverse("api:deliberation-survey-answers", args=[survey.pk]),
             {"satisfaction": "dissatisfied", "need": "增加健身器材"})
    rows = api.get(reverse("api:deliberation-survey-results")).json()
    assert rows == [{"compound_id": territory.compound.pk, "compound": "长江瑞城", "year": 2025,
                     "quarter": 2, "label": "2025Q2", "total": 2, "satisfied": 1,
                     "basically": 0, "dissatisfied": 1, "rate": 50.0}]
    assert Need.objects.get(source="survey").title == "增加健身器材"


def test_the_openapi_schema_has_the_deliberation_paths(client):
    response = client.get(reverse("schema"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/v1/deliberation/topics/{id}/decide/" in text
