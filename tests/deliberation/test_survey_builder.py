"""The survey builder: staff build and open a questionnaire for a compound, households answer it
once inside its window, and its results (n per question, bars) reach the residents only after it
closes, its short texts never."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.exceptions import ApplicationError, PermissionDeniedError
from deliberation.models import Need, Survey, SurveyQuestion, SurveyResponse
from deliberation.services.surveys import (
    survey_create,
    survey_open,
    survey_question_add,
    survey_question_remove,
    survey_respond,
)
from tests.accounts.factories import UserFactory
from tests.residents.factories import HouseholdFactory, ResidentFactory

OPENS = date(2026, 3, 1)
CLOSES = date(2026, 3, 14)


def _at(day: date) -> time_machine.travel:
    return time_machine.travel(timezone.make_aware(
        timezone.datetime(day.year, day.month, day.day, 10)), tick=False)


def _build(territory, staff, *, opens_on: date = OPENS, closes_on: date = CLOSES) -> Survey:
    """A three-question survey (single choice, 1–5 scale, short text) plus a multiple choice."""
    survey = survey_create(actor=staff, compound=territory.compound, title="加装电梯意愿调查",
                           opens_on=opens_on, closes_on=closes_on)
    survey_question_add(survey=survey, actor=staff, kind="single", text="是否同意加装电梯",
                        options=["同意", "不同意", "无所谓"])
    survey_question_add(survey=survey, actor=staff, kind="scale", text="对楼道卫生打分")
    survey_question_add(survey=survey, actor=staff, kind="multiple", text="希望增加的设施",
                        options=["充电桩", "健身器材", "快递柜"], is_required=False)
    survey_question_add(survey=survey, actor=staff, kind="text", text="其他建议",
                        is_required=False)
    return survey


@pytest.fixture
def survey(territory, community_staff) -> Survey:
    with _at(OPENS - timedelta(days=2)):
        built = _build(territory, community_staff)
        return survey_open(survey=built, actor=community_staff)


def _questions(survey: Survey) -> list[SurveyQuestion]:
    return list(survey.questions.prefetch_related("options"))


def _responses(survey: Survey, *, agree: int = 0, score: int = 4, facilities=(0, 2),
               text: str = "楼下13912345678的车总占消防通道") -> dict:
    single, scale, multiple, free = _questions(survey)
    options = list(multiple.options.all())
    return {single.pk: list(single.options.all())[agree].pk, scale.pk: score,
            multiple.pk: [options[index].pk for index in facilities], free.pk: text}


_PHONES = iter(range(1000, 9999))


def _household_member(territory, username: str, household=None):
    user = UserFactory(username=username, role="resident", phone=f"1390000{next(_PHONES)}")
    ResidentFactory(household=household or HouseholdFactory(unit=territory.household1.unit),
                    name="居民", user=user)
    return user


# --- building ---------------------------------------------------------------------------------

def test_staff_build_a_draft_with_the_four_kinds_in_order(territory, community_staff):
    survey = _build(territory, community_staff)
    assert survey.is_draft
    assert [(question.position, question.kind) for question in _questions(survey)] == [
        (1, "single"), (2, "scale"), (3, "multiple"), (4, "text")]
    assert [option.label for option in _questions(survey)[0].options.all()] == [
        "同意", "不同意", "无所谓"]


def test_a_choice_question_needs_two_distinct_options(territory, community_staff):
    survey = survey_create(actor=community_staff, compound=territory.compound, title="t",
                           opens_on=OPENS, closes_on=CLOSES)
    with pytest.raises(ApplicationError, match="2 至 20"):
        survey_question_add(survey=survey, actor=community_staff, kind="single", text="q",
                            options=["只有一个"])
    with pytest.raises(ApplicationError, match="重复"):
        survey_question_add(survey=survey, actor=community_staff, kind="multiple", text="q",
                            options=["甲", "甲"])


def test_the_window_must_not_end_before_it_begins(territory, community_staff):
    with pytest.raises(ApplicationError, match="截止日期不能早于开始日期"):
        survey_create(actor=community_staff, compound=territory.compound, title="t",
                      opens_on=CLOSES, closes_on=OPENS)


def test_a_resident_or_other_communitys_staff_may_not_build(territory, resident_user,
                                                            outsider):
    for actor in (resident_user, outsider):
        with pytest.raises(PermissionDeniedError, match="只有社区工作人员"):
            survey_create(actor=actor, compound=territory.compound, title="t", opens_on=OPENS,
                          closes_on=CLOSES)


def test_an_empty_draft_cannot_be_opened(territory, community_staff):
    survey = survey_create(actor=community_staff, compound=territory.compound, title="t",
                           opens_on=OPENS, closes_on=CLOSES)
    with _at(OPENS), pytest.raises(ApplicationError, match="请先添加题目"):
        survey_open(survey=survey, actor=community_staff)


def test_a_draft_whose_window_has_passed_cannot_be_opened(territory, community_staff):
    survey = _build(territory, community_staff)
    with _at(CLOSES + timedelta(days=1)), pytest.raises(ApplicationError, match="截止日期已过"):
        survey_open(survey=survey, actor=community_staff)


def test_questions_are_frozen_once_the_survey_is_opened(survey, community_staff):
    with pytest.raises(ApplicationError, match="题目不能再修改"):
        survey_question_add(survey=survey, actor=community_staff, kind="text", text="再加一题")
    with pytest.raises(ApplicationError, match="题目不能再修改"):
        survey_question_remove(question=_questions(survey)[0], actor=community_staff)
    with pytest.raises(ApplicationError, match="题目不能再修改"):
        survey_open(survey=survey, actor=community_staff)


def test_a_drafts_question_can_be_removed(territory, community_staff):
    survey = _build(territory, community_staff)
    survey_question_remove(question=_questions(survey)[3], actor=community_staff)
    assert survey.questions.count() == 3


# --- answering --------------------------------------------------------------------------------

def test_a_household_answers_once_and_every_answer_is_a_response(survey, resident_user,
                                                                 territory):
    with _at(OPENS):
        answer = survey_respond(survey=survey, actor=resident_user,
                                responses=_responses(survey))
    assert answer.household_id == territory.household1.pk
    # One row per chosen option of the multiple choice: 1 + 1 + 2 + 1.
    assert SurveyResponse.objects.filter(answer=answer).count() == 5
    spouse = _household_member(territory, "spouse", household=territory.household1)
    with _at(OPENS), pytest.raises(ApplicationError, match="本户已经填写过这份问卷"):
        survey_respond(survey=survey, actor=spouse, responses=_responses(survey, agree=1))
    assert survey.answers.count() == 1


def test_a_second_member_of_the_household_sees_it_answered_instead_of_a_form(
        client, survey, resident_user, territory):
    with _at(OPENS):
        survey_respond(survey=survey, actor=resident_user, responses=_responses(survey))
        spouse = _household_member(territory, "spouse", household=territory.household1)
        client.force_login(spouse)
        page = client.get(reverse("deliberation:survey-answer", args=[survey.pk])).content
        home = client.get(reverse("deliberation:home")).content.decode()
    text = page.decode()
    assert "本户已经填写过这份问卷。" in text
    assert "同意" in text and "4 分" in text
    assert 'type="submit"' not in text.split("<main")[1]
    assert "加装电梯意愿调查" not in home


@pytest.mark.parametrize(("day", "is_accepted"), [
    (OPENS - timedelta(days=1), False), (OPENS, True), (CLOSES, True),
    (CLOSES + timedelta(days=1), False)])
def test_answers_are_taken_only_inside_the_window(survey, resident_user, day, is_accepted):
    with _at(day):
        if is_accepted:
            survey_respond(survey=survey, actor=resident_user, responses=_responses(survey))
        else:
            with pytest.raises(ApplicationError, match="不在开放时间内"):
                survey_respond(survey=survey, actor=resident_user,
                               responses=_responses(survey))
    assert survey.answers.count() == int(is_accepted)


def test_a_draft_is_neither_shown_nor_answerable(client, territory, community_staff,
                                                 resident_user):
    draft = _build(territory, community_staff, opens_on=timezone.localdate(),
                   closes_on=timezone.localdate())
    client.force_login(resident_user)
    assert client.get(reverse("deliberation:survey-answer", args=[draft.pk])).status_code == 404
    assert draft.title not in client.get(reverse("deliberation:home")).content.decode()
    with pytest.raises(ApplicationError, match="不在开放时间内"):
        survey_respond(survey=draft, actor=resident_user, responses=_responses(draft))


def test_only_the_compounds_residents_may_answer(survey, other_resident, community_staff):
    for actor in (other_resident, community_staff):
        with _at(OPENS), pytest.raises(PermissionDeniedError, match="只有本小区居民可以参加测评"):
            survey_respond(survey=survey, actor=actor, responses=_responses(survey))


def test_a_required_question_left_blank_is_refused_by_name(survey, resident_user):
    responses = _responses(survey)
    responses[_questions(survey)[1].pk] = None
    with _at(OPENS), pytest.raises(ApplicationError, match="请回答：对楼道卫生打分"):
        survey_respond(survey=survey, actor=resident_user, responses=responses)


@pytest.mark.parametrize("position", [0, 1, 2])
def test_an_option_of_another_question_or_a_score_outside_1_to_5_is_refused(
        survey, resident_user, position):
    responses = _responses(survey)
    question = _questions(survey)[position]
    foreign_option = _questions(survey)[2 - position if position != 1 else 0]
    responses[question.pk] = {0: foreign_option.options.first().pk if position == 0 else 0,
                              1: 6, 2: [_questions(survey)[0].options.first().pk]}[position]
    with _at(OPENS), pytest.raises(ApplicationError, match=r"选项无效|1 至 5 分"):
        survey_respond(survey=survey, actor=resident_user, responses=responses)
    assert not survey.answers.exists()


def test_a_resident_answers_on_the_phone_form(client, survey, resident_user):
    single, scale, multiple, free = _questions(survey)
    client.force_login(resident_user)
    url = reverse("deliberation:survey-answer", args=[survey.pk])
    with _at(OPENS):
        page = client.get(url).content.decode()
        assert f'name="q{multiple.pk}"' in page and 'type="checkbox"' in page
        response = client.post(url, {f"q{single.pk}": single.options.first().pk,
                                     f"q{scale.pk}": "5",
                                     f"q{multiple.pk}": [option.pk for option in
                                                         multiple.options.all()[:2]],
                                     f"q{free.pk}": "多种树"})
    assert response.status_code == 302
    assert SurveyResponse.objects.filter(answer__survey=survey).count() == 5


def test_the_phone_form_names_a_missing_required_answer(client, survey, resident_user):
    client.force_login(resident_user)
    with _at(OPENS):
        response = client.post(reverse("deliberation:survey-answer", args=[survey.pk]), {})
    assert response.status_code == 400
    assert "请回答：是否同意加装电梯" in response.content.decode()


def test_the_quarterly_surveys_need_goes_onto_the_needs_list(territory, resident_user):
    from tests.deliberation.factories import quarterly_survey

    quarterly = quarterly_survey(compound=territory.compound)
    satisfaction, comment, need = _questions(quarterly)
    answer = survey_respond(survey=quarterly, actor=resident_user, responses={
        satisfaction.pk: satisfaction.options.get(code="basically").pk, comment.pk: "灯",
        need.pk: "增设快递柜"})
    assert (answer.satisfaction, answer.comment) == ("basically", "灯")
    assert Need.objects.get(survey_answer=answer).title == "增设快递柜"


# --- results ----------------------------------------------------------------------------------

@pytest.fixture
def answered(survey, territory, resident_user, neighbour):
    """Four households answered: three agree, one does not; scores 5, 4, 4, 2."""
    others = [_household_member(territory, f"household{index}") for index in range(2)]
    with _at(OPENS + timedelta(days=3)):
        for actor, agree, score in [(resident_user, 0, 5), (neighbour, 0, 4),
                                    (others[0], 0, 4), (others[1], 1, 2)]:
            survey_respond(survey=survey, actor=actor,
                           responses=_responses(survey, agree=agree, score=score,
                                                text=f"{actor.username}的建议"))
    return survey


def test_residents_see_no_results_before_the_survey_closes(client, answered, neighbour):
    client.force_login(neighbour)
    url = reverse("deliberation:survey-results", args=[answered.pk])
    with _at(CLOSES):
        assert client.get(url).status_code == 404
        home = client.get(reverse("deliberation:home")).content.decode()
        assert "survey-results-list" not in home
    with _at(CLOSES + timedelta(days=1)):
        assert client.get(url).status_code == 200
        assert url in client.get(reverse("deliberation:home")).content.decode()


def test_staff_see_live_results_before_it_closes(client, answered, community_staff):
    client.force_login(community_staff)
    with _at(CLOSES):
        page = client.get(reverse("deliberation:survey-results", args=[answered.pk]))
    assert page.status_code == 200
    assert "仅工作人员可见" in page.content.decode()


def test_the_results_show_n_and_the_distribution_of_each_question(client, answered,
                                                                  neighbour):
    client.force_login(neighbour)
    with _at(CLOSES + timedelta(days=1)):
        page = client.get(reverse("deliberation:survey-results", args=[answered.pk]))
    text = page.content.decode()
    assert "4 户参与" in text
    assert text.count("n = 4 户作答") == 4
    assert "3 户 · 75%" in text and "1 户 · 25%" in text
    assert "平均 3.8 分" in text
    assert 'style="width: 75%"' in text


def test_free_text_answers_are_shown_to_staff_only(client, answered, neighbour,
                                                   community_staff):
    url = reverse("deliberation:survey-results", args=[answered.pk])
    with _at(CLOSES + timedelta(days=1)):
        client.force_login(neighbour)
        resident_page = client.get(url).content.decode()
        client.force_login(community_staff)
        staff_page = client.get(url).content.decode()
    assert "的建议" not in resident_page
    assert "文字回答仅工作人员可见" in resident_page
    assert "resident的建议" in staff_page and "neighbour的建议" in staff_page


def test_an_outsider_gets_404_for_the_results_and_the_builder(client, answered, outsider,
                                                             other_resident):
    with _at(CLOSES + timedelta(days=1)):
        for user in (outsider, other_resident):
            client.force_login(user)
            assert client.get(reverse("deliberation:survey-results",
                                      args=[answered.pk])).status_code == 404
            assert client.get(reverse("deliberation:survey-build",
                                      args=[answered.pk])).status_code == 404
            assert client.post(reverse("deliberation:survey-open",
                                       args=[answered.pk])).status_code == 404


def test_the_results_page_takes_the_same_few_queries_whatever_the_answers(
        client, answered, neighbour, community_staff, django_assert_num_queries):
    url = reverse("deliberation:survey-results", args=[answered.pk])
    with _at(CLOSES + timedelta(days=1)):
        client.force_login(neighbour)
        # session + user, the survey, the staff check, questions + options, counts, n per
        # question, households, the header's unread count.
        with django_assert_num_queries(10):
            assert client.get(url).status_code == 200
        client.force_login(community_staff)
        # ... and, for staff, the texts (the scope area comes with the user).
        with django_assert_num_queries(11):
            assert client.get(url).status_code == 200


# --- staff pages ------------------------------------------------------------------------------

def test_staff_build_and_open_a_survey_in_the_pages(client, territory, community_staff):
    client.force_login(community_staff)
    today = timezone.localdate()
    response = client.post(reverse("deliberation:survey-create"), {
        "compound": territory.compound.pk, "title": "停车问卷", "description": "",
        "opens_on": today.isoformat(), "closes_on": (today + timedelta(days=7)).isoformat()})
    survey = Survey.objects.get(title="停车问卷")
    assert response.url == reverse("deliberation:survey-build", args=[survey.pk])
    add = reverse("deliberation:survey-question-add", args=[survey.pk])
    client.post(add, {"kind": "single", "text": "车位够吗", "is_required": "on",
                      "options": "够\n不够\n"})
    client.post(add, {"kind": "scale", "text": "满意程度", "is_required": "on"})
    client.post(add, {"kind": "text", "text": "建议", "options": ""})
    page = client.get(reverse("deliberation:survey-build", args=[survey.pk])).content.decode()
    assert "车位够吗" in page and "不够" in page and "发布问卷" in page
    client.post(reverse("deliberation:survey-open", args=[survey.pk]))
    survey.refresh_from_db()
    assert not survey.is_draft and survey.questions.count() == 3


def test_the_staff_survey_list_takes_the_same_queries_for_many_surveys(
        client, territory, community_staff, django_assert_num_queries):
    client.force_login(community_staff)
    url = reverse("deliberation:staff-surveys")
    _build(territory, community_staff)
    client.get(url)
    with django_assert_num_queries(6) as one:
        client.get(url)
    for _index in range(4):
        _build(territory, community_staff)
    with django_assert_num_queries(len(one.captured_queries)):
        page = client.get(url).content.decode()
    assert page.count("加装电梯意愿调查") == 5


def test_the_residents_home_lists_published_results_in_a_constant_number_of_queries(
        client, territory, community_staff, resident_user, django_assert_num_queries):
    client.force_login(resident_user)
    url = reverse("deliberation:home")
    with _at(OPENS - timedelta(days=1)):
        survey_open(survey=_build(territory, community_staff), actor=community_staff)
    with _at(CLOSES + timedelta(days=1)):
        client.get(url)
        with CaptureQueriesContext(connection) as one:
            client.get(url)
    with _at(OPENS - timedelta(days=1)):
        for _index in range(2):
            survey_open(survey=_build(territory, community_staff), actor=community_staff)
    with _at(CLOSES + timedelta(days=1)), django_assert_num_queries(len(one.captured_queries)):
        response = client.get(url)
    assert response.content.decode().count("加装电梯意愿调查") == 3


# --- the quarterly survey as a survey with questions --------------------------------------------

def test_the_quarterly_generator_gives_each_survey_its_questions_once(territory):
    from deliberation.services.surveys import surveys_generate_quarterly

    surveys_generate_quarterly(today=date(2025, 6, 25))
    surveys_generate_quarterly(today=date(2025, 6, 26))
    survey = Survey.objects.get(compound=territory.compound)
    assert survey.kind == "quarterly" and not survey.is_draft
    assert [(question.kind, question.code) for question in _questions(survey)] == [
        ("single", "satisfaction"), ("text", "comment"), ("text", "need")]
    assert [option.code for option in _questions(survey)[0].options.all()] == [
        "satisfied", "basically", "dissatisfied"]


def test_the_migration_keeps_every_quarterly_answer_as_responses(territory):
    """0003's data step turns each existing quarterly survey into one with questions and copies
    every answer (satisfaction, comment, need) onto them; the answer rows themselves stay.
    (Called on today's models: `make test` builds the database without migrations.)"""
    import importlib

    from django.apps import apps

    from deliberation.models import SurveyAnswer

    migration = importlib.import_module("deliberation.migrations.0003_survey_builder")
    survey = Survey.objects.create(compound=territory.compound, year=2025, quarter=1,
                                   title="2025年第1季度", opens_on=date(2025, 3, 20),
                                   closes_on=date(2025, 4, 15))
    first = SurveyAnswer.objects.create(survey=survey, household=territory.household1,
                                        satisfaction="basically", comment="楼道灯要修")
    SurveyAnswer.objects.create(survey=survey, household=territory.household2,
                                satisfaction="satisfied")
    Need.objects.create(compound=territory.compound, title="增设快递柜", source="survey",
                        survey_answer=first)
    migration.quarterly_surveys_to_questions(apps, None)
    migrated = Survey.objects.get(pk=survey.pk)
    assert migrated.kind == "quarterly" and migrated.opened_at is not None
    rows = set(SurveyResponse.objects.filter(answer__survey=migrated).values_list(
        "answer__household_id", "question__code", "option__code", "text"))
    assert rows == {
        (territory.household1.pk, "satisfaction", "basically", ""),
        (territory.household1.pk, "comment", None, "楼道灯要修"),
        (territory.household1.pk, "need", None, "增设快递柜"),
        (territory.household2.pk, "satisfaction", "satisfied", ""),
    }
    assert set(migrated.answers.values_list("satisfaction", flat=True)) == {"basically",
                                                                            "satisfied"}


def test_a_household_answers_a_built_survey_through_the_api_once(survey, resident_user,
                                                                 territory):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(resident_user)
    url = reverse("api:deliberation-survey-answers", args=[survey.pk])
    body = {"responses": {str(key): value for key, value in _responses(survey).items()}}
    with _at(OPENS):
        assert api.post(url, body, format="json").status_code == 201
        spouse = _household_member(territory, "spouse", household=territory.household1)
        api.force_authenticate(spouse)
        refused = api.post(url, body, format="json")
        assert refused.status_code == 400
        assert "本户已经填写过这份问卷" in refused.json()["message"]
        listed = api.get(reverse("api:deliberation-survey-list")).json()["results"]
    assert [(row["kind"], row["answer_count"]) for row in listed] == [("questionnaire", 1)]


# --- the admin --------------------------------------------------------------------------------

def test_the_admin_edits_a_drafts_questions_inline_and_freezes_an_opened_one(
        client, territory, community_staff, street_admin, survey):
    draft = _build(territory, community_staff)
    client.force_login(street_admin)
    draft_page = client.get(reverse("admin:deliberation_survey_change", args=[draft.pk]))
    assert draft_page.status_code == 200
    assert 'name="questions-TOTAL_FORMS"' in draft_page.content.decode()
    opened_page = client.get(reverse("admin:deliberation_survey_change", args=[survey.pk]))
    assert "是否同意加装电梯" in opened_page.content.decode()
    # Opened: the questions show, read-only (no editable field).
    assert 'name="questions-0-text"' not in opened_page.content.decode()
    question = _questions(draft)[0]
    page = client.get(reverse("admin:deliberation_surveyquestion_change", args=[question.pk]))
    assert 'name="options-0-label"' in page.content.decode()
    assert client.get(reverse("admin:deliberation_surveyquestion_changelist")).status_code == 200


def test_the_api_ignores_a_response_key_that_is_not_an_ascii_question_id_instead_of_a_500(
        survey, resident_user):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(resident_user)
    url = reverse("api:deliberation-survey-answers", args=[survey.pk])
    body = {"responses": {**{str(key): value for key, value in _responses(survey).items()},
                          "²": "x", "9" * 5000: "x"}}
    with _at(OPENS):
        assert api.post(url, body, format="json").status_code == 201
