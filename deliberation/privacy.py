"""Deliberation's part of personal-data handling (run by the privacy app).

Supports, ratings and survey answers stay when an account is deleted (the vote counts must
not change); the proposer's name is replaced and the free text redacted.
"""

from __future__ import annotations

from typing import Any

from accounts.models import User
from accounts.personal_data import ANONYMISED_NAME, Identifiers, export_row, redact_rows
from deliberation.models import SurveyAnswer, SurveyResponse, Topic, TopicRating, TopicSupport


def deliberation_export(*, user: User) -> dict[str, Any]:
    return {
        "topics_proposed": [export_row(topic, ("id", "title", "status", "created_at"))
                            for topic in Topic.objects.filter(proposer=user).order_by("pk")],
        "supports": list(TopicSupport.objects.filter(user=user)
                         .values_list("topic_id", flat=True).order_by("topic_id")),
        "ratings": [export_row(rating, ("topic_id", "score", "comment", "created_at"))
                    for rating in TopicRating.objects.filter(user=user).order_by("pk")],
        "survey_answers": [export_row(answer, ("survey_id", "satisfaction", "comment",
                                               "created_at"))
                           for answer in SurveyAnswer.objects.filter(user=user)
                           .order_by("pk")],
        "survey_responses": [export_row(response, ("answer_id", "question_id", "option_id",
                                                   "scale", "text"))
                             for response in SurveyResponse.objects.filter(answer__user=user)
                             .order_by("pk")],
    }


def anonymise(*, user: User, identifiers: Identifiers) -> None:
    topics = Topic.objects.filter(proposer=user)
    redact_rows(topics, ("title", "description"), identifiers)
    topics.update(proposer_name=ANONYMISED_NAME)
    redact_rows(TopicRating.objects.filter(user=user), ("comment",), identifiers)
    redact_rows(SurveyAnswer.objects.filter(user=user), ("comment",), identifiers)
    redact_rows(SurveyResponse.objects.filter(answer__user=user), ("text",), identifiers)


EXPORT_SECTIONS = {"deliberation": deliberation_export}
