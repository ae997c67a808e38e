from __future__ import annotations

import io
import time

import pytest
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from deliberation.models import Need, Project, Session, SurveyAnswer, Topic
from governance.demo import demo_load

pytestmark = pytest.mark.django_db


def test_the_demo_holds_15_sessions_since_2024_and_topics_in_every_step(client, monkeypatch):
    from deliberation import demo

    output = io.StringIO()
    timings = []
    real_load = demo.load

    def timed_load(**kwargs):
        started = time.monotonic()
        real_load(**kwargs)
        timings.append(time.monotonic() - started)

    monkeypatch.setattr(demo, "load", timed_load)
    demo_load(stdout=output)
    assert "deliberation: demo data loaded" in output.getvalue(), output.getvalue()
    held = Session.objects.filter(status="held")
    assert held.count() == 15
    assert held.order_by("starts_at").first().starts_at.year == 2024
    assert Session.objects.filter(status="planned", kind="monthly").count() == 1
    steps = set(Topic.objects.values_list("status", flat=True))
    assert steps == set(Topic.Status.values)
    projects = dict(Project.objects.values_list("kind").annotate(Count("id")))
    assert projects == {"livelihood": 5, "co_building": 4}
    assert Project.objects.filter(title="门禁亮化改造").exists()
    assert Project.objects.filter(title="充电桩扩容").exists()
    assert Project.objects.filter(title="雷锋精神实践月").exists()
    assert Need.objects.filter(source="hotline", status="resolved").count() == 7
    assert SurveyAnswer.objects.exists()
    _the_survey_demo_has_a_closed_questionnaire_with_results_and_an_open_one(client)
    _residents_take_part()
    _the_topics_keep_the_calendar_rules()
    # The portal shows the sessions held since 2024.
    page = client.get(reverse("deliberation:results")).content.decode()
    assert "已召开议事会 15 次" in page
    from accounts.models import User

    client.force_login(User.objects.get(username="community"))
    dashboard = client.get(reverse("deliberation:staff-dashboard")).content.decode()
    for label in Topic.Status.labels:
        assert str(label) in dashboard
    # The brief's budget for one app's demo part (bulk inserts).
    assert timings and timings[0] < 5, timings
    print(f"deliberation demo load: {timings[0]:.2f} s")


def test_the_demos_referred_petitions_become_topics_without_a_private_petitions_words(
        territory, resident_user, community_staff, session):
    # `make run` is what an outside probe reads first: its referral topics obey the same rule
    # as topic_propose_from_petition (private: neutral text; public: the 公示 text; 居民).
    from deliberation import demo
    from petitions.services import petition_refer_to_deliberation
    from tests.petitions.factories import submit

    private = submit(resident_user, household=territory.household1, contact_name="王阿姨",
                     description="楼上天天半夜装修，不要让他知道是我反映的")
    public = submit(resident_user, household=territory.household1, contact_name="王阿姨",
                    is_public=True, description="小区充电桩太少，我的电话13812345678")
    for petition in (private, public):
        petition_refer_to_deliberation(petition_id=petition.pk, actor=community_staff)
    demo._petition_topics(territory.compound, session, community_staff)
    topics = {topic.petition_id: topic for topic in Topic.objects.all()}
    assert {topic.proposer_name for topic in topics.values()} == {"居民"}
    text = f"{topics[private.pk].title} {topics[private.pk].description}"
    assert "装修" not in text and "不要让他知道" not in text
    assert topics[public.pk].description == "小区充电桩太少，我的电话***********"


def _the_survey_demo_has_a_closed_questionnaire_with_results_and_an_open_one(client) -> None:
    from accounts.models import User
    from deliberation.models import Survey

    today = timezone.localdate()
    closed = Survey.objects.get(kind="questionnaire", closes_on__lt=today)
    opened = Survey.objects.get(kind="questionnaire", closes_on__gte=today)
    assert closed.answers.count() > 10
    assert opened.questions.count() == 3 and opened.opens_on <= today
    # Every quarterly survey is one with its satisfaction question, answered through it.
    assert not SurveyAnswer.objects.filter(survey__kind="quarterly", responses=None).exists()
    client.force_login(User.objects.get(username="resident"))
    home = client.get(reverse("deliberation:home")).content.decode()
    assert opened.title in home
    results = client.get(reverse("deliberation:survey-results", args=[closed.pk]))
    assert "n = " in results.content.decode()
    client.logout()


def _the_topics_keep_the_calendar_rules() -> None:
    """The demo writes rows in bulk, past the services: it keeps their rules by its dates."""
    from deliberation.models import TopicStatusChange

    for topic in Topic.objects.select_related("session").prefetch_related("ratings"):
        if topic.decided_at is not None and topic.session is not None:
            assert topic.decided_at >= topic.session.starts_at, topic.title  # 决 at the meeting
        if topic.status in (Topic.Status.EVALUATING, Topic.Status.CLOSED):
            assert topic.evaluation_ends_at is not None, topic.title
        if topic.status == Topic.Status.CLOSED:  # 结 after the window, with an evaluation
            assert topic.closed_at >= topic.evaluation_ends_at, topic.title
            assert topic.ratings.all() or topic.evaluation_note, topic.title
        moments = list(TopicStatusChange.objects.filter(topic=topic).order_by("id")
                       .values_list("at", flat=True))
        assert moments == sorted(moments), topic.title  # the timeline runs forwards


def _residents_take_part():
    """The next 15th has sign-ups and its notice; a topic is discussed (one comment hidden with
    its reason); the topic in 评 has ratings, one a household."""
    from deliberation.models import SessionSignUp, TopicComment, TopicRating

    upcoming = Session.objects.get(status="planned", kind="monthly")
    assert SessionSignUp.objects.filter(session=upcoming, cancelled_at=None).count() >= 5
    assert upcoming.notice_sent_at is not None
    discussed = Topic.objects.get(title="非机动车棚扩建")
    assert discussed.comments.count() >= 4
    assert TopicComment.objects.filter(topic=discussed).exclude(hidden_reason="").count() == 1
    evaluating = TopicRating.objects.filter(topic__status="evaluating")
    assert evaluating.count() >= 3
    assert evaluating.values("household_id").distinct().count() == evaluating.count()
