"""Surveys: staff build a questionnaire, open it to a compound for a window of days, households
answer it once; the quarterly satisfaction survey is one of them, opened near each quarter's end.

Rules (each tested in tests/deliberation/test_survey_builder.py):
- only the compound's staff build and open; questions change only while it is a draft;
- only the compound's residents answer, only inside the window, once per household;
- the results are the residents' once it has closed (selectors.survey_results_get).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError, PermissionDeniedError
from deliberation import conf
from deliberation.models import (
    Need,
    Satisfaction,
    Survey,
    SurveyAnswer,
    SurveyOption,
    SurveyQuestion,
    SurveyResponse,
)
from deliberation.rules import require_staff
from deliberation.selectors import resident_in_compound
from territory.models import Compound

if TYPE_CHECKING:
    from accounts.models import User

TEXT_MAX = 500
OPTIONS_MAX = 20


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_end(year: int, quarter: int) -> date:
    month = quarter * 3
    return date(year, month, calendar.monthrange(year, month)[1])


# --- the quarterly satisfaction survey --------------------------------------------------------

def surveys_generate_quarterly(*, today: date) -> int:
    """Open each compound's satisfaction survey near the quarter's end (idempotent).

    1. one survey row per compound and quarter (the unique constraint makes a second run and a
       concurrent run no-ops);
    2. the quarter's surveys still without questions, locked (skip_locked: a concurrent run
       takes the others), get the three questions of the quarterly form.
    """
    year, quarter = quarter_of(today)
    end = quarter_end(year, quarter)
    if today < end - timedelta(days=conf.survey_days_before_quarter_end()):
        return 0
    compound_ids = list(Compound.objects.values_list("id", flat=True))
    before = Survey.objects.filter(year=year, quarter=quarter).count()
    now = timezone.now()
    Survey.objects.bulk_create([
        Survey(compound_id=compound_id, kind=Survey.Kind.QUARTERLY, year=year, quarter=quarter,
               title=_("%(year)s年第%(quarter)s季度满意度测评") % {"year": year,
                                                                 "quarter": quarter},
               opens_on=today, opened_at=now,
               closes_on=end + timedelta(days=conf.survey_days_after_quarter_end()))
        for compound_id in compound_ids
    ], ignore_conflicts=True)
    with transaction.atomic():
        bare = list(Survey.objects.select_for_update(skip_locked=True)
                    .filter(year=year, quarter=quarter, kind=Survey.Kind.QUARTERLY)
                    .exclude(pk__in=SurveyQuestion.objects.values("survey_id")))
        survey_quarterly_questions_create(surveys=bare)
    return Survey.objects.filter(year=year, quarter=quarter).count() - before


def survey_quarterly_questions_create(*, surveys: list[Survey]) -> None:
    """The quarterly form as questions: 总体评价 (single choice), 意见建议, 希望解决的一件事."""
    questions: list[SurveyQuestion] = []
    for survey in surveys:
        questions += [
            SurveyQuestion(survey=survey, position=1, kind=SurveyQuestion.Kind.SINGLE,
                           code=SurveyQuestion.Code.SATISFACTION,
                           text=_("您对本季度小区治理的总体评价")),
            SurveyQuestion(survey=survey, position=2, kind=SurveyQuestion.Kind.TEXT,
                           code=SurveyQuestion.Code.COMMENT, text=_("意见建议"),
                           is_required=False),
            SurveyQuestion(survey=survey, position=3, kind=SurveyQuestion.Kind.TEXT,
                           code=SurveyQuestion.Code.NEED,
                           text=_("您希望解决的一件事（将进入需求清单）"), is_required=False),
        ]
    created = SurveyQuestion.objects.bulk_create(questions)
    SurveyOption.objects.bulk_create([
        SurveyOption(question=question, position=index, label=str(label), code=value)
        for question in created if question.code == SurveyQuestion.Code.SATISFACTION
        for index, (value, label) in enumerate(Satisfaction.choices, start=1)
    ])


def survey_answer_submit(
    *, survey: Survey, actor: User, satisfaction: str, comment: str = "", need: str = "",
) -> SurveyAnswer:
    """The quarterly form's three fields (the API's and the old page's shape), as responses."""
    questions = {question.code: question for question in survey.questions.all()}
    question = questions.get(SurveyQuestion.Code.SATISFACTION)
    if question is None:
        raise ApplicationError(_("该问卷不是季度满意度测评，请逐题作答。"))
    option = question.options.filter(code=satisfaction).first()
    if option is None:
        raise ApplicationError(_("请选择总体评价。"))
    responses: dict[int, Any] = {question.pk: option.pk}
    for code, text in [(SurveyQuestion.Code.COMMENT, comment), (SurveyQuestion.Code.NEED, need)]:
        if code in questions:
            responses[questions[code].pk] = text
    return survey_respond(survey=survey, actor=actor, responses=responses)


# --- building a questionnaire -----------------------------------------------------------------

def survey_create(
    *, actor: User, compound: Compound, title: str, opens_on: date, closes_on: date,
    description: str = "",
) -> Survey:
    require_staff(actor, compound.pk)
    _check_window(opens_on, closes_on)
    return Survey.objects.create(compound=compound, kind=Survey.Kind.QUESTIONNAIRE,
                                 title=title, description=description, opens_on=opens_on,
                                 closes_on=closes_on, created_by=actor)


def _check_window(opens_on: date, closes_on: date) -> None:
    if closes_on < opens_on:
        raise ApplicationError(_("截止日期不能早于开始日期。"))


def _lock_draft(survey: Survey, actor: User) -> Survey:
    require_staff(actor, survey.compound_id)
    locked = Survey.objects.select_for_update().get(pk=survey.pk)
    if not locked.is_draft:
        raise ApplicationError(_("问卷已发布，题目不能再修改。"))
    return locked


