"""Pages: residents on a phone, the staff dashboard, the public 公示 and the iCal feed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from deliberation.models import ActionItem, Need, Project, Resource, Session, Topic
from deliberation.services.lists import project_create
from tests.deliberation.factories import (
    ActionItemFactory,
    SessionFactory,
    TopicFactory,
    quarterly_survey,
    satisfaction_post,
)


@pytest.fixture
def many(territory, resident_user, session):
    """Several rows of everything, to catch N+1 queries."""
    for index in range(4):
        topic = TopicFactory(compound=territory.compound, proposer=resident_user,
                             status=["proposed", "deliberating", "evaluating", "closed"][index],
                             session=session, published_at=timezone.now() if index == 3 else None,
                             outcome="已办结")
        ActionItemFactory(topic=topic)
        Need.objects.create(compound=territory.compound, title=f"需求{index}", source="topic",
                            topic=topic)
        Resource.objects.create(compound=territory.compound, kind="partner_unit",
                                name=f"单位{index}", offers="场地")
        project = Project.objects.create(compound=territory.compound, kind="livelihood",
                                         title=f"项目{index}", owner_name="物业")
        project.milestones.create(title="开工", due_on=date(2025, 1, 1))
        project.needs.add(Need.objects.last())
        session.agenda_items.create(title=f"议程{index}", topic=topic, position=index)
    SessionFactory(compound=territory.compound, status="held", published_at=timezone.now())


def test_a_resident_sees_the_phone_home_in_few_queries(client, resident_user, many,
                                                       django_assert_max_num_queries):
    client.force_login(resident_user)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("deliberation:home"))
    assert response.status_code == 200
    assert "我要提议" in response.content.decode()


def test_a_resident_proposes_and_a_neighbour_supports_through_the_pages(
        client, resident_user, neighbour):
    client.force_login(resident_user)
    response = client.post(reverse("deliberation:topic-create"),
                           {"title": "门禁亮化", "description": "太暗", "scale": "small"})
    topic = Topic.objects.get()
    assert response.url == reverse("deliberation:topic-detail", args=[topic.pk])
    client.force_login(neighbour)
    client.post(reverse("deliberation:topic-support", args=[topic.pk]))
    assert Topic.objects.get().support_count == 1
    page = client.get(reverse("deliberation:topic-detail", args=[topic.pk])).content.decode()
    assert "已有 1 户附议" in page


def test_a_bad_proposal_gets_a_chinese_error_not_a_500(client, resident_user):
    client.force_login(resident_user)
    response = client.post(reverse("deliberation:topic-create"), {"title": "", "scale": "x"})
    assert response.status_code == 400
    assert "errorlist" in response.content.decode()


def test_staff_run_a_topic_through_every_step_on_the_pages(client, secretary, resident_user,
                                                           session, territory):
    topic = TopicFactory(compound=territory.compound, proposer=resident_user)
    client.force_login(secretary)
    page = client.get(reverse("deliberation:topic-detail", args=[topic.pk])).content.decode()
    assert "列入议程" in page
    client.post(reverse("deliberation:topic-schedule", args=[topic.pk]),
                {"session": session.pk, "duration_minutes": 20})
    client.post(reverse("deliberation:topic-opinion-add", args=[topic.pk]),
                {"speaker": "物业", "stance": "for", "body": "同意"})
    response = client.post(reverse("deliberation:topic-decide", args=[topic.pk]), {
        "decision_text": "同意", "mode": "vote", "eligible_voters": 9, "votes_for": 2,
        "votes_against": 0, "votes_abstain": 0, "review_on": "2099-01-01"}, follow=True)
    assert "未达到法定人数" in response.content.decode()
    client.post(reverse("deliberation:topic-decide", args=[topic.pk]), {
        "decision_text": "同意", "mode": "vote", "eligible_voters": 9, "votes_for": 6,
        "votes_against": 0, "votes_abstain": 0,
        "review_on": (timezone.localdate() + timedelta(days=3)).isoformat()})
    client.post(reverse("deliberation:action-item-create", args=[topic.pk]),
                {"title": "换灯", "owner_name": "物业", "deadline": "2099-01-01"})
    item = ActionItem.objects.get()
    client.post(reverse("deliberation:action-item-tick-off", args=[item.pk]), {"confirm": "on"})
    assert Topic.objects.get(pk=topic.pk).status == "evaluating"
    client.force_login(resident_user)
    client.post(reverse("deliberation:topic-rate", args=[topic.pk]), {"score": "satisfied"})
    client.force_login(secretary)
    # 结 waits for the end of the residents' evaluation window (7 days from the tick-off).
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        client.post(reverse("deliberation:topic-close", args=[topic.pk]), {"outcome": "已完成"})
    topic.refresh_from_db()
    assert (topic.status, topic.ratings.count()) == ("closed", 1)
    results = client.get(reverse("deliberation:results")).content.decode()
    assert topic.title in results


def test_the_staff_session_page_shows_the_sign_in_code_and_qr(client, community_staff, session):
    client.force_login(community_staff)
    page = client.get(reverse("deliberation:session-detail", args=[session.pk])).content.decode()
    assert "<svg" in page
    assert session.sign_in_code in page


def test_a_resident_signs_in_with_the_code_and_a_wrong_code_is_refused(client, resident_user,
                                                                        session):
    client.force_login(resident_user)
    url = reverse("deliberation:session-sign-in", args=[session.pk])
    response = client.post(url, {"code": "000000"})
    assert "签到码不正确" in response.content.decode()
    client.post(url, {"code": session.sign_in_code})
    assert session.attendances.filter(user=resident_user).exists()


def test_staff_record_minutes_and_publish_a_session(client, community_staff, session):
    client.force_login(community_staff)
    client.post(reverse("deliberation:session-minutes", args=[session.pk]), {"minutes": "纪要"})
    client.post(reverse("deliberation:session-publish", args=[session.pk]))
    session.refresh_from_db()
    assert (session.status, session.minutes) == ("held", "纪要")
    assert session.published_at is not None


def test_staff_call_a_joint_meeting(client, community_staff, territory):
    client.force_login(community_staff)
    when = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(reverse("deliberation:session-create"), {
        "compound": territory.compound.pk, "title": "联席会议", "starts_at": when,
        "place": "议事厅", "mode": "hybrid", "invited_bodies": ["party_branch", "grid_workers"]})
    session = Session.objects.get(kind="joint")
    assert response.url == reverse("deliberation:session-detail", args=[session.pk])
    assert session.invited_bodies == ["party_branch", "grid_workers"]


def test_staff_pages_list_in_few_queries(client, community_staff, many,
                                         django_assert_max_num_queries):
    client.force_login(community_staff)
    for name, limit in [("staff-dashboard", 14), ("staff-lists", 18), ("action-items", 10),
                        ("staff-surveys", 10)]:
        with django_assert_max_num_queries(limit):
            response = client.get(reverse(f"deliberation:{name}"))
        assert response.status_code == 200, name


def test_the_public_results_page_lists_in_few_queries(client, many,
                                                      django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        response = client.get(reverse("deliberation:results"))
    assert "已办结" in response.content.decode()


def test_the_ical_feed_lists_the_compounds_sessions(client, territory, session):
    session.agenda_items.create(title="门禁亮化, 改造; 方案")
    response = client.get(reverse("deliberation:compound-calendar", args=[territory.compound.pk]))
    body = response.content.decode()
    assert response["Content-Type"].startswith("text/calendar")
    assert body.startswith("BEGIN:VCALENDAR\r\n")
    assert f"UID:deliberation-session-{session.pk}@" in body
    assert "DTSTART:" in body
    assert "DTSTAMP:" in body
    assert "门禁亮化\\, 改造\\; 方案" in body.replace("\r\n ", "")
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))


@pytest.mark.parametrize("name", ["topic-detail", "topic-support", "topic-rate"])
def test_an_outsider_gets_404_for_a_topic(client, outsider, topic, name):
    client.force_login(outsider)
    method = client.get if name == "topic-detail" else client.post
    assert method(reverse(f"deliberation:{name}", args=[topic.pk])).status_code == 404


@pytest.mark.parametrize("name", ["topic-schedule", "topic-decide", "topic-close",
                                  "topic-reject", "action-item-create", "topic-settle",
                                  "topic-opinion-add"])
def test_a_resident_gets_404_for_staff_topic_actions(client, neighbour, topic, name):
    client.force_login(neighbour)
    assert client.post(reverse(f"deliberation:{name}", args=[topic.pk])).status_code == 404


@pytest.mark.parametrize("name", ["staff-dashboard", "staff-lists", "action-items",
                                  "staff-surveys", "session-create"])
def test_an_outsider_gets_404_for_staff_pages(client, outsider, name):
    client.force_login(outsider)
    assert client.get(reverse(f"deliberation:{name}")).status_code == 404


def test_an_outsider_gets_404_for_a_session_and_its_staff_actions(client, outsider, session):
    client.force_login(outsider)
    assert client.get(reverse("deliberation:session-detail",
                              args=[session.pk])).status_code == 404
    for name in ["session-minutes", "session-publish", "session-agenda-add"]:
        assert client.post(reverse(f"deliberation:{name}", args=[session.pk])).status_code == 404


def test_an_outsider_gets_404_for_action_items_projects_and_needs(client, outsider, topic,
                                                                  territory):
    item = ActionItemFactory(topic=topic)
    project = Project.objects.create(compound=territory.compound, kind="livelihood", title="x",
                                     owner_name="y")
    need = Need.objects.create(compound=territory.compound, title="x", source="visit")
    client.force_login(outsider)
    for name, pk in [("action-item-tick-off", item.pk), ("action-item-progress", item.pk),
                     ("project-tick-off", project.pk), ("need-resolve", need.pk)]:
        assert client.post(reverse(f"deliberation:{name}", args=[pk])).status_code == 404


def test_staff_confirm_a_project_tick_off_and_resolve_a_need_on_the_lists_page(
        client, community_staff, territory):
    project = project_create(compound=territory.compound, actor=community_staff,
                                      kind="livelihood", title="充电桩扩容", owner_name="物业")
    need = Need.objects.create(compound=territory.compound, title="x", source="visit")
    client.force_login(community_staff)
    page = client.get(reverse("deliberation:staff-lists")).content.decode()
    confirm_url = reverse("deliberation:project-tick-off", args=[project.pk])
    assert f'href="{confirm_url}?next=' in page
    assert "确认销号" in client.get(confirm_url).content.decode()
    client.post(confirm_url)  # the box is not ticked: nothing happens
    assert Project.objects.get().status != "ticked_off"
    client.post(confirm_url, {"confirm": "on"})
    client.post(reverse("deliberation:need-resolve", args=[need.pk]), {"resolution": "已解决"})
    assert Project.objects.get().status == "ticked_off"
    assert Need.objects.get().status == "resolved"


def test_anonymous_visitors_are_sent_to_the_public_results(client):
    assert client.get(reverse("deliberation:home")).url == reverse("deliberation:results")


@pytest.mark.parametrize("model", ["session", "topic", "actionitem", "need", "resource",
                                   "project", "survey", "surveyanswer", "listreview",
                                   "topicopinion", "topicrating", "topicsupport",
                                   "topicstatuschange", "sessionattendance", "actionevidence"])
def test_the_admin_lists_every_model(client, street_admin, many, model):
    client.force_login(street_admin)
    response = client.get(reverse(f"admin:deliberation_{model}_changelist"))
    assert response.status_code == 200


def test_the_admin_ticks_off_action_items_through_the_service(client, street_admin, topic):
    item = ActionItemFactory(topic=topic)
    client.force_login(street_admin)
    client.post(reverse("admin:deliberation_actionitem_changelist"),
                {"action": "tick_off", "_selected_action": [item.pk]})
    item.refresh_from_db()
    assert item.status == "done"


def test_a_resident_answers_the_survey_on_the_phone_once(client, resident_user, territory):
    survey = quarterly_survey(compound=territory.compound)
    client.force_login(resident_user)
    assert "参加测评" in client.get(reverse("deliberation:home")).content.decode()
    url = reverse("deliberation:survey-answer", args=[survey.pk])
    client.post(url, satisfaction_post(survey, "satisfied", need="增设快递柜"))
    response = client.post(url, satisfaction_post(survey, "satisfied"))
    assert "本户已经填写" in response.content.decode()
    assert survey.answers.count() == 1
    assert "参加测评" not in client.get(reverse("deliberation:home")).content.decode()


def test_the_qr_link_prefills_the_sign_in_code(client, resident_user, session):
    client.force_login(resident_user)
    url = reverse("deliberation:session-sign-in", args=[session.pk])
    page = client.get(url, {"code": session.sign_in_code}).content.decode()
    assert f'value="{session.sign_in_code}"' in page


# --- 落实事项: the board's order and the tick-off confirmation ------------------------------------

def _item_ids(page: str) -> list[int]:
    import re

    return [int(pk) for pk in re.findall(r'<tr id="item-(\d+)"', page)]


def test_the_action_board_and_the_topic_list_open_items_by_deadline_then_finished_ones(
        client, community_staff, topic):
    today = timezone.localdate()
    done_early = ActionItemFactory(topic=topic, deadline=today - timedelta(days=9),
                                   status="done", done_at=timezone.now())
    open_late = ActionItemFactory(topic=topic, deadline=today + timedelta(days=20))
    open_soon = ActionItemFactory(topic=topic, deadline=today + timedelta(days=2))
    done_late = ActionItemFactory(topic=topic, deadline=today + timedelta(days=30),
                                  status="done", done_at=timezone.now())
    client.force_login(community_staff)
    board = client.get(reverse("deliberation:action-items")).content.decode()
    detail = client.get(reverse("deliberation:topic-detail", args=[topic.pk])).content.decode()
    expected = [open_soon.pk, open_late.pk]
    assert _item_ids(board)[:2] == expected and _item_ids(detail)[:2] == expected
    assert set(_item_ids(board)[2:]) == set(_item_ids(detail)[2:]) == {done_early.pk,
                                                                       done_late.pk}


def test_tick_off_is_a_link_to_a_confirmation_page_not_a_one_click_post(client, community_staff,
                                                                       topic):
    item = ActionItemFactory(topic=topic, title="更换单元门禁灯具")
    url = reverse("deliberation:action-item-tick-off", args=[item.pk])
    client.force_login(community_staff)
    board = client.get(reverse("deliberation:action-items")).content.decode()
    assert f'action="{url}"' not in board and f'href="{url}?next=' in board
    confirm = client.get(url, {"next": reverse("deliberation:action-items")})
    page = confirm.content.decode()
    assert confirm.status_code == 200
    assert "更换单元门禁灯具" in page and 'type="checkbox"' in page and "确认销号" in page
    # Posting without ticking the box changes nothing and says why.
    refused = client.post(url, {"next": reverse("deliberation:action-items")})
    assert refused.status_code == 400 and "请勾选确认后再销号" in refused.content.decode()
    assert ActionItem.objects.get(pk=item.pk).status == "open"


def test_a_confirmed_tick_off_closes_the_item_and_returns_to_a_local_page_only(
        client, community_staff, topic):
    first, second = ActionItemFactory(topic=topic), ActionItemFactory(topic=topic)
    client.force_login(community_staff)
    board = reverse("deliberation:action-items")
    response = client.post(reverse("deliberation:action-item-tick-off", args=[first.pk]),
                           {"confirm": "on", "next": board})
    assert response.url == board
    response = client.post(reverse("deliberation:action-item-tick-off", args=[second.pk]),
                           {"confirm": "on", "next": "https://evil.example/"})
    assert response.url == reverse("deliberation:topic-detail", args=[topic.pk])
    assert set(ActionItem.objects.values_list("status", flat=True)) == {"done"}


def test_a_resident_owner_gets_404_for_the_tick_off_confirmation(client, neighbour, topic):
    item = ActionItemFactory(topic=topic, owner_user=neighbour)
    client.force_login(neighbour)
    url = reverse("deliberation:action-item-tick-off", args=[item.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"confirm": "on"}).status_code == 404


def test_an_answered_survey_shows_the_households_answer_and_says_so_once(
        client, resident_user, territory):
    from tests.accounts.factories import UserFactory
    from tests.residents.factories import ResidentFactory

    survey = quarterly_survey(compound=territory.compound)
    url = reverse("deliberation:survey-answer", args=[survey.pk])
    client.force_login(resident_user)
    client.post(url, satisfaction_post(survey, "basically", comment="楼道灯要修"))
    # Another member of the household opens the survey: the household's answer, no form.
    spouse = UserFactory(username="spouse", role="resident", phone="13800009999")
    ResidentFactory(household=territory.household1, name="王先生", user=spouse)
    client.force_login(spouse)
    page = client.get(url).content.decode()
    assert "本户已经填写过这份问卷。" in page
    assert "基本满意" in page
    assert "楼道灯要修" in page
    assert 'type="submit"' not in page.split("<main")[1]
    # A second answer posted anyway (an old tab): the refusal is said once.
    refused = client.post(url, satisfaction_post(survey, "satisfied")).content.decode()
    assert refused.count("本户已经填写过这份问卷。") == 1
    assert survey.answers.get().satisfaction == "basically"


def test_a_signed_out_resident_opening_a_topic_is_sent_to_the_resident_sign_in(client, topic):
    url = reverse("deliberation:topic-detail", args=[topic.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:phone-login"))
