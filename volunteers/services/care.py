"""Elderly care (关爱档案): care files, visits, and the sweep that flags missed visits."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from core.audit import audit_event_record
from core.care_referral import petition_opener
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
    HoursEntry,
    ProxyService,
    Volunteer,
)
from volunteers.services._common import Consent, require_qualified
from volunteers.services.proxy import proxy_service_create_for

# --- care ---------------------------------------------------------------------------------

def _care_due_dates(*, frequency: str, from_day: date) -> tuple[date, date]:
    interval = timedelta(days=CareFile.INTERVAL_DAYS[CareFile.Frequency(frequency)])
    return from_day + interval, from_day + 2 * interval


def care_file_create(*, resident: Resident, actor: User, category: str, risk: str,
                     caretaker: Volunteer | None = None, health_notes: str = "",
                     living_notes: str = "", emergency_contact: str = "",
                     emergency_phone: str = "", frequency: str | None = None,
                     required_qualifications: list[str] | None = None) -> CareFile:
    """Open a care file; the visit plan follows the risk level unless set explicitly."""
    if not rules.covers_resident(actor, resident):
        raise PermissionDeniedError(_("您无权为该居民建立关爱档案。"))
    if caretaker is not None:
        require_qualified(caretaker, required_qualifications or [], timezone.localdate())
    frequency = frequency or CareFile.FREQUENCY_BY_RISK[CareFile.Risk(risk)]
    next_due, second_miss = _care_due_dates(frequency=frequency, from_day=timezone.localdate())
    try:
        with transaction.atomic():
            return CareFile.objects.create(
                resident=resident, category=category, risk=risk, frequency=frequency,
                caretaker=caretaker, health_notes=health_notes, living_notes=living_notes,
                emergency_contact=emergency_contact, emergency_phone=emergency_phone,
                next_visit_due=next_due, second_miss_on=second_miss,
                required_qualifications=sorted(set(required_qualifications or [])))
    except IntegrityError:
        raise ApplicationError(_("该居民已有关爱档案。")) from None


def care_file_log_access(*, care_file: CareFile, user: User, channel: str) -> None:
    """The file's own access log, and the portal's audit log: the page shows whole numbers."""
    CareFileAccessLog.objects.create(care_file=care_file, user=user, channel=channel)
    audit_event_record(action=AuditEvent.Action.REVEAL, object_type="volunteers.carefile",
                       object_id=care_file.pk, object_repr=channel,
                       fields=["emergency_phone", "health_notes", "living_notes"], actor=user)


def care_visit_log(*, care_file: CareFile, user: User, visited_on: date, notes: str,
                   condition: str = CareVisit.Condition.GOOD, minutes: int = 0,
                   need: str = "") -> CareVisit:
    """Record a visit; the next one falls due one interval later and the misses reset.

    1. A volunteer visitor must hold, on the day, the qualifications the file requires (staff
       visiting in person are not volunteers and are not gated).
    2. The visitor's time counts as volunteer hours, pending approval like an activity's.
    """
    if visited_on > timezone.localdate():
        raise ApplicationError(_("走访日期不能晚于今天。"))
    if not 0 <= minutes <= 24 * 60:
        raise ApplicationError(_("走访时长应在 0 到 1440 分钟之间。"))
    with transaction.atomic():
        care_file = selectors.care_file_get_for_user(user=user, care_file_id=care_file.pk)
        care_file = CareFile.objects.select_for_update(of=("self",)).get(pk=care_file.pk)
        visitor = selectors.volunteer_for_user(user)
        if visitor is not None:
            require_qualified(visitor, care_file.required_qualifications, visited_on)
        visit = CareVisit.objects.create(care_file=care_file, visitor=visitor, recorded_by=user,
                                         visited_on=visited_on, condition=condition,
                                         notes=notes, minutes=minutes, need=need.strip()[:200])
        _credit_visit_hours(visit, visitor=visitor, user=user)
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


def care_visit_hours(minutes: int) -> Decimal:
    """A visit's minutes as volunteer hours, rounded down to the tenth."""
    return (Decimal(minutes) / Decimal(60)).quantize(Decimal("0.1"), rounding=ROUND_DOWN)


def _credit_visit_hours(visit: CareVisit, *, visitor: Volunteer | None, user: User) -> None:
    if visitor is None or visit.minutes <= 0:
        return
    hours = care_visit_hours(visit.minutes)
    if hours <= 0:
        return
    # The note names no elder: the ledger and its export leave the care file's data behind.
    HoursEntry.objects.create(volunteer=visitor, care_visit=visit,
                              source=HoursEntry.Source.CARE, hours=hours,
                              served_on=visit.visited_on, created_by=user,
                              note=str(_("关爱走访")))


def _visit_locked(*, visit: CareVisit, user: User) -> CareVisit:
    """The visit, locked, through its file's scoped getter (404 to whoever may not read it)."""
    selectors.care_file_get_for_user(user=user, care_file_id=visit.care_file_id)
    visit = (CareVisit.objects.select_for_update(of=("self",))
             .select_related("care_file__resident__household").get(pk=visit.pk))
    if visit.has_follow_up:
        raise ApplicationError(_("该走访发现的需求已转办，请勿重复提交。"))
    if not visit.need:
        raise ApplicationError(_("该走访没有记录需求，无需转办。"))
    return visit


def care_visit_open_proxy_service(*, visit: CareVisit, user: User, kind: str, consent_by: str,
                                  consent_method: str) -> ProxyService:
    """The need the visit found becomes a proxy service for the elder, in one action: the
    service is recorded on the elder's behalf (代录, consent noted) and the two are linked."""
    with transaction.atomic():
        visit = _visit_locked(visit=visit, user=user)
        # Whoever may read the file and log its visits may turn its need into an errand.
        service = proxy_service_create_for(
            resident=visit.care_file.resident, actor=user, kind=kind, title=visit.need,
            description="", consent=Consent(by=consent_by, method=consent_method,
                                            at=timezone.now()))
        visit.proxy_service = service
        visit.save(update_fields=["proxy_service", "updated_at"])
    return service


def care_visit_open_petition(*, visit: CareVisit, user: User, category_id: int,
                             description: str = "") -> int:
    """The need the visit found becomes a petition (the petitions app, through core's
    registry), in one action; the visit keeps its id, the petition's timeline names the visit.
    Only staff who may record a petition (代录) can do this: petitions checks it."""
    with transaction.atomic():
        visit = _visit_locked(visit=visit, user=user)
        resident = visit.care_file.resident
        petition_id = petition_opener().open_for_care_visit(
            actor=user, household_id=resident.household_id, category_id=category_id,
            description=(description.strip() or visit.need), contact_name=resident.name,
            care_visit_id=visit.pk)
        visit.petition_id = petition_id
        visit.save(update_fields=["petition_id", "updated_at"])
    return petition_id


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
