"""Elderly care (关爱档案): care files, visits, and the sweep that flags missed visits."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from core.audit import audit_event_record
from core.exceptions import ApplicationError, PermissionDeniedError
from core.models import AuditEvent
from notifications.messages import Message
from notifications.services import notifications_create
from residents.models import Resident
from volunteers import rules, selectors
from volunteers.models import (
    CareFile,
    CareFileAccessLog,
    CareVisit,
    Volunteer,
)

# --- care ---------------------------------------------------------------------------------

def _care_due_dates(*, frequency: str, from_day: date) -> tuple[date, date]:
    interval = timedelta(days=CareFile.INTERVAL_DAYS[CareFile.Frequency(frequency)])
    return from_day + interval, from_day + 2 * interval


def care_file_create(*, resident: Resident, actor: User, category: str, risk: str,
                     caretaker: Volunteer | None = None, health_notes: str = "",
                     living_notes: str = "", emergency_contact: str = "",
                     emergency_phone: str = "", frequency: str | None = None) -> CareFile:
    """Open a care file; the visit plan follows the risk level unless set explicitly."""
    if not rules.covers_resident(actor, resident):
        raise PermissionDeniedError(_("您无权为该居民建立关爱档案。"))
    frequency = frequency or CareFile.FREQUENCY_BY_RISK[CareFile.Risk(risk)]
    next_due, second_miss = _care_due_dates(frequency=frequency, from_day=timezone.localdate())
    try:
        with transaction.atomic():
            return CareFile.objects.create(
                resident=resident, category=category, risk=risk, frequency=frequency,
                caretaker=caretaker, health_notes=health_notes, living_notes=living_notes,
                emergency_contact=emergency_contact, emergency_phone=emergency_phone,
                next_visit_due=next_due, second_miss_on=second_miss)
    except IntegrityError:
        raise ApplicationError(_("该居民已有关爱档案。")) from None


def care_file_log_access(*, care_file: CareFile, user: User, channel: str) -> None:
    """The file's own access log, and the portal's audit log: the page shows whole numbers."""
    CareFileAccessLog.objects.create(care_file=care_file, user=user, channel=channel)
    audit_event_record(action=AuditEvent.Action.REVEAL, object_type="volunteers.carefile",
                       object_id=care_file.pk, object_repr=channel,
                       fields=["emergency_phone", "health_notes", "living_notes"], actor=user)


def care_visit_log(*, care_file: CareFile, user: User, visited_on: date, notes: str,
                   condition: str = CareVisit.Condition.GOOD) -> CareVisit:
    """Record a visit; the next one falls due one interval later and the misses reset."""
    if visited_on > timezone.localdate():
        raise ApplicationError(_("走访日期不能晚于今天。"))
    with transaction.atomic():
        care_file = selectors.care_file_get_for_user(user=user, care_file_id=care_file.pk)
        care_file = CareFile.objects.select_for_update(of=("self",)).get(pk=care_file.pk)
        visitor = selectors.volunteer_for_user(user)
        visit = CareVisit.objects.create(care_file=care_file, visitor=visitor, recorded_by=user,
                                         visited_on=visited_on, condition=condition,
                                         notes=notes)
        latest = max(visited_on, care_file.visits.exclude(pk=visit.pk)
                     .order_by("-visited_on").values_list("visited_on", flat=True).first()
                     or visited_on)
        care_file.next_visit_due, care_file.second_miss_on = _care_due_dates(
            frequency=care_file.frequency, from_day=latest)
        care_file.missed_count = 0
        care_file.flagged_at = None
        care_file.alerted_at = None
        care_file.save(update_fields=["next_visit_due", "second_miss_on", "missed_count",
                                      "flagged_at", "alerted_at", "updated_at"])
    return visit


def care_visits_flag_overdue(*, now: datetime) -> dict[str, int]:
    """Flag files whose visit is overdue; after a second missed interval, alert the staff.

    1. First miss: `next_visit_due` has passed and nothing is flagged: flag it and tell the
       caretaker.
    2. Second miss: `second_miss_on` has passed too: alert the community staff whose scope
       covers the elder's home.
    Each step claims its rows with a conditional UPDATE, so a second (or concurrent) run finds
    nothing left to do; notification dedupe keys make a repeated message harmless.
    """
    today = timezone.localdate(now)
    flagged = list(CareFile.objects.filter(is_active=True, missed_count=0,
                                           next_visit_due__lt=today)
                   .values_list("id", "caretaker__user_id", "next_visit_due"))
    if flagged:
        CareFile.objects.filter(id__in=[row[0] for row in flagged], missed_count=0).update(
            missed_count=1, flagged_at=now)
        for file_id, user_id, due in flagged:
            if user_id:
                notifications_create(
                    user_ids=[user_id], title=Message(gettext_noop("关爱走访已逾期")),
                    body=Message(gettext_noop("档案 #%(id)s 应于 %(due)s 前走访。"),
                                 {"id": file_id, "due": str(due)}),
                    link=f"/volunteers/care/{file_id}/",
                    dedupe_key=f"care-overdue:{file_id}:{due}")
    alerted = list(CareFile.objects.filter(is_active=True, missed_count=1,
                                           second_miss_on__lt=today)
                   .values_list("id", "resident__household__building__micro_grid__path",
                                "second_miss_on"))
    if alerted:
        CareFile.objects.filter(id__in=[row[0] for row in alerted], missed_count=1).update(
            missed_count=2, alerted_at=now)
        _alert_community_staff(alerted)
    return {"flagged": len(flagged), "alerted": len(alerted)}


def _alert_community_staff(rows: list[tuple[int, str, date]]) -> None:
    staff = list(User.objects.filter(role=User.Role.COMMUNITY_STAFF, is_active=True,
                                     scope_area__isnull=False)
                 .values_list("id", "scope_area__path"))
    for file_id, path, second_miss_on in rows:
        user_ids = [user_id for user_id, scope in staff if path.startswith(scope)]
        if user_ids:
            notifications_create(
                user_ids=user_ids, title=Message(gettext_noop("关爱走访连续两次逾期")),
                body=Message(gettext_noop("档案 #%(id)s 已连续两个周期未走访，请尽快安排。"),
                             {"id": file_id}),
                link=f"/volunteers/care/{file_id}/",
                dedupe_key=f"care-second-miss:{file_id}:{second_miss_on}")


def care_file_update_risk(*, care_file: CareFile, actor: User, risk: str) -> CareFile:
    with transaction.atomic():
        care_file = selectors.care_file_get_for_user(user=actor, care_file_id=care_file.pk)
        care_file = CareFile.objects.select_for_update(of=("self",)).get(pk=care_file.pk)
        care_file.risk = risk
        care_file.frequency = CareFile.FREQUENCY_BY_RISK[CareFile.Risk(risk)]
        care_file.save(update_fields=["risk", "frequency", "updated_at"])
    return care_file
