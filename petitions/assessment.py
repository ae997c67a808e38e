"""申诉剔除: leaving a petition out of the assessment figures (the rankings of reports/).

A petition that was misrouted, a duplicate, or beyond the street's remit should not count
against the grid or the worker it landed on; but a figure that anyone may quietly shrink is no
figure. So: staff covering the petition ask, with a reason kind and a written reason; a street
admin covering it, who is not the one who asked, approves or refuses (a refusal says why);
each step writes an audit row (core.audit) and an internal timeline note on the petition. Only
an approved exclusion changes the figures, and the rankings show how many there are.

The reads (the queue, the counts beside the rankings) are here too: they are small and belong
to this one workflow.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.audit import audit_event_record, object_type_of
from core.exceptions import ApplicationError, PermissionDeniedError
from core.models import AuditEvent
from core.workflow import transition
from petitions import rules
from petitions.models import (
    EXCLUSION_TRANSITIONS,
    AssessmentExclusion,
    Petition,
    PetitionEvent,
    choice_label,
)
from petitions.rules import Viewer

Status = AssessmentExclusion.Status
LIVE_STATUSES = (Status.PENDING, Status.APPROVED)


def _timeline_note(petition: Petition, *, actor: User, note: str, now: datetime) -> None:
    """The step on the petition's own timeline, for staff only (residents are not told how
    their petition is assessed)."""
    PetitionEvent.objects.create(petition=petition, kind=PetitionEvent.Kind.NOTE, actor=actor,
                                 note=note, is_internal=True, created_at=now)


def _audit(exclusion: AssessmentExclusion, *, action: str, actor: User,
           fields: tuple[str, ...]) -> None:
    audit_event_record(action=action, object_type=object_type_of(exclusion),
                       object_id=exclusion.pk, object_repr=str(exclusion), fields=fields,
                       actor=actor)


def exclusion_request(*, petition_id: int, actor: User, reason: str,
                      note: str) -> AssessmentExclusion:
    """Ask for `petition_id` to be left out of the assessment.

    1. The petition, locked, as the actor may see it (404 otherwise); the actor must cover it.
    2. A reason kind and a written reason are required.
    3. Refused while another request for it is pending or approved (the constraint's rule,
       checked under the lock so the message is a sentence, not an IntegrityError).
    4. The request row, its audit row and an internal timeline note.
    """
    note = (note or "").strip()
    if reason not in AssessmentExclusion.Reason.values:
        raise ApplicationError(_("请选择剔除原因。"))
    if not note:
        raise ApplicationError(_("请填写申请剔除的情况说明。"))
    with transaction.atomic():
        petition = Petition.objects.select_for_update().filter(pk=petition_id).first()
        if petition is None or not rules.can_view(actor, petition):
            raise Http404(_("诉求不存在。"))
        if not rules.may_request_exclusion(actor, petition):
            raise PermissionDeniedError(_("您无权为该诉求申请剔除考核。"))
        if AssessmentExclusion.objects.filter(petition=petition,
                                              status__in=LIVE_STATUSES).exists():
            raise ApplicationError(_("该诉求已有待审批或已批准的剔除申请。"))
        now = timezone.now()
        exclusion = AssessmentExclusion.objects.create(
            petition=petition, reason=reason, note=note[:500], requested_by=actor,
            requested_at=now)
        _audit(exclusion, action=AuditEvent.Action.ADD, actor=actor,
               fields=("reason", "note", "status"))
        _timeline_note(petition, actor=actor, now=now, note=_(
            "申请剔除考核（%(reason)s）：%(note)s")
            % {"reason": choice_label(AssessmentExclusion.Reason, reason), "note": note})
        return exclusion


def _decide(*, exclusion_id: int, actor: User, target: str, note: str) -> AssessmentExclusion:
    with transaction.atomic():
        exclusion = (AssessmentExclusion.objects.select_for_update()
                     .select_related("petition").filter(pk=exclusion_id).first())
        if exclusion is None or not rules.can_view(actor, exclusion.petition):
            raise Http404(_("剔除申请不存在。"))
        petition = exclusion.petition
        if actor.pk == exclusion.requested_by_id:
            raise PermissionDeniedError(_("不能审批自己提出的剔除申请，须由另一位街道管理员审批。"))
        if not rules.may_decide_exclusion(actor, petition, exclusion.requested_by_id):
            raise PermissionDeniedError(_("只有街道管理员可以审批剔除申请。"))
        transition(exclusion, target, table=EXCLUSION_TRANSITIONS)
        now = timezone.now()
        exclusion.decided_by, exclusion.decided_at = actor, now
        exclusion.decision_note = note[:500]
        exclusion.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        _audit(exclusion, action=AuditEvent.Action.CHANGE, actor=actor,
               fields=("status", "decision_note"))
        verdict = _("批准剔除考核") if target == Status.APPROVED else _("驳回剔除考核申请")
        _timeline_note(petition, actor=actor, now=now,
                       note=f"{verdict}：{note}" if note else verdict)
        return exclusion


def exclusion_approve(*, exclusion_id: int, actor: User, note: str = "") -> AssessmentExclusion:
    """A second person (a street admin covering the petition, not the requester) approves: the
    petition leaves the assessment figures."""
    return _decide(exclusion_id=exclusion_id, actor=actor, target=Status.APPROVED,
                   note=(note or "").strip())


def exclusion_refuse(*, exclusion_id: int, actor: User, note: str) -> AssessmentExclusion:
    """A street admin refuses, saying why; the petition stays in the figures (and may be asked
    for again)."""
    note = (note or "").strip()
    if not note:
        raise ApplicationError(_("驳回剔除申请须填写理由。"))
    return _decide(exclusion_id=exclusion_id, actor=actor, target=Status.REFUSED, note=note)


# --- reads ---------------------------------------------------------------------------------


def exclusion_pending_list(*, user: Viewer) -> QuerySet[AssessmentExclusion]:
    """The queue: pending requests for petitions the user covers, oldest first."""
    return (AssessmentExclusion.objects.filter(rules.covers_petition_q(user, "petition"),
                                               status=Status.PENDING)
            .select_related("petition__category", "petition__area", "requested_by")
            .order_by("requested_at", "id"))


def exclusion_for_petition(*, petition_id: int) -> AssessmentExclusion | None:
    """The petition's live (pending or approved) request, if any: the staff page shows it."""
    return (AssessmentExclusion.objects.filter(petition_id=petition_id, status__in=LIVE_STATUSES)
            .select_related("requested_by", "decided_by").first())


def approved_exclusion_exists() -> Exists:
    """True for a Petition row with an approved exclusion: what the assessment leaves out
    (filter on `~approved_exclusion_exists()`)."""
    return Exists(AssessmentExclusion.objects.filter(petition_id=OuterRef("pk"),
                                                     status=Status.APPROVED))


def exclusion_counts(petitions: QuerySet[Petition]) -> dict[str, int]:
    """How many of `petitions` are excluded (approved) and how many wait (pending): one
    query."""
    counts = AssessmentExclusion.objects.filter(petition__in=petitions).aggregate(
        approved=Count("id", filter=Q(status=Status.APPROVED)),
        pending=Count("id", filter=Q(status=Status.PENDING)))
    return {"approved": counts["approved"] or 0, "pending": counts["pending"] or 0}
