"""Proxy services (帮办代办): a resident's errand, assigned by staff to a volunteer, done and
confirmed."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from core.exceptions import ApplicationError, PermissionDeniedError
from core.workflow import transition
from notifications.messages import Message
from notifications.services import notifications_create
from residents.models import Resident
from volunteers import rules
from volunteers.models import (
    ProxyService,
    ProxyServiceEvent,
    Volunteer,
)
from volunteers.services._common import Consent, require_staff

# --- proxy services -----------------------------------------------------------------------

def _service_move(*, service: ProxyService, target: str, actor: User | None, note: str = "",
                  fields: list[str] | None = None) -> ProxyService:
    old = transition(service, target, table=ProxyService.TRANSITIONS)
    service.save(update_fields=["status", "updated_at", *(fields or [])])
    ProxyServiceEvent.objects.create(service=service, old_status=old, new_status=target,
                                     actor=actor, note=note[:200], at=timezone.now())
    return service


def _service_locked(service: ProxyService) -> ProxyService:
    return (ProxyService.objects.select_for_update(of=("self",))
            .select_related("compound__community", "resident", "assignee").get(pk=service.pk))


def proxy_service_request(*, resident: Resident, kind: str, title: str,
                          description: str = "") -> ProxyService:
    if not title.strip():
        raise ApplicationError(_("请填写需要代办的事项。"))
    with transaction.atomic():
        service = ProxyService.objects.create(
            compound_id=resident.household.building.compound_id, resident=resident, kind=kind,
            title=title.strip()[:100], description=description)
        ProxyServiceEvent.objects.create(service=service, new_status=service.status,
                                         actor=resident.user, at=timezone.now())
    return service


def proxy_service_record_for(*, resident: Resident, actor: User, kind: str, title: str,
                             consent: Consent, description: str = "") -> ProxyService:
    """代录: staff whose scope reaches the elder's home record an errand on their behalf, with
    the elder's consent noted (who agreed, how, when)."""
    if not rules.covers_resident(actor, resident):
        raise PermissionDeniedError(_("您无权为该居民代录。"))
    return proxy_service_create_for(resident=resident, actor=actor, kind=kind, title=title,
                                    description=description, consent=consent)


def proxy_service_create_for(*, resident: Resident, actor: User, kind: str, title: str,
                             consent: Consent, description: str = "") -> ProxyService:
    """The write behind a recording on someone's behalf; the caller has checked the actor may
    (staff in scope, or a carer turning their visit's need into an errand)."""
    consent = consent.checked()
    if not title.strip():
        raise ApplicationError(_("请填写需要代办的事项。"))
    if kind not in ProxyService.Kind.values:
        raise ApplicationError(_("请选择代办类型。"))
    with transaction.atomic():
        service = ProxyService.objects.create(
            compound_id=resident.household.building.compound_id, resident=resident, kind=kind,
            title=title.strip()[:100], description=description, **consent.fields(actor))
        ProxyServiceEvent.objects.create(
            service=service, new_status=service.status, actor=actor, at=timezone.now(),
            note=_("代录，%(by)s %(method)s") % {
                "by": consent.by, "method": service.get_consent_method_display()})
    return service


def proxy_service_assign(*, service: ProxyService, assignee: Volunteer,
                         actor: User) -> ProxyService:
    with transaction.atomic():
        service = _service_locked(service)
        require_staff(actor, service.compound)
        if assignee.compound_id != service.compound_id or not assignee.is_active:
            raise ApplicationError(_("代办人须为本小区在册志愿者。"))
        service.assignee = assignee
        service.assigned_at = timezone.now()
        _service_move(service=service, target=ProxyService.Status.ASSIGNED, actor=actor,
                      note=assignee.name, fields=["assignee", "assigned_at"])
        if assignee.user_id:
            notifications_create(user_ids=[assignee.user_id],
                                 title=Message(gettext_noop("新的帮办代办任务")),
                                 body=service.title, link=f"/volunteers/services/{service.pk}/",
                                 dedupe_key=f"service-assigned:{service.pk}:{assignee.pk}")
    return service


def proxy_service_complete(*, service: ProxyService, user: User, note: str) -> ProxyService:
    with transaction.atomic():
        service = _service_locked(service)
        if not rules.is_service_assignee(user, service):
            require_staff(user, service.compound)
        service.result_note = note.strip()
        service.done_at = timezone.now()
        _service_move(service=service, target=ProxyService.Status.DONE, actor=user,
                      fields=["result_note", "done_at"])
        if service.resident.user_id:
            notifications_create(user_ids=[service.resident.user_id],
                                 title=Message(gettext_noop("代办事项已办结")),
                                 body=service.title, link=f"/volunteers/services/{service.pk}/",
                                 dedupe_key=f"service-done:{service.pk}")
    return service


def proxy_service_confirm(*, service: ProxyService, user: User) -> ProxyService:
    with transaction.atomic():
        service = _service_locked(service)
        if not rules.is_service_owner(user, service):
            raise PermissionDeniedError(_("只有委托人可以确认。"))
        service.confirmed_at = timezone.now()
        return _service_move(service=service, target=ProxyService.Status.CONFIRMED, actor=user,
                             fields=["confirmed_at"])


def proxy_service_cancel(*, service: ProxyService, user: User, reason: str = "") -> ProxyService:
    with transaction.atomic():
        service = _service_locked(service)
        if not rules.is_service_owner(user, service):
            require_staff(user, service.compound)
        return _service_move(service=service, target=ProxyService.Status.CANCELLED, actor=user,
                             note=reason)
