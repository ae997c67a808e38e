"""Every read of the deliberation app, scoped to the user by the compound sets of
deliberation.rules (who is staff, who is a resident of a compound).

Outsiders get 404 from the `*_get_for_user` / `*_get_for_staff` getters. The lists
stay lazy querysets: a page evaluates them where it did before, so its query count holds.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from core.masking import mask_name
from core.media import MediaGrant
from deliberation.models import (
    ActionEvidence,
    ActionItem,
    ActionItemQuerySet,
    AgendaItem,
    ListReview,
    Milestone,
    Need,
    NoticePreference,
    Project,
    Resource,
    Satisfaction,
    Session,
    SessionAttendance,
    SessionSignUp,
    Survey,
    SurveyAnswer,
    SurveyOption,
    SurveyQuestion,
    SurveyResponse,
    Topic,
    TopicComment,
    TopicOpinion,
    TopicRating,
    TopicStatusChange,
    TopicSupport,
)
from deliberation.rules import resident_compounds, staff_compounds, visible_compounds
from governance.models import Body, OrgNode
from residents.models import Household, Resident
from territory.models import Compound

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


def resident_in_compound(user: User, compound_id: int) -> Resident | None:
    return (Resident.objects.filter(user=user, household__building__compound_id=compound_id)
            .select_related("household", "household__building").order_by("id").first())


def survey_household_answer(*, user: User, survey: Survey) -> SurveyAnswer | None:
    """The answer the user's household in the survey's compound gave, if any (one a household,
    whichever member answered)."""
    resident = resident_in_compound(user, survey.compound_id)
    if resident is None:
        return None
    return SurveyAnswer.objects.filter(survey=survey, household_id=resident.household_id).first()


def household_count(compound_id: int) -> int:
    return Household.objects.filter(building__compound_id=compound_id).count()


# --- getters (404 for outsiders) ---------------------------------------------------------------

def topic_get_for_user(*, user: User | AnonymousUser, topic_id: int) -> Topic:
    topic = (Topic.objects.select_related("compound", "session")
             .filter(pk=topic_id, compound__in=visible_compounds(user)).first())
    if topic is None:
        raise Http404
    return topic


def session_get_for_user(*, user: User | AnonymousUser, session_id: int) -> Session:
    session = (Session.objects.select_related("compound")
               .filter(pk=session_id, compound__in=visible_compounds(user)).first())
    if session is None:
        raise Http404
    return session


def session_get_for_staff(*, user: User | AnonymousUser, session_id: int) -> Session:
    session = (Session.objects.select_related("compound")
               .filter(pk=session_id, compound__in=staff_compounds(user)).first())
    if session is None:
        raise Http404
    return session


def topic_get_for_staff(*, user: User | AnonymousUser, topic_id: int) -> Topic:
    topic = (Topic.objects.select_related("compound", "session")
             .filter(pk=topic_id, compound__in=staff_compounds(user)).first())
    if topic is None:
        raise Http404
    return topic


def action_item_get_for_user(*, user: User | AnonymousUser, action_item_id: int) -> ActionItem:
    item = (ActionItem.objects.select_related("topic", "topic__compound")
            .filter(pk=action_item_id)
            .filter(Q(topic__compound__in=staff_compounds(user)) | Q(owner_user=user)).first()
            if user.is_authenticated else None)
    if item is None:
        raise Http404
    return item


def action_evidence_get_for_media(*, user: User | AnonymousUser, name: str) -> MediaGrant | None:
    """An evidence photo (core.media), to whoever may open its topic (topic_get_for_user: the
    topic page shows it) or its action item (action_item_get_for_user: its owner). It shows
    the work done for the compound, not a person: not audited."""
    evidence = (ActionEvidence.objects.filter(photo=name)
                .filter(Q(action_item__topic__compound__in=visible_compounds(user))
                        | Q(action_item__owner_user=user)).first()
                if user.is_authenticated else None)
    return None if evidence is None else MediaGrant(obj=evidence, is_audited=False)


def action_item_get_for_staff(*, user: User | AnonymousUser, action_item_id: int) -> ActionItem:
    """An item of a compound the user runs deliberation for (its owner alone may not tick it)."""
    item = (ActionItem.objects.select_related("topic", "topic__compound", "owner_body")
            .filter(pk=action_item_id, topic__compound__in=staff_compounds(user)).first())
    if item is None:
        raise Http404
    return item


def _surveys_visible_to(user: User | AnonymousUser) -> QuerySet[Survey]:
    """The compound's staff see its drafts too; its residents only opened surveys."""
    return Survey.objects.filter(Q(compound__in=staff_compounds(user))
                                 | Q(compound__in=resident_compounds(user),
                                     opened_at__isnull=False))