def survey_question_add(
    *, survey: Survey, actor: User, kind: str, text: str, is_required: bool = True,
    options: list[str] | None = None,
) -> SurveyQuestion:
    """A question at the end of a draft; a choice question needs two to twenty options."""
    labels = [label.strip()[:100] for label in options or [] if label.strip()]
    if kind not in SurveyQuestion.Kind.values:
        raise ApplicationError(_("请选择题型。"))
    if kind in SurveyQuestion.CHOICE_KINDS and not 2 <= len(labels) <= OPTIONS_MAX:
        raise ApplicationError(_("选择题需要 2 至 20 个选项，每行一个。"))
    if len(set(labels)) != len(labels):
        raise ApplicationError(_("选项不能重复。"))
    with transaction.atomic():
        locked = _lock_draft(survey, actor)
        last = locked.questions.aggregate(last=Max("position"))["last"] or 0
        question = SurveyQuestion.objects.create(survey=locked, position=last + 1, kind=kind,
                                                 text=text.strip()[:200],
                                                 is_required=is_required)
        if kind in SurveyQuestion.CHOICE_KINDS:
            SurveyOption.objects.bulk_create([
                SurveyOption(question=question, position=index, label=label)
                for index, label in enumerate(labels, start=1)])
    return question


def survey_question_remove(*, question: SurveyQuestion, actor: User) -> Survey:
    with transaction.atomic():
        locked = _lock_draft(question.survey, actor)
        question.delete()
    return locked


def survey_open(*, survey: Survey, actor: User) -> Survey:
    """Publish a draft to the compound's residents: it needs a question and a window not past;
    from now on its questions are fixed (answers refer to them)."""
    with transaction.atomic():
        locked = _lock_draft(survey, actor)
        if not locked.questions.exists():
            raise ApplicationError(_("请先添加题目。"))
        if locked.closes_on < timezone.localdate():
            raise ApplicationError(_("截止日期已过，请重新设置开放时间。"))
        locked.opened_at = timezone.now()
        locked.save(update_fields=["opened_at", "updated_at"])
    return locked


# --- answering --------------------------------------------------------------------------------

def survey_respond(
    *, survey: Survey, actor: User, responses: Mapping[int, Any],
) -> SurveyAnswer:
    """A household's answer: `responses` maps a question's id to an option id (single choice),
    a list of option ids (multiple choice), a score 1–5, or a text.

    1. the actor lives in the compound, and today is inside the opened survey's window;
    2. every answer is checked against its question (required ones answered, options its own);
    3. one answer row per household (the unique constraint decides a race), its responses, and
       the quarterly survey's satisfaction / comment copied onto it and its need listed.
    """
    resident = resident_in_compound(actor, survey.compound_id)
    if resident is None:
        raise PermissionDeniedError(_("只有本小区居民可以参加测评。"))
    if not survey.is_open_on(timezone.localdate()):
        raise ApplicationError(_("测评不在开放时间内。"))
    questions = list(survey.questions.prefetch_related("options"))
    rows = [row for question in questions
            for row in _responses_for(question, responses.get(question.pk))]
    by_code = {question.code: question.pk for question in questions if question.code}
    try:
        with transaction.atomic():
            answer = SurveyAnswer.objects.create(
                survey=survey, household=resident.household, user=actor,
                satisfaction=_coded_option(rows, by_code.get(SurveyQuestion.Code.SATISFACTION)),
                comment=_text_of(rows, by_code.get(SurveyQuestion.Code.COMMENT)))
            for row in rows:
                row.answer = answer
            SurveyResponse.objects.bulk_create(rows)
            need = _text_of(rows, by_code.get(SurveyQuestion.Code.NEED)).strip()
            if need:
                Need.objects.create(compound_id=survey.compound_id, title=need[:200],
                                    source=Need.Source.SURVEY, survey_answer=answer)
    except IntegrityError:
        raise ApplicationError(_("本户已经填写过这份问卷。")) from None
    return answer


def _responses_for(question: SurveyQuestion, value: Any) -> list[SurveyResponse]:
    empty = value is None or value == "" or value == []
    if empty:
        if question.is_required:
            raise ApplicationError(_("请回答：%s") % question.text)
        return []
    if question.kind == SurveyQuestion.Kind.TEXT:
        return [SurveyResponse(question=question, text=str(value).strip()[:TEXT_MAX])]
    if question.kind == SurveyQuestion.Kind.SCALE:
        score = _as_int(value)
        if score is None or not SurveyQuestion.SCALE_MIN <= score <= SurveyQuestion.SCALE_MAX:
            raise ApplicationError(_("请为“%s”打 1 至 5 分。") % question.text)
        return [SurveyResponse(question=question, scale=score)]
    chosen = value if isinstance(value, list | tuple) else [value]
    options = {option.pk: option for option in question.options.all()}
    ids = {option_id for item in chosen if (option_id := _as_int(item)) is not None}
    if (len(ids) != len(chosen) or not ids <= options.keys()
            or (question.kind == SurveyQuestion.Kind.SINGLE and len(ids) != 1)):
        raise ApplicationError(_("“%s”的选项无效。") % question.text)
    return [SurveyResponse(question=question, option=options[option_id])
            for option_id in sorted(ids, key=lambda pk: options[pk].position)]


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _coded_option(rows: list[SurveyResponse], question_id: int | None) -> str:
    codes = [row.option.code for row in rows if row.question_id == question_id and row.option]
    return codes[0] if codes and codes[0] in Satisfaction.values else ""


def _text_of(rows: list[SurveyResponse], question_id: int | None) -> str:
    return next((row.text for row in rows if row.question_id == question_id), "")[:TEXT_MAX]
