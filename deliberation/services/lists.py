"""The three lists (needs, resources, projects) and their quarterly review.

A need comes from a topic, a survey answer, a petition or staff; a project matches needs with
resources and is ticked off (销号) when done, which resolves its needs.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from core.exceptions import ApplicationError
from core.workflow import transition
from deliberation import conf
from deliberation.models import ListReview, Milestone, Need, Project, Resource, Topic
from deliberation.rules import require_staff
from deliberation.services.surveys import quarter_end, quarter_of
from governance.models import Body
from notifications.messages import Message
from notifications.services import notifications_create
from territory.models import Compound


def need_create(*, compound: Compound, actor: User, title: str, source: str,
                detail: str = "", petition_id: int | None = None) -> Need:
    require_staff(actor, compound.pk)
    if not title.strip():
        raise ApplicationError(_("请填写需求。"))
    if source not in Need.Source.values:
        raise ApplicationError(_("未知的需求来源。"))
    return Need.objects.create(compound=compound, title=title.strip(), detail=detail,
                               source=source, petition_id=petition_id)


def need_resolve(*, need: Need, actor: User, resolution: str) -> Need:
    require_staff(actor, need.compound_id)
    with transaction.atomic():
        need = Need.objects.select_for_update().get(pk=need.pk)
        transition(need, Need.Status.RESOLVED, table=Need.TRANSITIONS)
        need.resolution = resolution[:300]
        need.resolved_at = timezone.now()
        need.save(update_fields=["status", "resolution", "resolved_at", "updated_at"])
    return need


def resource_create(*, compound: Compound, actor: User, kind: str, name: str, offers: str,
                    contact: str = "", body: Body | None = None) -> Resource:
    require_staff(actor, compound.pk)
    if kind not in Resource.Kind.values or not name.strip() or not offers.strip():
        raise ApplicationError(_("请填写资源类型、名称和可提供的内容。"))
    return Resource.objects.create(compound=compound, kind=kind, name=name.strip(),
                                   offers=offers, contact=contact, body=body)


def project_create(
    *, compound: Compound, actor: User, kind: str, title: str, owner_name: str,
    budget: Decimal = Decimal(0), need_ids: list[int] | None = None,
    resource_ids: list[int] | None = None, topic: Topic | None = None,
) -> Project:
    require_staff(actor, compound.pk)
    if kind not in Project.Kind.values or not title.strip() or not owner_name.strip():
        raise ApplicationError(_("请填写项目类型、名称和牵头人。"))
    if budget < 0:
        raise ApplicationError(_("预算不能为负数。"))
    with transaction.atomic():
        project = Project.objects.create(compound=compound, kind=kind, title=title.strip(),
                                         owner_name=owner_name.strip(), budget=budget,
                                         topic=topic)
        if need_ids:
            project.needs.set(Need.objects.filter(compound=compound, pk__in=need_ids))
            Need.objects.filter(pk__in=need_ids, compound=compound,
                                status=Need.Status.OPEN).update(status=Need.Status.MATCHED)
        if resource_ids:
            project.resources.set(Resource.objects.filter(compound=compound,
                                                          pk__in=resource_ids))
    return project


def milestone_add(*, project: Project, actor: User, title: str, due_on: date) -> Milestone:
    require_staff(actor, project.compound_id)
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        if project.status == Project.Status.TICKED_OFF:
            raise ApplicationError(_("项目已销号。"))
        if project.status == Project.Status.PLANNED:
            project.status = Project.Status.IN_PROGRESS
            project.save(update_fields=["status", "updated_at"])
        return Milestone.objects.create(project=project, title=title, due_on=due_on)


def milestone_complete(*, milestone: Milestone, actor: User, done_on: date | None = None
                       ) -> Milestone:
    require_staff(actor, milestone.project.compound_id)
    with transaction.atomic():
        milestone = Milestone.objects.select_for_update().get(pk=milestone.pk)
        if milestone.done_on is not None:
            raise ApplicationError(_("该节点已完成。"))
        milestone.done_on = done_on or timezone.localdate()
        milestone.save(update_fields=["done_on"])
    return milestone


def project_tick_off(*, project: Project, actor: User) -> Project:
    """销号: the project is done; its needs count as resolved."""
    require_staff(actor, project.compound_id)
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        transition(project, Project.Status.TICKED_OFF, table=Project.TRANSITIONS)
        now = timezone.now()
        project.ticked_off_at = now
        project.save(update_fields=["status", "ticked_off_at", "updated_at"])
        project.needs.exclude(status=Need.Status.RESOLVED).update(
            status=Need.Status.RESOLVED, resolved_at=now,
            resolution=_("项目销号：%s") % project.title)
    return project


def list_reviews_remind(*, today: date) -> int:
    """At each quarter's end, open the review of the three lists and tell the compound's staff."""
    year, quarter = quarter_of(today)
    if today < quarter_end(year, quarter) - timedelta(days=conf.survey_days_before_quarter_end()):
        return 0
    compounds = list(Compound.objects.select_related("community"))
    ListReview.objects.bulk_create(
        [ListReview(compound=compound, year=year, quarter=quarter) for compound in compounds],
        ignore_conflicts=True)
    staff = list(User.objects.filter(role=User.Role.COMMUNITY_STAFF, is_active=True)
                 .select_related("scope_area"))
    for compound in compounds:
        user_ids = [user.pk for user in staff
                    if user.scope_area and compound.community.path.startswith(
                        user.scope_area.path)]
        if user_ids:
            notifications_create(
                user_ids=user_ids,
                title=Message(gettext_noop("请完成%(year)s年第%(quarter)s季度三张清单复盘：%(name)s"),
                              {"year": year, "quarter": quarter, "name": compound.name}),
                link="/deliberation/staff/lists/",
                dedupe_key=f"delib-list-review:{compound.pk}:{year}:{quarter}")
    return len(compounds)


def list_review_complete(*, review: ListReview, actor: User) -> ListReview:
    require_staff(actor, review.compound_id)
    updated = ListReview.objects.filter(pk=review.pk, reviewed_at__isnull=True).update(
        reviewed_at=timezone.now(), reviewed_by=actor)
    if not updated:
        raise ApplicationError(_("本季度清单已复盘。"))
    review.refresh_from_db()
    return review