def survey_get_for_user(*, user: User | AnonymousUser, survey_id: int) -> Survey:
    survey = _surveys_visible_to(user).select_related("compound").filter(pk=survey_id).first()
    if survey is None:
        raise Http404
    return survey


def survey_get_for_staff(*, user: User | AnonymousUser, survey_id: int) -> Survey:
    survey = (Survey.objects.select_related("compound")
              .filter(pk=survey_id, compound__in=staff_compounds(user)).first())
    if survey is None:
        raise Http404
    return survey


def survey_question_get_for_staff(*, user: User | AnonymousUser,
                                  question_id: int) -> SurveyQuestion:
    question = (SurveyQuestion.objects.select_related("survey")
                .filter(pk=question_id, survey__compound__in=staff_compounds(user)).first())
    if question is None:
        raise Http404
    return question


def project_get_for_staff(*, user: User | AnonymousUser, project_id: int) -> Project:
    project = Project.objects.filter(pk=project_id, compound__in=staff_compounds(user)).first()
    if project is None:
        raise Http404
    return project


def need_get_for_staff(*, user: User | AnonymousUser, need_id: int) -> Need:
    need = Need.objects.filter(pk=need_id, compound__in=staff_compounds(user)).first()
    if need is None:
        raise Http404
    return need


# --- lists ------------------------------------------------------------------------------------

def topic_list(*, user: User | AnonymousUser) -> QuerySet[Topic]:
    return (Topic.objects.filter(compound__in=visible_compounds(user))
            .select_related("compound", "session"))


def session_list(*, user: User | AnonymousUser) -> QuerySet[Session]:
    return (Session.objects.filter(compound__in=visible_compounds(user))
            .select_related("compound").annotate(topic_count=Count("agenda_items")))


def session_list_with_agenda(*, user: User | AnonymousUser) -> QuerySet[Session]:
    return session_list(user=user).prefetch_related("agenda_items")


def action_item_list(*, user: User | AnonymousUser) -> ActionItemQuerySet:
    return (ActionItem.objects.filter(topic__compound__in=staff_compounds(user))
            .select_related("topic", "topic__compound", "owner_body", "owner_user")
            .annotate(evidence_count=Count("evidence")))


def need_list(*, user: User | AnonymousUser) -> QuerySet[Need]:
    return Need.objects.filter(compound__in=staff_compounds(user)).select_related("compound",
                                                                                  "topic")


def resource_list(*, user: User | AnonymousUser) -> QuerySet[Resource]:
    return (Resource.objects.filter(compound__in=staff_compounds(user))
            .select_related("compound", "body"))


def project_list(*, user: User | AnonymousUser) -> QuerySet[Project]:
    return (Project.objects.filter(compound__in=staff_compounds(user))
            .select_related("compound", "owner_body")
            .prefetch_related("milestones", "needs", "resources"))


def survey_list(*, user: User | AnonymousUser) -> QuerySet[Survey]:
    return (_surveys_visible_to(user).select_related("compound")
            .annotate(answer_count=Count("answers")))


def survey_list_for_staff(*, user: User | AnonymousUser) -> QuerySet[Survey]:
    """The staff's surveys, drafts and open ones first, each with its households answered and
    its question count (one query)."""
    return (Survey.objects.filter(compound__in=staff_compounds(user)).select_related("compound")
            .annotate(answer_count=Count("answers", distinct=True),
                      question_count=Count("questions", distinct=True))
            .order_by(F("opened_at").desc(nulls_first=True), "-closes_on", "-id"))


def survey_list_published(*, compound: Compound, today: date) -> QuerySet[Survey]:
    """The compound's closed surveys, whose results its residents may read."""
    return (Survey.objects.filter(compound=compound, opened_at__isnull=False,
                                  closes_on__lt=today)
            .annotate(answer_count=Count("answers")).order_by("-closes_on", "-id")[:6])


def survey_question_list(*, survey: Survey) -> QuerySet[SurveyQuestion]:
    return survey.questions.prefetch_related(
        Prefetch("options", queryset=SurveyOption.objects.order_by("position", "id")))


