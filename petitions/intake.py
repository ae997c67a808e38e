"""Staff on behalf of residents who do not use the portal: intake (代录) and callback (回访).

- Intake: a walk-in (来访) or a phone call (电话) recorded by community staff, a street admin or
  a grid worker, for a place in their scope, through `petition_submit` (placement, clocks,
  dispatch and notifications as for any petition). The number they take down is texted later
  (petitions.notify.sms_recipient), so they must say they checked it with the person, face to
  face or by calling it back; the check is on the timeline, in the recorder's name.
- Callback: once the result is verified, a member of staff other than the resolver calls or
  visits the person and records their rating. It is the petition's rating (满意率 counts it),
  marked with who recorded it and how, and has a resident's rating's effects: 满意 / 基本满意
  close the petition, a first 不满意 reopens it. A petition whose submitter (resident or external
  system) rates online is called back only once their rating window has passed unused.

Kept apart from petitions/services.py (like dispatch_queue.py); part of the petitions contract.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ApplicationError
from core.workflow import transition
from petitions import rules
from petitions.models import PETITION_TRANSITIONS, Category, Petition, PetitionState
from petitions.services import (
    STAFF_CHANNELS,
    Kind,
    _close,
    _event,
    _lock,
    _reopen,
    _require,
    petition_submit,
)
from residents.models import Household
from territory.models import Building

State = PetitionState
INTAKE_ROLES = frozenset({User.Role.GRID_WORKER, User.Role.COMMUNITY_STAFF,
                          User.Role.STREET_ADMIN})


def _may_record(actor: User) -> bool:
    return bool(actor.is_active and (actor.is_superuser or actor.role in INTAKE_ROLES))


def petition_intake(
    *,
    actor: User,
    channel: str,
    category: Category,
    description: str,
    contact_name: str,
    contact_phone: str = "",
    phone_verified: bool = False,
    household: Household | None = None,
    building: Building | None = None,
    location_text: str = "",
    photos: Sequence[UploadedFile[bytes]] = (),
    is_public: bool = False,
    answers: dict[str, Any] | None = None,
    size: str = Petition.Size.SMALL,
) -> Petition:
    """Record a walk-in or a phone call (代录).

    1. The recorder: grid worker, community staff, street admin (or superuser); the channel
       来访 or 电话; a contact name; a number only if they checked it with the person.
    2. `petition_submit` places it (the building, or the address alone), checks it lies in the
       recorder's scope, starts its clocks and dispatches it.
    3. An internal note records who checked the number, and how.
    """
    _require(_may_record(actor), _("只有网格员、社区工作人员或街道管理员可以代录诉求。"))
    if channel not in STAFF_CHANNELS:
        raise ApplicationError(_("代录的渠道须为来访登记或电话登记。"))
    contact_name = (contact_name or "").strip()
    if not contact_name:
        raise ApplicationError(_("请填写联系人姓名。"))
    if contact_phone and not phone_verified:
        raise ApplicationError(_("请先当面或回拨核实联系电话，再勾选“已核实号码”。"))
    with transaction.atomic():
        petition = petition_submit(
            actor=actor, category=category, description=description, channel=channel,
            household=household, building=building, location_text=location_text,
            photos=photos, contact_name=contact_name, contact_phone=contact_phone,
            is_public=is_public, answers=answers, size=size)
        if contact_phone:
            how = (_("登记人已当面核实联系电话。") if channel == Petition.Channel.WALK_IN
                   else _("登记人已电话核实联系电话。"))
            _event(petition, kind=Kind.NOTE, actor=actor, note=how, is_internal=True,
                   notify=False)
        return petition


def petition_callback_record(*, petition_id: int, actor: User, rating: str, method: str,
                             note: str = "") -> Petition:
    """Record the rating a member of staff took on a callback (回访) of a verified petition.

    1. Lock the row (404 outside the actor's scope); handler staff in scope, not the resolver;
       a petition with its own rater only after the rating window (rules.may_record_callback).
    2. Store the rating as the petition's, with who recorded it and how; a 评价 event in the
       recorder's name says it was a callback.
    3. As a resident's rating: 满意 / 基本满意 close it; a first 不满意 reopens it, a second
       closes it with the dissatisfaction on record.
    """
    if rating not in Petition.Rating.values:
        raise ApplicationError(_("请选择满意、基本满意或不满意。"))
    if method not in Petition.CallbackMethod.values:
        raise ApplicationError(_("请选择电话回访或上门回访。"))
    with transaction.atomic():
        petition = _lock(petition_id=petition_id, actor=actor)
        _require(rules.is_handler_staff(actor, petition),
                 _("只有网格员及以上工作人员可以回访。"))
        previous = transition(petition, State.RATED, table=PETITION_TRANSITIONS, field="state")
        now = timezone.now()
        _require(not rules.is_resolver(actor, petition),
                 _("办结人不能回访自己办结的诉求，请由其他工作人员回访。"))
        if not rules.may_record_callback(actor, petition, now):
            due = timezone.localtime(petition.rating_due_at).strftime("%Y-%m-%d %H:%M")
            raise ApplicationError(_("居民可在评价期内自行评价，评价期至 %(due)s，届满后方可回访。")
                                   % {"due": due})
        note = (note or "").strip()[:500]
        petition.rating = rating
        petition.rating_comment = note
        petition.rated_at = now
        petition.callback_by = actor
        petition.callback_method = method
        petition.save(update_fields=["state", "rating", "rating_comment", "rated_at",
                                     "callback_by", "callback_method", "updated_at"])
        label = f"{petition.get_callback_method_display()}：{petition.get_rating_display()}"
        _event(petition, kind=Kind.RATED, actor=actor, from_state=previous,
               note=f"{label} {note}".strip(), now=now)
        if rating == Petition.Rating.UNSATISFIED and petition.reopened_count == 0:
            return _reopen(petition, actor=actor, reason=note or _("回访不满意"))
        return _close(petition, actor=actor, note="", now=now)
