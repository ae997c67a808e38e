"""Reads that need a user's scope, and the one permission helper of the app.

Who may do what in a compound:
- staff: community staff / street admins whose scope covers the compound's community
  (core.scope on `compound.community.path`), superusers, and the compound's branch secretary
  (OrgNode(kind=branch, compound=…).secretary is the user's Resident);
- residents: users with a Resident in a household of one of the compound's buildings.
Everything else gets 404 from the `*_get_for_user` getters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from core.media import MediaGrant
from core.scope import EVERYTHING, scope_path, scope_q
from deliberation.models import (
    ActionEvidence,
    ActionItem,
    Need,
    Project,
    Resource,
    Satisfaction,
    Session,
    Survey,
    SurveyAnswer,
    Topic,
)
from governance.models import OrgNode
from residents.models import Household, Resident
from territory.models import Compound

if TYPE_CHECKING:
    from accounts.models import User


def staff_compounds(user: User | Any) -> QuerySet[Compound]:
    """Compounds this user may run deliberation for (staff in scope or branch secretary)."""
    if user is None or not user.is_authenticated:
        return Compound.objects.none()
    if scope_path(user) == EVERYTHING:
        # Q() | Q(x) collapses to Q(x) in Django, so "everything" must not be OR-ed.
        return Compound.objects.all()
    secretary = Q(
        pk__in=OrgNode.objects.filter(kind=OrgNode.Kind.COMPOUND_BRANCH,
                                      secretary__user=user).values("compound_id")
    )
    return Compound.objects.filter(scope_q(user, "community__path") | secretary)


def resident_compounds(user: User | Any) -> QuerySet[Compound]:
    if user is None or not user.is_authenticated:
        return Compound.objects.none()
    return Compound.objects.filter(
        pk__in=Resident.objects.filter(user=user).values("household__building__compound_id")
    )


def visible_compounds(user: User | Any) -> QuerySet[Compound]:
    return (staff_compounds(user) | resident_compounds(user)).distinct()


def user_is_deliberation_staff(user: User | Any, compound_id: int) -> bool:
    return staff_compounds(user).filter(pk=compound_id).exists()


def user_is_compound_resident(user: User | Any, compound_id: int) -> bool:
    return resident_compounds(user).filter(pk=compound_id).exists()


def user_is_deliberation_staff_anywhere(user: User | Any) -> bool:
    return staff_compounds(user).exists()


def resident_in_compound(user: User | Any, compound_id: int) -> Resident | None:
    return (Resident.objects.filter(user=user, household__building__compound_id=compound_id)
            .select_related("household").order_by("id").first())


def survey_household_answer(*, user: User | Any, survey: Survey) -> SurveyAnswer | None:
    """The answer the user's household in the survey's compound gave, if any (one a household,
    whichever member answered)."""
    resident = resident_in_compound(user, survey.compound_id)
    if resident is None:
        return None
    return SurveyAnswer.objects.filter(survey=survey, household_id=resident.household_id).first()


def household_count(compound_id: int) -> int:
    return Household.objects.filter(building__compound_id=compound_id).count()


# --- getters (404 for outsiders) ---------------------------------------------------------------

def topic_get_for_user(*, user: User | Any, topic_id: int) -> Topic:
    topic = (Topic.objects.select_related("compound", "session")
             .filter(pk=topic_id, compound__in=visible_compounds(user)).first())
    if topic is None:
        raise Http404
    return topic


def session_get_for_user(*, user: User | Any, session_id: int) -> Session:
    session = (Session.objects.select_related("compound")
               .filter(pk=session_id, compound__in=visible_compounds(user)).first())
    if session is None:
        raise Http404
    return session


def session_get_for_staff(*, user: User | Any, session_id: int) -> Session:
    session = (Session.objects.select_related("compound")
               .filter(pk=session_id, compound__in=staff_compounds(user)).first())
    if session is None:
        raise Http404
    return session


def topic_get_for_staff(*, user: User | Any, topic_id: int) -> Topic:
    topic = (Topic.objects.select_related("compound", "session")
             .filter(pk=topic_id, compound__in=staff_compounds(user)).first())
    if topic is None:
        raise Http404
    return topic


def action_item_get_for_user(*, user: User | Any, action_item_id: int) -> ActionItem:
    item = (ActionItem.objects.select_related("topic", "topic__compound")
            .filter(pk=action_item_id)
            .filter(Q(topic__compound__in=staff_compounds(user)) | Q(owner_user=user)).first()
            if user.is_authenticated else None)
    if item is None:
        raise Http404
    return item


def action_evidence_get_for_media(*, user: User | Any, name: str) -> MediaGrant | None:
    """An evidence photo (core.media), to whoever may open its topic (topic_get_for_user: the
    topic page shows it) or its action item (action_item_get_for_user: its owner). It shows
    the work done for the compound, not a person: not audited."""
    evidence = (ActionEvidence.objects.filter(photo=name)
                .filter(Q(action_item__topic__compound__in=visible_compounds(user))
                        | Q(action_item__owner_user=user)).first()
                if user.is_authenticated else None)
    return None if evidence is None else MediaGrant(obj=evidence, is_audited=False)


def action_item_get_for_staff(*, user: User | Any, action_item_id: int) -> ActionItem:
    """An item of a compound the user runs deliberation for (its owner alone may not tick it)."""
    item = (ActionItem.objects.select_related("topic", "topic__compound", "owner_body")
            .filter(pk=action_item_id, topic__compound__in=staff_compounds(user)).first())
    if item is None:
        raise Http404
    return item


def survey_get_for_user(*, user: User | Any, survey_id: int) -> Survey:
    survey = (Survey.objects.select_related("compound")
              .filter(pk=survey_id, compound__in=visible_compounds(user)).first())
    if survey is None:
        raise Http404
    return survey


def project_get_for_staff(*, user: User | Any, project_id: int) -> Project:
    project = Project.objects.filter(pk=project_id, compound__in=staff_compounds(user)).first()
    if project is None:
        raise Http404
    return project


def need_get_for_staff(*, user: User | Any, need_id: int) -> Need:
    need = Need.objects.filter(pk=need_id, compound__in=staff_compounds(user)).first()
    if need is None:
        raise Http404
    return need


# --- lists ------------------------------------------------------------------------------------

def topic_list(*, user: User | Any) -> QuerySet[Topic]:
    return (Topic.objects.filter(compound__in=visible_compounds(user))
            .select_related("compound", "session"))


def session_list(*, user: User | Any) -> QuerySet[Session]:
    return (Session.objects.filter(compound__in=visible_compounds(user))
            .select_related("compound").annotate(topic_count=Count("agenda_items")))


def action_item_list(*, user: User | Any) -> QuerySet[ActionItem]:
    return (ActionItem.objects.filter(topic__compound__in=staff_compounds(user))
            .select_related("topic", "topic__compound", "owner_body", "owner_user")
            .annotate(evidence_count=Count("evidence")))


def need_list(*, user: User | Any) -> QuerySet[Need]:
    return Need.objects.filter(compound__in=staff_compounds(user)).select_related("compound",
                                                                                  "topic")


def resource_list(*, user: User | Any) -> QuerySet[Resource]:
    return (Resource.objects.filter(compound__in=staff_compounds(user))
            .select_related("compound", "body"))


def project_list(*, user: User | Any) -> QuerySet[Project]:
    return (Project.objects.filter(compound__in=staff_compounds(user))
            .select_related("compound", "owner_body")
            .prefetch_related("milestones", "needs", "resources"))


def survey_list(*, user: User | Any) -> QuerySet[Survey]:
    return (Survey.objects.filter(compound__in=visible_compounds(user))
            .select_related("compound").annotate(answer_count=Count("answers")))


def published_topics(*, compound_id: int | None = None) -> QuerySet[Topic]:
    queryset = (Topic.objects.filter(published_at__isnull=False)
                .select_related("compound", "session").order_by("-published_at", "-id"))
    if compound_id is not None:
        queryset = queryset.filter(compound_id=compound_id)
    return queryset


def published_sessions(*, compound_id: int | None = None) -> QuerySet[Session]:
    from django.db.models import Prefetch

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
    rows = (SurveyAnswer.objects.filter(survey__compound__in=compounds)
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