def survey_answer_responses(*, answer: SurveyAnswer) -> QuerySet[SurveyResponse]:
    return answer.responses.select_related("question", "option").order_by(
        "question__position", "option__position", "id")


def survey_results_get(*, survey: Survey, with_texts: bool) -> dict[str, Any]:
    """Each question's n (households that answered it) and its distribution; short texts only
    when `with_texts` (staff), otherwise just how many there are.

    A fixed number of queries, whatever the number of questions and answers: questions with
    their options (2), households (1), counts by question and option / score (1), n by
    question (1), and the texts (1, staff only).
    """
    questions = list(survey_question_list(survey=survey))
    responses = SurveyResponse.objects.filter(answer__survey=survey)
    counts = {(row["question_id"], row["option_id"], row["scale"]): row["count"]
              for row in responses.values("question_id", "option_id", "scale")
              .annotate(count=Count("id")).order_by()}
    answered = dict(responses.values_list("question_id").annotate(n=Count("answer", distinct=True))
                    .order_by())
    texts: dict[int, list[str]] = {}
    if with_texts:
        for question_id, text in (responses.filter(question__kind=SurveyQuestion.Kind.TEXT)
                                  .exclude(text="").order_by("answer_id")
                                  .values_list("question_id", "text")):
            texts.setdefault(question_id, []).append(text)
    return {"households": survey.answers.count(),
            "questions": [_question_result(question, counts, answered.get(question.pk, 0),
                                           texts.get(question.pk, []))
                          for question in questions]}


def _question_result(question: SurveyQuestion, counts: dict[tuple[Any, Any, Any], int],
                     n: int, texts: list[str]) -> dict[str, Any]:
    is_scale = question.kind == SurveyQuestion.Kind.SCALE
    if is_scale:
        bars = [(str(score), counts.get((question.pk, None, score), 0))
                for score in range(SurveyQuestion.SCALE_MIN, SurveyQuestion.SCALE_MAX + 1)]
    elif question.is_choice:
        bars = [(option.label, counts.get((question.pk, option.pk, None), 0))
                for option in question.options.all()]
    else:
        bars = []
    scored = sum(int(label) * count for label, count in bars) if is_scale else 0
    return {
        "question": question, "n": n, "texts": texts,
        "text_count": counts.get((question.pk, None, None), 0),
        # Percent of the households that answered this question (a multiple choice's bars may
        # add up to more than 100).
        "bars": [{"label": label, "count": count,
                  "percent": round(100 * count / n) if n else 0} for label, count in bars],
        "mean": round(scored / n, 1) if is_scale and n else None,
    }


def published_topics(*, compound_id: int | None = None) -> QuerySet[Topic]:
    queryset = (Topic.objects.filter(published_at__isnull=False)
                .select_related("compound", "session").order_by("-published_at", "-id"))
    if compound_id is not None:
        queryset = queryset.filter(compound_id=compound_id)
    return queryset


def published_sessions(*, compound_id: int | None = None) -> QuerySet[Session]:
    queryset = (Session.objects.filter(published_at__isnull=False).select_related("compound")
                .prefetch_related(Prefetch("topics", queryset=Topic.objects.order_by("id")))
                .order_by("-starts_at"))
    if compound_id is not None:
        queryset = queryset.filter(compound_id=compound_id)
    return queryset


def survey_results(*, compounds: QuerySet[Compound]) -> list[dict[str, Any]]:
    """Satisfaction by compound and quarter: counts per answer and the satisfaction rate.

    One grouped query, whatever the number of surveys. The rate counts 满意 + 基本满意.
    """
    rows = (SurveyAnswer.objects.filter(survey__compound__in=compounds,
                                        survey__kind=Survey.Kind.QUARTERLY)
            .values("survey__compound_id", "survey__compound__name", "survey__year",
                    "survey__quarter")
            .annotate(
                total=Count("id"),
                satisfied=Count("id", filter=Q(satisfaction=Satisfaction.SATISFIED)),
                basically=Count("id", filter=Q(satisfaction=Satisfaction.BASICALLY)),
                dissatisfied=Count("id", filter=Q(satisfaction=Satisfaction.DISSATISFIED)),
            ).order_by("survey__compound_id", "survey__year", "survey__quarter"))
    results = []
    for row in rows:
        total = row["total"]
        results.append({
            "compound_id": row["survey__compound_id"],
            "compound": row["survey__compound__name"],
            "year": row["survey__year"],
            "quarter": row["survey__quarter"],
            "label": f"{row['survey__year']}Q{row['survey__quarter']}",
            "total": total,
            "satisfied": row["satisfied"],
            "basically": row["basically"],
            "dissatisfied": row["dissatisfied"],
            "rate": round(100 * (row["satisfied"] + row["basically"]) / total, 1) if total else 0,
        })
    return results


