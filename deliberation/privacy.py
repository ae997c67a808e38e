"""Deliberation's part of personal-data handling (run by the privacy app).

Supports, ratings and survey answers stay when an account is deleted (the vote counts must
not change); the proposer's name is replaced and the free text redacted. Comments stay in their
thread (the replies after them would lose their sense) with the signature replaced and the text
redacted; sign-ups and the SMS opt-in are exported, and the opt-in goes with the account.
"""

from __future__ import annotations

from typing import Any

from accounts.models import User
from accounts.personal_data import ANONYMISED_NAME, Identifiers, export_row, redact_rows
from deliberation.models import (
    NoticePreference,
    SessionSignUp,
    SurveyAnswer,
    SurveyResponse,
    Topic,
    TopicComment,
    TopicRating,
    TopicSupport,
)


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
        "comments": [export_row(comment, ("topic_id", "body", "created_at", "edited_at",
                                          "hidden_at", "hidden_reason"))
                     for comment in TopicComment.objects.filter(author=user).order_by("pk")],
        "session_sign_ups": [export_row(sign_up, ("session_id", "created_at", "cancelled_at"))
                             for sign_up in SessionSignUp.objects.filter(user=user)
                             .order_by("pk")],
        "notice_preference": [export_row(preference, ("sms_opt_in", "sms_consent_at"))
                              for preference in NoticePreference.objects.filter(user=user)],
    }


def anonymise(*, user: User, identifiers: Identifiers) -> None:
    topics = Topic.objects.filter(proposer=user)
    redact_rows(topics, ("title", "description"), identifiers)
    topics.update(proposer_name=ANONYMISED_NAME)
    redact_rows(TopicRating.objects.filter(user=user), ("comment",), identifiers)
    redact_rows(SurveyAnswer.objects.filter(user=user), ("comment",), identifiers)
    redact_rows(SurveyResponse.objects.filter(answer__user=user), ("text",), identifiers)
    comments = TopicComment.objects.filter(author=user)
    redact_rows(comments, ("body",), identifiers)
    comments.update(author_label=ANONYMISED_NAME)
    NoticePreference.objects.filter(user=user).delete()


EXPORT_SECTIONS = {"deliberation": deliberation_export}
