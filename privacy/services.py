"""Deletion of a resident's account (PIPL art. 47): the request, its decision by community
staff, and the anonymisation that approval runs over every app's part (privacy.registry)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from accounts.personal_data import ANONYMISED_NAME
from core.exceptions import ApplicationError, PermissionDeniedError
from core.workflow import transition
from notifications.messages import Message
from notifications.services import notifications_create
from privacy import anonymise, registry, rules
from privacy.models import DeletionRequest
from residents.models import Resident
from territory.models import Area


def deletion_request_create(*, user: User, reason: str = "") -> DeletionRequest:
    """A resident asks for their account to be deleted; community staff decide."""
    if not rules.may_request_deletion(user):
        raise ApplicationError(_("工作人员账户请联系街道管理员注销。"))
    resident = (Resident.objects.filter(user=user)
                .select_related("household__building__micro_grid").order_by("pk").first())
    area_path = resident.household.building.micro_grid.path if resident else ""
    try:
        with transaction.atomic():
            deletion_request = DeletionRequest.objects.create(
                user=user, reason=reason.strip()[:200], household_path=area_path)
            notifications_create(
                user_ids=_deciders_of(area_path), title=Message(gettext_noop("新的注销申请")),
                body=Message(gettext_noop("一位居民申请注销账户，请在管理后台审核。")),
                link=reverse("admin:privacy_deletionrequest_changelist"),
                dedupe_key=f"deletion-request:{deletion_request.pk}")
    except IntegrityError:
        raise ApplicationError(_("您已提交注销申请，请等待社区审核。")) from None
    return deletion_request


def _deciders_of(area_path: str) -> list[int]:
    """Community staff whose scope covers the household (street admins when none does)."""
    step = Area.steplen
    covering = [area_path[:end] for end in range(step, len(area_path) + 1, step)]
    deciders = list(User.objects.filter(role=User.Role.COMMUNITY_STAFF, is_active=True,
                                        scope_area__path__in=covering)
                    .values_list("pk", flat=True))
    return deciders or list(User.objects.filter(role=User.Role.STREET_ADMIN, is_active=True)
                            .values_list("pk", flat=True))


def deletion_request_cancel(*, deletion_request: DeletionRequest, user: User) -> DeletionRequest:
    return _deletion_request_move(deletion_request, user=user, to=DeletionRequest.Status.CANCELLED,
                                  is_own=True)


def deletion_request_reject(*, deletion_request: DeletionRequest, actor: User,
                            note: str = "") -> DeletionRequest:
    return _deletion_request_move(deletion_request, user=actor, note=note,
                                  to=DeletionRequest.Status.REJECTED)


def deletion_request_approve(*, deletion_request: DeletionRequest, actor: User,
                             note: str = "") -> DeletionRequest:
    """Approve, and anonymise the account in the same transaction (account_anonymise)."""
    return _deletion_request_move(deletion_request, user=actor, note=note,
                                  to=DeletionRequest.Status.APPROVED)


def _deletion_request_move(deletion_request: DeletionRequest, *, user: User, to: str,
                           note: str = "", is_own: bool = False) -> DeletionRequest:
    with transaction.atomic():
        locked = DeletionRequest.objects.select_for_update().get(pk=deletion_request.pk)
        if is_own and not rules.is_own_request(user, locked):
            raise PermissionDeniedError(_("这不是您的申请。"))
        if not is_own and not rules.may_decide(user, locked):
            raise PermissionDeniedError(_("您无权审核该注销申请。"))
        transition(locked, to, table=DeletionRequest.TRANSITIONS)
        locked.decided_by = None if is_own else user
        locked.decided_at = timezone.now()
        locked.decision_note = note.strip()[:200]
        fields = ["status", "decided_by", "decided_at", "decision_note", "updated_at"]
        if to == DeletionRequest.Status.APPROVED:
            account_anonymise(user=locked.user)
            locked.reason = ""
            fields.append("reason")
        locked.save(update_fields=fields)
    return locked


def account_anonymise(*, user: User) -> None:
    """Remove every trace of a resident's identity, keeping the records that must stay.

    1. Collect the identifiers: the account's phone, names and the ID numbers of its records.
    2. Each app's privacy.py does its rows. Records that must stay (petitions and their
       events, deliberation votes, volunteer hours, care visits' dates) keep their rows; their
       text is redacted where it names the person, the contact fields are cleared, and the
       resident's own photos are deleted.
    3. Resident, party-member, volunteer and care-file records are anonymised in place.
    4. What only served the person goes: inbox, outbound SMS, sign-in codes, sign-in logs.
    5. The account itself is renamed, emptied and disabled (its sessions no longer verify).
    Runs inside the caller's transaction.
    """
    identifiers = anonymise.identifiers_of(user)
    # Each app's step (its privacy.py) works on its own rows, found by the identifiers
    # collected above, so the steps do not depend on one another's order.
    for part in registry.parts:
        part.anonymise_rows(user=user, identifiers=identifiers)
    anonymise.traces_delete(user=user, identifiers=identifiers)
    user.username = f"deleted-{user.pk}"
    user.display_name = ANONYMISED_NAME
    user.phone = None
    user.email = user.first_name = user.last_name = ""
    user.is_active = False
    user.set_unusable_password()
    user.save(update_fields=["username", "display_name", "phone", "email", "first_name",
                             "last_name", "is_active", "password"])