def topic_counts_by_status(*, compounds: QuerySet[Compound]) -> dict[str, int]:
    rows = (Topic.objects.filter(compound__in=compounds).values("status")
            .annotate(count=Count("id")).order_by())
    return {row["status"]: row["count"] for row in rows}


# --- the pages' reads -------------------------------------------------------------------------

def compound_get_for_resident(*, user: User | AnonymousUser) -> Compound | None:
    """The compound a resident's phone page is about: the first they live in."""
    return resident_compounds(user).order_by("id").first()


def compound_get_for_user(*, user: User | AnonymousUser, compound_id: int) -> Compound:
    compound = visible_compounds(user).filter(pk=compound_id).first()
    if compound is None:
        raise Http404
    return compound


def compound_get(*, compound_id: int) -> Compound:
    """Any compound: its calendar is a public notice."""
    return get_object_or_404(Compound, pk=compound_id)


def topic_list_open_for_resident(*, compound: Compound, user: User) -> QuerySet[Topic]:
    """The compound's open topics, newest first, each saying whether the user's household
    supported and rated it (one a household, whichever member did; one query)."""
    households = Resident.objects.filter(user=user).values("household_id")
    by_household = (Q(user=user) | Q(household_id__in=households)
                    | Q(user__residents__household_id__in=households))
    return (Topic.objects.filter(compound=compound).exclude(status__in=["closed", "rejected"])
            .annotate(has_supported=Exists(TopicSupport.objects.filter(
                by_household, topic=OuterRef("pk"))),
                      has_rated=Exists(TopicRating.objects.filter(
                          by_household, topic=OuterRef("pk"))))
            .order_by("-created_at")[:50])


def topic_list_open(*, compounds: QuerySet[Compound]) -> QuerySet[Topic]:
    return (Topic.objects.filter(compound__in=compounds)
            .exclude(status__in=["closed", "rejected"])
            .select_related("compound", "session").order_by("status", "-id")[:100])


def topic_list_proposed(*, compound_id: int) -> QuerySet[Topic]:
    """Proposals still collecting support, the most supported first."""
    return (Topic.objects.filter(compound=compound_id, status=Topic.Status.PROPOSED)
            .order_by("-support_count", "id"))


def topic_status_change_list(*, topic: Topic) -> QuerySet[TopicStatusChange]:
    return topic.status_changes.select_related("actor")


def topic_opinion_list(*, topic: Topic) -> QuerySet[TopicOpinion]:
    return topic.opinions.all()


def action_item_list_for_topic(*, topic: Topic) -> ActionItemQuerySet:
    return (topic.action_items.select_related("owner_body").prefetch_related("evidence")
            .open_first())


def action_item_open_count(*, compounds: QuerySet[Compound]) -> int:
    return ActionItem.objects.filter(topic__compound__in=compounds,
                                     status=ActionItem.Status.OPEN).count()


def action_item_evidence_count(*, item: ActionItem) -> int:
    return item.evidence.count()


def action_item_is_last_open(*, item: ActionItem) -> bool:
    """Whether ticking this item off leaves its topic none open (the topic goes to 评)."""
    return not item.topic.action_items.filter(
        status=ActionItem.Status.OPEN).exclude(pk=item.pk).exists()


def session_list_upcoming(*, compound: Compound, user: User | None = None
                          ) -> QuerySet[Session]:
    """The compound's next planned sessions with their agenda (one still on since this morning
    counts), each with its sign-up count and whether `user` signed up (same queries)."""
    sessions = (Session.objects.filter(compound=compound, status=Session.Status.PLANNED,
                                       starts_at__gte=timezone.now() - timedelta(hours=6))
                .prefetch_related(Prefetch("agenda_items",
                                           queryset=AgendaItem.objects.order_by("position")))
                .annotate(sign_up_count=Count("sign_ups",
                                              filter=Q(sign_ups__cancelled_at__isnull=True))))
    if user is not None:
        sessions = sessions.annotate(is_signed_up=Exists(SessionSignUp.objects.filter(
            session=OuterRef("pk"), user=user, cancelled_at__isnull=True)))
    return sessions.order_by("starts_at")[:3]


