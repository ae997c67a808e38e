"""Quarterly survey (one answer per household), the three lists and their quarterly review."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from accounts.models import User
from core.exceptions import ApplicationError, InvalidTransition, PermissionDeniedError
from deliberation.models import ListReview, Need, Survey
from deliberation.services.lists import (
    list_review_complete,
    milestone_add,
    milestone_complete,
    need_create,
    project_create,
    project_tick_off,
    resource_create,
)
from deliberation.services.surveys import survey_answer_submit, surveys_generate_quarterly
from deliberation.tasks import list_reviews_remind_task, surveys_generate_quarterly_task
from tests.accounts.factories import UserFactory
from tests.residents.factories import ResidentFactory


def test_the_quarterly_survey_opens_at_quarter_end_once_per_compound(territory):
    with time_machine.travel(date(2025, 3, 10), tick=False):
        assert surveys_generate_quarterly_task() == 0
    with time_machine.travel(date(2025, 3, 25), tick=False):
        assert surveys_generate_quarterly_task() == 2
        assert surveys_generate_quarterly_task() == 0
    survey = Survey.objects.get(compound=territory.compound)
    assert (survey.year, survey.quarter, survey.closes_on) == (2025, 1, date(2025, 4, 15))


def test_the_fourth_quarter_survey_closes_in_the_new_year(territory):
    surveys_generate_quarterly(today=date(2025, 12, 31))
    survey = Survey.objects.get(compound=territory.compound)
    assert (survey.quarter, survey.closes_on) == (4, date(2026, 1, 15))


@pytest.fixture
def survey(territory):
    surveys_generate_quarterly(today=date(2025, 6, 25))
    return Survey.objects.get(compound=territory.compound)


def test_one_answer_per_household(survey, resident_user, territory):
    spouse = UserFactory(username="spouse", role=User.Role.RESIDENT, phone="13800009999")
    ResidentFactory(household=territory.household1, name="王先生", user=spouse)
    with time_machine.travel(date(2025, 6, 28), tick=False):
        survey_answer_submit(survey=survey, actor=resident_user,
                                      satisfaction="satisfied")
        with pytest.raises(ApplicationError, match="本户已经填写"):
            survey_answer_submit(survey=survey, actor=spouse, satisfaction="basically")
    assert survey.answers.count() == 1


def test_the_survey_refuses_outsiders_and_late_answers(survey, other_resident, resident_user):
    with time_machine.travel(date(2025, 6, 28), tick=False), pytest.raises(
            PermissionDeniedError, match="只有本小区居民可以参加测评"):
        survey_answer_submit(survey=survey, actor=other_resident,
                                      satisfaction="satisfied")
    with time_machine.travel(date(2025, 8, 1), tick=False), pytest.raises(
            ApplicationError, match="开放时间"):
        survey_answer_submit(survey=survey, actor=resident_user,
                                      satisfaction="satisfied")


def test_a_project_links_needs_and_resources_and_ticking_it_off_resolves_them(
        territory, community_staff):
    need = need_create(compound=territory.compound, actor=community_staff,
                                title="夜间照明不足", source="hotline")
    resource = resource_create(compound=territory.compound, actor=community_staff,
                                        kind="partner_unit", name="供电所", offers="线路改造")
    project = project_create(
        compound=territory.compound, actor=community_staff, kind="livelihood",
        title="门禁亮化改造", owner_name="物业", budget=Decimal("52000"), need_ids=[need.pk],
        resource_ids=[resource.pk])
    assert Need.objects.get(pk=need.pk).status == "matched"
    milestone = milestone_add(project=project, actor=community_staff, title="完工",
                                       due_on=date(2025, 5, 1))
    milestone_complete(milestone=milestone, actor=community_staff)
    with pytest.raises(ApplicationError, match="已完成"):
        milestone_complete(milestone=milestone, actor=community_staff)
    project_tick_off(project=project, actor=community_staff)
    assert Need.objects.get(pk=need.pk).status == "resolved"
    with pytest.raises(InvalidTransition, match="不能从“已销号”变为“已销号”"):
        project_tick_off(project=project, actor=community_staff)


def test_a_project_cannot_take_needs_of_another_compound(territory, community_staff,
                                                          street_admin):
    foreign = need_create(compound=territory.other_compound, actor=street_admin,
                                   title="x", source="visit")
    project = project_create(compound=territory.compound, actor=community_staff,
                                      kind="livelihood", title="x", owner_name="y",
                                      need_ids=[foreign.pk])
    assert project.needs.count() == 0


def test_lists_refuse_residents_and_bad_input(territory, resident_user, community_staff):
    with pytest.raises(PermissionDeniedError, match="只有社区工作人员或小区党支部书记可以办理"):
        need_create(compound=territory.compound, actor=resident_user, title="x",
                             source="visit")
    with pytest.raises(ApplicationError, match="来源"):
        need_create(compound=territory.compound, actor=community_staff, title="x",
                             source="rumour")
    with pytest.raises(ApplicationError, match="预算"):
        project_create(compound=territory.compound, actor=community_staff,
                                kind="livelihood", title="x", owner_name="y",
                                budget=Decimal(-1))


def test_the_quarterly_list_review_reminds_staff_once(territory, community_staff):
    from notifications.models import Notification

    with time_machine.travel(date(2025, 9, 25), tick=False):
        list_reviews_remind_task()
        list_reviews_remind_task()
    assert ListReview.objects.filter(compound=territory.compound, quarter=3).count() == 1
    assert Notification.objects.filter(user=community_staff).count() == 1
    review = ListReview.objects.get(compound=territory.compound)
    list_review_complete(review=review, actor=community_staff)
    with pytest.raises(ApplicationError, match="已复盘"):
        list_review_complete(review=review, actor=community_staff)
