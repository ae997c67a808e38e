from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from deliberation.models import ActionItem, Session, Topic


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    compound = None  # pass a Compound
    kind = Session.Kind.JOINT
    title = factory.Sequence(lambda n: f"议事会{n}")
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=3))
    place = "党群服务站"
    sign_in_code = "123456"


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic

    compound = None  # pass a Compound
    title = factory.Sequence(lambda n: f"议题{n}")
    proposer_name = "王阿姨"


class ActionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionItem

    topic = None
    title = factory.Sequence(lambda n: f"事项{n}")
    owner_name = "物业公司"
    deadline = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=7))


def quarterly_survey(*, compound, year: int = 2025, quarter: int = 4, opens_on=None,
                     closes_on=None, title: str = "2025年第4季度满意度测评"):
    """An opened quarterly satisfaction survey with its three questions, as the generator makes
    it (its window today unless given)."""
    from deliberation.models import Survey
    from deliberation.services.surveys import survey_quarterly_questions_create

    today = timezone.localdate()
    survey = Survey.objects.create(compound=compound, kind=Survey.Kind.QUARTERLY, year=year,
                                   quarter=quarter, title=title, opens_on=opens_on or today,
                                   closes_on=closes_on or today, opened_at=timezone.now())
    survey_quarterly_questions_create(surveys=[survey])
    return survey


def satisfaction_post(survey, satisfaction: str, comment: str = "", need: str = "") -> dict:
    """The phone form's POST for a quarterly survey: one field a question (`q<id>`)."""
    from deliberation.models import SurveyQuestion

    questions = {question.code: question for question in survey.questions.all()}
    option = questions[SurveyQuestion.Code.SATISFACTION].options.get(code=satisfaction)
    return {f"q{questions['satisfaction'].pk}": option.pk,
            f"q{questions['comment'].pk}": comment, f"q{questions['need'].pk}": need}