def session_list_for_compound(*, compound_id: int) -> QuerySet[Session]:
    return Session.objects.filter(compound=compound_id)


def session_list_planned(*, compound_id: int) -> QuerySet[Session]:
    return (Session.objects.filter(compound=compound_id, status=Session.Status.PLANNED)
            .order_by("starts_at"))


def session_list_planned_in(*, compounds: QuerySet[Compound], now: datetime
                            ) -> QuerySet[Session]:
    return (Session.objects.filter(compound__in=compounds, status=Session.Status.PLANNED,
                                   starts_at__gte=now - timedelta(days=1))
            .select_related("compound").order_by("starts_at")[:10])


def session_list_held_in(*, compounds: QuerySet[Compound]) -> QuerySet[Session]:
    return (Session.objects.filter(compound__in=compounds, status=Session.Status.HELD)
            .select_related("compound").order_by("-starts_at")[:20])


def session_list_for_calendar(*, compound: Compound) -> QuerySet[Session]:
    """The compound's sessions of the last year and to come, for its iCal feed."""
    since = timezone.now() - timedelta(days=366)
    return (Session.objects.filter(compound=compound, starts_at__gte=since)
            .prefetch_related("agenda_items").order_by("starts_at"))


def session_held_count(*, compound_id: int | None) -> int:
    return Session.objects.filter(status=Session.Status.HELD).filter(
        **({"compound_id": compound_id} if compound_id else {})).count()


def session_agenda_item_list(*, session: Session) -> QuerySet[AgendaItem]:
    return session.agenda_items.select_related("topic")


def session_is_signed_in_by(*, session: Session, user: User) -> bool:
    return session.attendances.filter(user=user).exists()


def session_attendance_count(*, session: Session) -> int:
    return session.attendances.count()


def survey_list_open_for_household(*, compound: Compound, user: User) -> QuerySet[Survey]:
    """The compound's surveys open today that the user's household has not answered."""
    today = timezone.localdate()
    return (Survey.objects.filter(compound=compound, opened_at__isnull=False,
                                  opens_on__lte=today, closes_on__gte=today)
            .exclude(answers__household__residents__user=user))


def body_list(*, compound_id: int) -> QuerySet[Body]:
    return Body.objects.filter(compound=compound_id)


def body_get_for_compound(*, body_id: int, compound_id: int) -> Body:
    body = Body.objects.filter(pk=body_id, compound=compound_id).first()
    if body is None:
        raise Http404
    return body


def project_get_listed(*, user: User | AnonymousUser, project_id: int) -> Project:
    """A project as the lists show it (its milestones, needs and resources prefetched)."""
    return project_list(user=user).get(pk=project_id)


def milestone_list(*, project: Project) -> QuerySet[Milestone]:
    return project.milestones.all()


def need_list_unresolved(*, project: Project) -> QuerySet[Need]:
    return project.needs.exclude(status=Need.Status.RESOLVED)


def list_review_list_open(*, compounds: QuerySet[Compound]) -> QuerySet[ListReview]:
    return (ListReview.objects.filter(compound__in=compounds, reviewed_at__isnull=True)
            .select_related("compound"))


def list_review_get_for_staff(*, user: User | AnonymousUser, review_id: int) -> ListReview:
    review = ListReview.objects.filter(pk=review_id, compound__in=staff_compounds(user)).first()
    if review is None:
        raise Http404
    return review


# --- residents taking part (sign-up, notice, discussion, 评) ----------------------------------

def session_notice_recipients(*, compound_id: int) -> list[tuple[int, str]]:
    """(user id, phone) of each active resident account of the compound, one a user; the phone
    only for those who opted in to SMS (NoticePreference), else "". One query."""
    rows = (Resident.objects.filter(household__building__compound_id=compound_id,
                                    user__isnull=False, user__is_active=True)
            .values_list("user_id", "user__phone", "phone",
                         "user__deliberation_notice_preference__sms_opt_in")
            .order_by("user_id", "id"))
    recipients: dict[int, str] = {}
    for user_id, user_phone, resident_phone, opted_in in rows:
        if user_id not in recipients:
            recipients[user_id] = (user_phone or resident_phone or "") if opted_in else ""
    return list(recipients.items())


