"""The quarterly satisfaction survey: opened near each quarter's end, one answer a household."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError, PermissionDeniedError
from deliberation import conf
from deliberation.models import Need, Satisfaction, Survey, SurveyAnswer
from deliberation.selectors import resident_in_compound
from territory.models import Compound

if TYPE_CHECKING:
    from accounts.models import User


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_end(year: int, quarter: int) -> date:
    month = quarter * 3
    return date(year, month, calendar.monthrange(year, month)[1])


def surveys_generate_quarterly(*, today: date) -> int:
    """Open each compound's satisfaction survey near the quarter's end (idempotent, set-based)."""
    year, quarter = quarter_of(today)
    end = quarter_end(year, quarter)
    if today < end - timedelta(days=conf.survey_days_before_quarter_end()):
        return 0
    compound_ids = list(Compound.objects.values_list("id", flat=True))
    before = Survey.objects.filter(year=year, quarter=quarter).count()
    Survey.objects.bulk_create([
        Survey(compound_id=compound_id, year=year, quarter=quarter,
               title=_("%(year)s年第%(quarter)s季度满意度测评") % {"year": year,
                                                                 "quarter": quarter},
               opens_on=today, closes_on=end + timedelta(days=conf.survey_days_after_quarter_end()))
        for compound_id in compound_ids
    ], ignore_conflicts=True)
    return Survey.objects.filter(year=year, quarter=quarter).count() - before


def survey_answer_submit(
    *, survey: Survey, actor: User, satisfaction: str, comment: str = "", need: str = "",
) -> SurveyAnswer:
    """One answer per household; a stated need goes onto the needs list."""
    resident = resident_in_compound(actor, survey.compound_id)
    if resident is None:
        raise PermissionDeniedError(_("只有本小区居民可以参加测评。"))
    today = timezone.localdate()
    if not survey.opens_on <= today <= survey.closes_on:
        raise ApplicationError(_("测评不在开放时间内。"))
    if satisfaction not in Satisfaction.values:
        raise ApplicationError(_("请选择总体评价。"))
    try:
        with transaction.atomic():
            answer = SurveyAnswer.objects.create(survey=survey, household=resident.household,
                                                 user=actor, satisfaction=satisfaction,
                                                 comment=comment[:500])
            if need.strip():
                Need.objects.create(compound_id=survey.compound_id, title=need.strip()[:200],
                                    source=Need.Source.SURVEY, survey_answer=answer)
    except IntegrityError:
        raise ApplicationError(_("本户已经填写过本季度测评。")) from None
    return answer