def staff_user_ids_by_compound(*, compound_ids: set[int]) -> dict[int, list[int]]:
    """Who runs deliberation for each compound, as deliberation.rules says (community staff
    whose scope covers its community, and its branch secretary): two queries, any number."""
    compounds = list(Compound.objects.filter(pk__in=compound_ids)
                     .values_list("id", "community__path"))
    staff = list(User.objects.filter(role__in=[User.Role.COMMUNITY_STAFF], is_active=True,
                                     scope_area__isnull=False)
                 .values_list("id", "scope_area__path"))
    secretaries = (OrgNode.objects.filter(kind=OrgNode.Kind.COMPOUND_BRANCH,
                                          compound_id__in=compound_ids,
                                          secretary__user__isnull=False)
                   .values_list("compound_id", "secretary__user_id"))
    result: dict[int, list[int]] = {compound_id: [user_id for user_id, path in staff
                                                  if community_path.startswith(path)]
                                    for compound_id, community_path in compounds}
    for compound_id, user_id in secretaries:
        result.setdefault(compound_id, []).append(user_id)
    return result


def session_sign_up_get(*, session: Session, user: User) -> SessionSignUp | None:
    return SessionSignUp.objects.filter(session=session, user=user,
                                        cancelled_at__isnull=True).first()


def session_sign_up_count(*, session: Session) -> int:
    return session.sign_ups.filter(cancelled_at__isnull=True).count()


def session_sign_in_sheet(*, session: Session) -> list[dict[str, Any]]:
    """The printable list: each resident signed up (not cancelled), masked name, building and
    room, and whether they already signed in. Two queries, whatever the number."""
    sign_ups = list(session.sign_ups.filter(cancelled_at__isnull=True)
                    .select_related("household", "household__building", "household__unit")
                    .annotate(has_attended=Exists(SessionAttendance.objects.filter(
                        session=session, user=OuterRef("user_id"))))
                    .order_by("household__building__number_sort", "household__room_sort", "id"))
    names = dict(Resident.objects.filter(user_id__in=[row.user_id for row in sign_ups],
                                         household__building__compound_id=session.compound_id)
                 .order_by("-id").values_list("user_id", "name"))
    return [{"user_id": row.user_id, "name": mask_name(names.get(row.user_id, "")),
             "household": str(row.household) if row.household else "",
             "has_attended": row.has_attended} for row in sign_ups]


def notice_preference_get(*, user: User) -> NoticePreference | None:
    return NoticePreference.objects.filter(user=user).first()


def topic_comment_list(*, topic: Topic) -> QuerySet[TopicComment]:
    return topic.comments.order_by("created_at", "id")


def topic_comment_get_for_user(*, user: User | AnonymousUser, comment_id: int) -> TopicComment:
    comment = (TopicComment.objects.select_related("topic")
               .filter(pk=comment_id, topic__compound__in=visible_compounds(user)).first())
    if comment is None:
        raise Http404
    return comment


def topic_comment_get_for_staff(*, user: User | AnonymousUser, comment_id: int) -> TopicComment:
    comment = (TopicComment.objects.select_related("topic")
               .filter(pk=comment_id, topic__compound__in=staff_compounds(user)).first())
    if comment is None:
        raise Http404
    return comment


def topic_list_mine(*, user: User) -> QuerySet[Topic]:
    """The topics the user proposed, in any compound they can still see, newest first, with
    their latest change and comment count (one query)."""
    return (Topic.objects.filter(proposer=user, compound__in=visible_compounds(user))
            .select_related("compound", "session")
            .annotate(comment_count=Count("comments", filter=Q(comments__hidden_at__isnull=True),
                                          distinct=True))
            .order_by("-created_at", "-id"))


def household_of(user: User, compound_id: int) -> int | None:
    resident = resident_in_compound(user, compound_id)
    return resident.household_id if resident is not None else None


def _by_household(user: User, topic: Topic) -> Q:
    """The user's own row, or any row of their household in the topic's compound: the
    household's, or (rows from before the one-a-household rule) a member's."""
    query = Q(user=user)
    household_id = household_of(user, topic.compound_id)
    if household_id is not None:
        query |= Q(household_id=household_id) | Q(user__residents__household_id=household_id)
    return query


def topic_household_supported(*, topic: Topic, user: User) -> bool:
    """Whether the user's household has supported the topic (whichever member did)."""
    return topic.supports.filter(_by_household(user, topic)).exists()


def topic_household_rating(*, topic: Topic, user: User) -> TopicRating | None:
    return topic.ratings.filter(_by_household(user, topic)).first()
