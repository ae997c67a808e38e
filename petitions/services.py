"""Every write to a petition. See petitions/CONTRACT.md for who may call what.

Each transition: one transaction, the row locked (select_for_update), the guard
(core.workflow.check_transition), save(update_fields=...), a PetitionEvent row, and the inbox /
SMS / webhook outbox rows written in the same transaction (delivered after commit).
The set-based sweep lives in petitions/sweep.py and is re-exported here.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ApplicationError, PermissionDeniedError
from core.images import photo_reencode
from core.workdays import WorkCalendar
from core.workflow import check_transition, transition
from petitions import extensions, policy, rules
from petitions.acceptance import accept_arm, accept_implied
from petitions.duplicates import merged_raters_invite
from petitions.locating import Placed, no_holder_reason, queue_dispatcher_ids, submission_place
from petitions.models import (
    FINISHED_STATES,
    MAX_PHOTOS,
    OPEN_STATES,
    PETITION_TRANSITIONS,
    BuildingPlaque,
    Category,
    NoVisitReason,
    PendingPhoto,
    Petition,
    PetitionEvent,
    PetitionPhoto,
    PetitionState,
    Placement,
    SlaPolicy,
    choice_label,
    is_internal_by_default,
)
from petitions.notify import notify_event
from petitions.sweep import (  # noqa: F401 - the sweep is part of this module's contract
    SweepResult,
    petitions_escalate_overdue,
    petitions_flag_supervision,
    petitions_record_missed_arrivals,
    petitions_sweep,
)
from petitions.workbench import petition_verifier_ids
from residents.models import Household
from territory.models import Area, Building

State = PetitionState
Kind = PetitionEvent.Kind
EXTERNAL_CHANNELS = frozenset({Petition.Channel.HOTLINE_12345, Petition.Channel.SUSUBAN,
                               Petition.Channel.API})
STAFF_CHANNELS = frozenset({Petition.Channel.WALK_IN, Petition.Channel.PHONE})


# --- helpers ---------------------------------------------------------------------------------


def _lock(*, petition_id: int, actor: User) -> Petition:
    """The row, locked; Http404 for anyone who may not even see it (guessed ids)."""
    petition = (Petition.objects.select_for_update().filter(pk=petition_id).first())
    if petition is None or not rules.can_view(actor, petition):
        raise Http404(_("诉求不存在。"))
    return petition


def _state_labels() -> dict[str, str]:
    """The states' names in the current language, for InvalidTransition's message."""
    return {state.value: str(state.label) for state in PetitionState}


def _require(allowed: bool, message: str | None = None) -> None:
    if not allowed:
        raise PermissionDeniedError(message or _("您无权进行此操作。"))


def _event(petition: Petition, *, kind: str, actor: User | None, from_state: str = "",
           note: str = "", from_tier: str = "", to_tier: str = "",
           is_internal: bool | None = None, now: datetime | None = None, notify: bool = True,
           extra_user_ids: tuple[int, ...] = ()) -> PetitionEvent:
    """The timeline row (its note internal as given, else as its kind's default) and its
    outbox rows."""
    event = PetitionEvent.objects.create(
        petition=petition, kind=kind, actor=actor, from_state=from_state,
        to_state=petition.state if from_state else "", from_tier=from_tier, to_tier=to_tier,
        note=note, created_at=now or timezone.now(),
        is_internal=is_internal_by_default(kind) if is_internal is None else is_internal,
    )
    if notify:
        notify_event(petition=petition, event=event, extra_user_ids=extra_user_ids)
    return event


def _save_photos(petition: Petition, photos: Sequence[UploadedFile[bytes]], *, actor: User | None,
                 event: PetitionEvent | None) -> list[PetitionPhoto]:
    if len(photos) > MAX_PHOTOS:
        raise ValidationError(_("最多上传 %(count)s 张照片。") % {"count": MAX_PHOTOS},
                              code="too_many_photos")
    cleaned = [photo_reencode(photo) for photo in photos]  # all checked before any is stored
    rows = []
    for content in cleaned:
        row = PetitionPhoto(petition=petition, event=event, uploaded_by=actor)
        # photo_reencode names every file it returns (the stubs' File.name is optional).
        row.image.save(cast(str, content.name), content, save=False)
        rows.append(row)
    return PetitionPhoto.objects.bulk_create(rows)


def _attach_held_photos(petition: Petition, held: Sequence[PendingPhoto], *,
                        actor: User | None, event: PetitionEvent) -> None:
    """The photos kept from a refused form become the petition's, on the same (re-encoded)
    files. The rows are locked and deleted here, so the purge, which deletes a file only after
    deleting its row, can never take a file a petition holds."""
    if not held:
        return
    rows = list(PendingPhoto.objects.select_for_update()
                .filter(pk__in=[photo.pk for photo in held], uploaded_by=actor).order_by("id"))
    if actor is None or len(rows) != len(held):
        raise ValidationError(_("已上传的照片已过期，请重新选择照片。"), code="photo_expired")
    PetitionPhoto.objects.bulk_create([
        PetitionPhoto(petition=petition, event=event, uploaded_by=actor, image=row.image.name)
        for row in rows])
    PendingPhoto.objects.filter(pk__in=[row.pk for row in rows]).delete()


def _community_dispatcher_ids(petition: Petition) -> tuple[int, ...]:
    """Community staff whose scope covers the petition: who hears about returns."""
    community_path = petition.origin_path[:8]
    return tuple(User.objects.filter(role=User.Role.COMMUNITY_STAFF, is_active=True,
                                     scope_area__path=community_path)
                 .values_list("id", flat=True)[:5])


def _arm_due_reminder(petition: Petition, sla_policy: SlaPolicy) -> None:
    """催办 of the current tier's deadline (petitions/alerts.py), at the policy's share of it."""
    petition.due_remind_at = policy.reminder_at(petition.clock_started_at, petition.due_at,
                                                sla_policy.reminder_share)
    # The deadline moved: the card sweep (petitions/cards.py) looks at the row again.
    petition.card_check_at = timezone.now()


def _arm_arrival(petition: Petition, now: datetime, sla_policy: SlaPolicy) -> None:
    """A fresh arrival clock from `now`, with its 催办 at the policy's share of it."""
    petition.arrival_due_at = policy.arrival_deadline(now, sla_policy)
    petition.arrival_remind_at = policy.reminder_at(now, petition.arrival_due_at,
                                                    sla_policy.reminder_share)
    petition.card_check_at = now  # a new clock for the card sweep (petitions/cards.py)


def _place(petition: Petition, origin: Area, tier: str) -> None:
    area = policy.tier_area(origin, tier)
    petition.tier = tier
    petition.area = area
    petition.area_path = area.path
    petition.due_at = policy.tier_deadline(petition, tier)


# --- submission ------------------------------------------------------------------------------


def _check_submitter(actor: User | None, *, household: Household | None, channel: str,
                     contact_phone: str) -> None:
    if actor is None:
        if not contact_phone:
            raise ApplicationError(_("匿名提交须留下已验证的回访电话。"))
        return
    if actor.role == User.Role.RESIDENT:
        if channel != Petition.Channel.MOBILE_WEB:
            raise ApplicationError(_("居民只能通过手机网页提交诉求。"))
        if household is not None and not household.residents.filter(user=actor).exists():
            raise PermissionDeniedError(_("只能为自己的住户提交诉求。"))
    elif actor.role == User.Role.EXTERNAL_SYSTEM:
        if channel not in EXTERNAL_CHANNELS:
            raise ApplicationError(_("外部系统的渠道须为 12345、诉速办或其他系统。"))
    elif not (actor.is_staff_role or actor.is_superuser):
        raise PermissionDeniedError(_("您无权登记诉求。"))


def unanswered_questions(category: Category, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """The category's required extra questions that `answers` leaves blank, in their order."""
    return [question for question in category.extra_questions or []
            if question.get("required") and not str(answers.get(question.get("key"), "")).strip()]


def _check_answers(category: Category, answers: dict[str, Any]) -> None:
    """Every required extra question of the category must be answered."""
    missing = [str(question.get("label", question.get("key")))
               for question in unanswered_questions(category, answers)]
    if missing:
        raise ApplicationError(_("请回答：%(questions)s") % {"questions": "、".join(missing)},
                               extra={"missing": missing})


def _check_staff_scope(actor: User | None, origin: Area) -> None:
    """Staff record petitions only for places in their scope (street admins: anywhere)."""
    if actor is None or not (actor.is_staff_role or actor.is_superuser):
        return
    prefix = rules.visibility_prefix(actor)
    if prefix is None or not origin.path.startswith(prefix):
        raise PermissionDeniedError(_("只能登记您管辖范围内的诉求。"))


def _check_system_scope(actor: User | None, origin: Area) -> None:
    """A system whose key has a scope files petitions only for places inside it."""
    if actor is None or actor.role != User.Role.EXTERNAL_SYSTEM:
        return
    scope = actor.scope_area  # no query for a key without a scope: the id is empty
    if scope is None:
        return
    if not origin.path.startswith(scope.path):
        raise PermissionDeniedError(
            _("该 API 密钥只能提交其管辖范围（%(area)s）内的诉求。") % {"area": scope.name})


def petition_submit(
    *,
    actor: User | None,
    category: Category,
    description: str,
    channel: str = Petition.Channel.MOBILE_WEB,
    household: Household | None = None,
    building: Building | None = None,
    area: Area | None = None,
    location_text: str = "",
    unit_number: str = "",
    room: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    photos: Sequence[UploadedFile[bytes]] = (),
    held_photos: Sequence[PendingPhoto] = (),
    contact_name: str = "",
    contact_phone: str = "",
    is_public: bool = False,
    is_anonymous: bool = False,
    answers: dict[str, Any] | None = None,
    size: str = Petition.Size.SMALL,
    external_ref: str | None = None,
) -> Petition:
    """Accept a petition and start its clocks.

    1. Check who submits (resident for their own household, staff recording a walk-in/phone
       call, an external system, or anonymous with a verified callback phone).
    2. An external system retrying with the same external_ref gets the first petition back
       (`petition.was_created` is False then, True for a new petition).
    3. Compute every deadline from the SlaPolicy; triage by size (small → micro-grid,
       big → grid, hard → street).
    4. Place it on the area covering the building (inside the scope of staff and of a scoped
       key, else PermissionDeniedError); dispatch to that tier's worker if one exists. The flat
       (unit, room) comes from the household, else from what was given or read in the address.
    5. Store up to 3 re-encoded photos (`photos`, and the actor's own `held_photos` kept from
       a refused form: petitions.pending_photos); write events; notify.
    """
    description = (description or "").strip()
    if not description:
        raise ApplicationError(_("请填写诉求内容。"))
    if not category.is_active:
        raise ApplicationError(_("该分类已停用。"))
    _check_submitter(actor, household=household, channel=channel, contact_phone=contact_phone)
    _check_answers(category, answers or {})
    is_external = actor is not None and actor.role == User.Role.EXTERNAL_SYSTEM
    if is_external and external_ref:
        existing = Petition.objects.filter(external_system=actor, external_ref=external_ref).first()
        if existing is not None:
            existing.was_created = False
            return existing
    if actor is not None and actor.role == User.Role.RESIDENT:
        size = Petition.Size.SMALL  # residents don't triage; staff may re-size later
        if not contact_phone:
            contact_phone = actor.phone or ""
    if len(photos) + len(held_photos) > MAX_PHOTOS:
        raise ValidationError(_("最多上传 %(count)s 张照片。") % {"count": MAX_PHOTOS},
                              code="too_many_photos")
    placed = submission_place(actor=actor, household=household, building=building, area=area,
                              location_text=location_text, latitude=latitude,
                              longitude=longitude)
    _check_staff_scope(actor, placed.origin)
    _check_system_scope(actor, placed.origin)
    unit_number, room = _flat(household, placed, unit_number=unit_number, room=room)
    try:
        with transaction.atomic():
            return _create(
                actor=actor, is_external=is_external, category=category,
                description=description, channel=channel, household=household,
                building=placed.building, placed=placed, location_text=location_text,
                unit_number=unit_number, room=room, latitude=latitude, longitude=longitude,
                photos=photos, held_photos=held_photos,
                contact_name=contact_name, contact_phone=contact_phone, is_public=is_public,
                is_anonymous=is_anonymous, answers=answers or {}, size=size,
                external_ref=external_ref,
            )
    except IntegrityError:
        # Two concurrent retries of one external submission: the loser returns the winner's row.
        if is_external and external_ref:
            existing = Petition.objects.get(external_system=actor, external_ref=external_ref)
            existing.was_created = False
            return existing
        raise


def _flat(household: Household | None, placed: Placed, *, unit_number: str,
          room: str) -> tuple[str, str]:
    """(unit, room) of the visit: a household's own, else the given ones, else the address's."""
    if household is not None:
        return household.unit.number, household.room
    return ((unit_number or "").strip()[:10] or placed.unit_number,
            (room or "").strip()[:10] or placed.room)


def _create(*, actor: User | None, is_external: bool, category: Category, placed: Placed,
            size: str, photos: Sequence[UploadedFile[bytes]], held_photos: Sequence[PendingPhoto],
            **fields: Any) -> Petition:
    now = timezone.now()
    sla_policy = SlaPolicy.current()
    deadlines = policy.compute_deadlines(now, policy.Durations.of(sla_policy))
    is_resident = actor is not None and actor.role == User.Role.RESIDENT
    is_pending = placed.placement == Placement.PENDING
    petition = Petition(
        category=category, size=size, state=State.SUBMITTED, submitted_at=now,
        clock_started_at=now, origin_path=placed.origin.path, placement=placed.placement,
        placed_at=None if is_pending else now, placement_reason=placed.reason,
        submitter=actor if is_resident else None,
        recorded_by=actor if actor is not None and actor.is_staff_role else None,
        external_system=actor if is_external else None,
        # The arrival clock runs from dispatch: an unplaced petition has none yet.
        arrival_due_at=None if is_pending else deadlines.arrival_due_at,
        microgrid_due_at=deadlines.microgrid_due_at,
        grid_due_at=deadlines.grid_due_at, street_due_at=deadlines.street_due_at,
        deadline_estimated=deadlines.is_estimated, **fields,
    )
    if not petition.external_ref:
        petition.external_ref = None
    _place(petition, placed.origin, policy.initial_tier(size))
    _arm_due_reminder(petition, sla_policy)
    petition.arrival_remind_at = policy.reminder_at(now, petition.arrival_due_at,
                                                    sla_policy.reminder_share)
    holder_id = None if is_pending else policy.tier_holder_id(petition.area, petition.tier)
    if holder_id is None and not is_pending:
        petition.placement_reason = no_holder_reason(petition.area)
    petition.full_clean(exclude=["category", "area", "household", "building", "submitter",
                                 "recorded_by", "external_system", "holder"])
    petition.save()
    petition.was_created = True
    event = _event(petition, kind=Kind.SUBMITTED, actor=actor, now=now,
                   extra_user_ids=queue_dispatcher_ids(petition) if holder_id is None else ())
    _save_photos(petition, photos, actor=actor, event=event)
    _attach_held_photos(petition, held_photos, actor=actor, event=event)
    if holder_id is not None:
        previous = transition(petition, State.DISPATCHED, table=PETITION_TRANSITIONS, field="state")
        petition.holder_id = holder_id
        petition.dispatched_at = now
        accepting = accept_arm(petition, now=now, sla_policy=sla_policy)
        petition.save(update_fields=["state", "holder", "dispatched_at", "updated_at",
                                     *accepting])
        _event(petition, kind=Kind.DISPATCHED, actor=None, from_state=previous,
               note=_("自动派单"), now=now)
    return petition


# --- dispatching -----------------------------------------------------------------------------


def petition_triage(*, petition_id: int, actor: User, size: str, note: str = "") -> Petition:
    """Set the size (小事/大事/难事). A bigger matter moves up to its tier at once (never down);
    the deadline becomes that tier's, measured from acceptance. Dispatcher or holder."""
    if size not in Petition.Size.values:
        raise ApplicationError(_("事项大小无效。"))
    with transaction.atomic():
        petition = _lock(petition_id=petition_id, actor=actor)
        _require(rules.is_dispatcher(actor, petition) or rules.is_holder(actor, petition))
        if petition.state not in OPEN_STATES:
            raise ApplicationError(_("已办结的诉求不能再分级。"))
        old_tier = petition.tier
        petition.size = size
        fields = ["size", "updated_at"]
        target = policy.initial_tier(size)
        if policy.is_above(target, old_tier):
            origin = Area.objects.get(path=petition.origin_path)
            _place(petition, origin, target)
            old_holder_id = petition.holder_id
            petition.holder_id = (policy.tier_holder_id(petition.area, target)
                                  or petition.holder_id)
            sla_policy = SlaPolicy.current()
            _arm_due_reminder(petition, sla_policy)
            fields += ["tier", "area", "area_path", "due_at", "holder", "due_remind_at",
                       "card_check_at"]
            if petition.holder_id != old_holder_id:  # a hand-over: the new holder accepts
                fields += accept_arm(petition, now=timezone.now(), sla_policy=sla_policy)
        petition.save(update_fields=fields)
        _event(petition, kind=Kind.TRIAGED, actor=actor, note=note or petition.get_size_display(),
               from_tier=old_tier, to_tier=petition.tier)
        return petition


def _check_holder_candidate(holder: User, petition: Petition) -> None:
    if not holder.is_active or not (holder.is_staff_role or holder.is_superuser):
        raise ApplicationError(_("只能派给在岗的工作人员。"))
    if not rules.covers(holder, petition):
        raise ApplicationError(_("承办人的管辖范围不包含该诉求。"))


def petition_dispatch(*, petition_id: int, actor: User, holder: User, note: str = "") -> Petition:
    """Hand the petition to a worker (from submitted, returned, reopened). Community dispatcher.
    The resolution clock is never restarted; after a reopen the arrival clock starts again."""
    with transaction.atomic():
        petition = _lock(petition_id=petition_id, actor=actor)
        _require(rules.is_dispatcher(actor, petition))
        _check_holder_candidate(holder, petition)
        previous = transition(petition, State.DISPATCHED, table=PETITION_TRANSITIONS, field="state")
        return _dispatch_to(petition, holder_id=holder.pk, actor=actor, previous=previous,
                            note=note)


def _dispatch_to(petition: Petition, *, holder_id: int, actor: User | None, previous: str,
                 note: str) -> Petition:
    now = timezone.now()
    sla_policy = SlaPolicy.current()
    petition.holder_id = holder_id
    petition.dispatched_at = now
    fields = ["state", "holder", "dispatched_at", "updated_at",
              *accept_arm(petition, now=now, sla_policy=sla_policy)]
    # The arrival clock runs from dispatch; a petition that waited in 待分派 starts it now.
    if previous == State.REOPENED or petition.arrival_due_at is None:
        _arm_arrival(petition, now, sla_policy)
        petition.arrived_at = None
        fields += ["arrival_due_at", "arrival_remind_at", "arrived_at", "card_check_at"]
    petition.save(update_fields=fields)
    _event(petition, kind=Kind.DISPATCHED, actor=actor, from_state=previous, note=note, now=now)
    return petition


def petition_check_in(*, petition_id: int, actor: User,
                      plaque_building_id: int | None = None) -> Petition:
    """The holder is on site. Late against the arrival clock: the miss is recorded.

    With `plaque_building_id` the check-in came from scanning that building's QR plaque: it
    must be the petition's building, and the event says so (the proof of arrival)."""
    with transaction.atomic():
        petition = _lock(petition_id=petition_id, actor=actor)
        _require(rules.is_holder(actor, petition), _("只有承办人可以到场签到。"))
        if plaque_building_id is not None and petition.building_id != plaque_building_id:
            raise ApplicationError(_("这块楼栋码不是该诉求所在楼栋的，请到现场扫描对应楼栋码。"))
        previous = transition(petition, State.ON_SITE, table=PETITION_TRANSITIONS, field="state")
        now = timezone.now()
        petition.arrived_at = now
        petition.last_progress_at = now
        fields = ["state", "arrived_at", "last_progress_at", "updated_at",
                  *accept_implied(petition, actor=actor, now=now)]
        if policy.is_late(petition.arrival_due_at, now) and not petition.arrival_missed:
            petition.arrival_missed = True
            fields.append("arrival_missed")
        petition.save(update_fields=fields)
        note = _("扫楼栋码到场签到") if plaque_building_id is not None else ""
        _event(petition, kind=Kind.CHECKED_IN, actor=actor, from_state=previous, now=now,
               note=note)
        return petition


def building_plaque_get_or_create(*, building_id: int) -> BuildingPlaque:
    """The building's plaque, made on its first print (two prints at once: one row wins)."""
    plaque, _created = BuildingPlaque.objects.get_or_create(
        building_id=building_id, defaults={"token": secrets.token_urlsafe(16)})
    return plaque


def petition_add_note(
    *, petition_id: int, actor: User, note: str, photos: Sequence[UploadedFile[bytes]] = (),
    is_internal: bool | None = None,
) -> PetitionEvent:
    """A progress note with up to 3 photos. Owner (their notes are never internal), holder,
    handler staff (internal unless written for the resident: `is_internal=False`)."""
    note = (note or "").strip()
    if not note and not photos:
        raise ApplicationError(_("请填写办理记录或上传照片。"))
    with transaction.atomic():
        petition = _lock(petition_id=petition_id, actor=actor)
        is_staff_side = rules.can_handle(actor, petition)
        _require(is_staff_side or rules.is_owner(actor, petition))
        if petition.state in FINISHED_STATES:  # closed, rejected, merged into another
            raise ApplicationError(_("诉求已结束，不能再添加记录。"))
        event = _event(petition, kind=Kind.NOTE, actor=actor, note=note,
                       is_internal=is_staff_side and is_internal is not False)
        _save_photos(petition, photos, actor=actor, event=event)
        if is_staff_side:  # progress, for the stalled-work digest (petitions/stalled.py)
            petition.last_progress_at = event.created_at
            petition.save(update_fields=["last_progress_at", "updated_at",
                                         *accept_implied(petition, actor=actor,
                                                         now=event.created_at)])
        return event


def _check_visit(petition: Petition, *, no_visit_reason: str, no_visit_note: str) -> None:
    """办结 after a check-in, or with a reason the matter needed no visit (电话办结…)."""
    if petition.arrived_at is not None:
        if no_visit_reason:
            raise ApplicationError(_("已到场签到，无需选择未到场办结原因。"))
        return
    if not no_visit_reason:
        raise ApplicationError(
            _("请先到场签到再办结；无需到场的事项（如电话办结），请选择未到场办结原因。"))
    if no_visit_reason == NoVisitReason.OTHER and not no_visit_note:
        raise ApplicationError(_("选择“其他”时，请说明未到场办结的原因。"))


def _check_result_photos(petition: Petition, photos: Sequence[UploadedFile[bytes]]) -> None:
    if petition.category.requires_result_photo and not photos:
        raise ApplicationError(_("“%(category)s”类诉求办结时须上传现场照片。")
                               % {"category": petition.category.name})


def _no_visit_note(*, no_visit_reason: str, no_visit_note: str) -> str:
    reason = choice_label(NoVisitReason, no_visit_reason)
    if no_visit_reason == NoVisitReason.OTHER:
        reason = no_visit_note
    elif no_visit_note:
        reason = f"{reason}：{no_visit_note}"
    return _("未到场办结：%(reason)s") % {"reason": reason}


def petition_resolve(*, petition_id: int, actor: User, resolution: str,
                     photos: Sequence[UploadedFile[bytes]] = (), no_visit_reason: str = "",
                     no_visit_note: str = "") -> Petition:
    """Done. Holder or handler staff.

    1. The round's check-in is required, or a NoVisitReason (其他 with a note) for a matter that
       needed no visit: recorded on the petition and the event, and the arrival counts as missed
       (the response rate), however early it came.
    2. A category with `requires_result_photo` needs at least one photo with the result.
    3. Records whether it was on time and at which tier, and who resolved it.
    """
    resolution = (resolution or "").strip()
    no_visit_note = (no_visit_note or "").strip()[:200]
    if not resolution:
        raise ApplicationError(_("请填写办理结果。"))
    if no_visit_reason and no_visit_reason not in NoVisitReason.values:
        raise ApplicationError(_("未到场办结原因无效。"))
    with transaction.atomic():
        petition = _lock(petition_id=petition_id, actor=actor)
        _require(rules.can_handle(actor, petition))
        check_transition(PETITION_TRANSITIONS, petition.state, State.RESOLVED,
                         labels=_state_labels())
        _check_visit(petition, no_visit_reason=no_visit_reason, no_visit_note=no_visit_note)
        _check_result_photos(petition, photos)
        previous = transition(petition, State.RESOLVED, table=PETITION_TRANSITIONS, field="state")
        now = timezone.now()
        petition.resolution = resolution
        petition.resolved_at = now
        petition.resolved_on_time = policy.is_resolved_on_time(petition, now)
        petition.resolved_tier = petition.tier
        petition.resolved_by = actor
        petition.no_visit_reason = no_visit_reason
        petition.no_visit_note = no_visit_note if no_visit_reason else ""
        fields = ["state", "resolution", "resolved_at", "resolved_on_time", "resolved_tier",
                  "resolved_by", "no_visit_reason", "no_visit_note", "updated_at",
                  *accept_implied(petition, actor=actor, now=now)]
        if no_visit_reason and not petition.arrival_missed:
            petition.arrival_missed = True
            fields.append("arrival_missed")
        petition.save(update_fields=fields)
        event = _event(petition, kind=Kind.RESOLVED, actor=actor, from_state=previous,
                       note=resolution, now=now,
                       extra_user_ids=petition_verifier_ids(petition=petition,
                                                            resolver_id=actor.pk))
        _save_photos(petition, photos, actor=actor, event=event)
        if no_visit_reason:  # how it was done is the staff's record; the result, the resident's
            _event(petition, kind=Kind.NOTE, actor=actor, is_internal=True, notify=False,
                   now=now, note=_no_visit_note(no_visit_reason=no_visit_reason,
                                                no_visit_note=no_visit_note))
        return petition


def petition_verify(*, petition_id: int, actor: User, accepted: bool = True,
                    note: str = "") -> Petition:
    """Staff check the result: handler staff other than the resolver (a check of one's own work
    is no check). Accepted: the resident's rating window opens (SlaPolicy.rating_window).
    Refused: back to the holder (dispatched) with a new arrival clock: 办结 needs a new visit."""
    with transaction.atomic():
        petition = _lock(petition_id=petition_id, actor=actor)
        _require(rules.is_handler_staff(actor, petition), _("只有网格员及以上工作人员可以核实。"))
        if petition.state != State.RESOLVED:
            check_transition(PETITION_TRANSITIONS, petition.state, State.VERIFIED,
                             labels=_state_labels())
        _require(not rules.is_resolver(actor, petition),
                 _("办结人不能核实自己办结的诉求，请由其他工作人员核实。"))
        if accepted:
            previous = transition(petition, State.VERIFIED, table=PETITION_TRANSITIONS,
                                  field="state")
            petition.verified_at = timezone.now()
            petition.rating_due_at = policy.rating_deadline(petition.verified_at,
                                                            SlaPolicy.current())
            petition.save(update_fields=["state", "verified_at", "rating_due_at", "updated_at"])
            _event(petition, kind=Kind.VERIFIED, actor=actor, from_state=previous, note=note)
            # The submitters of petitions merged into this one are asked to rate it too.
            merged_raters_invite(petition=petition, now=petition.verified_at)
        else:
            if not note.strip():
                raise ApplicationError(_("请说明核实未通过的原因。"))
            previous = transition(petition, State.DISPATCHED, table=PETITION_TRANSITIONS,
                                  field="state")
            now = timezone.now()
            petition.resolved_at = None
            petition.resolved_on_time = None
            petition.resolved_tier = ""
            petition.resolved_by = None
            # Back to the holder for another visit: a fresh arrival clock, check-in open again
            # (the first round's arrival stays in the timeline, a miss stays on the record).
            _arm_arrival(petition, now, SlaPolicy.current())
            petition.arrived_at = None
            petition.no_visit_reason = ""
            petition.no_visit_note = ""
            petition.save(update_fields=["state", "resolved_at", "resolved_on_time",
                                         "resolved_tier", "resolved_by", "arrival_due_at",
                                         "card_check_at",
                                         "arrival_remind_at", "arrived_at", "no_visit_reason",
                                         "no_visit_note", "updated_at"])
            _event(petition, kind=Kind.VERIFY_FAILED, actor=actor, from_state=previous,
                   note=note, now=now)
        return petition


def petition_rate(*, petition_id: int, actor: User, rating: str, comment: str = "") -> Petition:
    """The resident (or the external system that submitted it) rates a verified result.

    1. 满意 / 基本满意: rated, then closed.
    2. 不满意 and never reopened: rated, reopened, and re-dispatched to the holder.
    3. 不满意 after one reopen: rated, then closed (the record keeps the dissatisfaction).
    """
    if rating not in Petition.Rating.values:
        raise ApplicationError(_("请选择满意、基本满意或不满意。"))
    with transaction.atomic():
        petition = _lock(petition_id=petition_id, actor=actor)
        _require(rules.is_owner(actor, petition), _("只有提交人可以评价。"))
        previous = transition(petition, State.RATED, table=PETITION_TRANSITIONS, field="state")
        now = timezone.now()
        petition.rating = rating
        petition.rating_comment = comment[:500]
        petition.rated_at = now
        petition.save(update_fields=["state", "rating", "rating_comment", "rated_at",
                                     "updated_at"])
        _event(petition, kind=Kind.RATED, actor=actor, from_state=previous,
               note=f"{petition.get_rating_display()} {comment}".strip(), now=now)
        if rating == Petition.Rating.UNSATISFIED and petition.reopened_count == 0:
            return _reopen(petition, actor=actor, reason=comment or _("居民不满意"))
        return _close(petition, actor=actor, note="", now=now)


def petition_reopen(*, petition_id: int, actor: User, reason: str) -> Petition:
    """Reopen a rated or closed petition, once in its life (owner or dispatcher): the matter
    came back. It gets fresh clocks and goes back to its holder. A petition closed through
    deliberation or never resolved (rejected) cannot be reopened."""
    if not (reason or "").strip():
        raise ApplicationError(_("请说明重办原因。"))
    with transaction.atomic():
        petition = _lock(petition_id=petition_id, actor=actor)
        _require(rules.is_owner(actor, petition) or rules.is_dispatcher(actor, petition))
        if petition.state == State.CLOSED and (petition.referred_at is not None
                                               or not petition.rating):
            raise ApplicationError(_("只有居民评价后关闭的诉求可以重办。"))
        return _reopen(petition, actor=actor, reason=reason)


def _reopen(petition: Petition, *, actor: User, reason: str) -> Petition:
    if petition.reopened_count >= 1:
        raise ApplicationError(_("每件诉求只能重办一次。"))
    previous = transition(petition, State.REOPENED, table=PETITION_TRANSITIONS, field="state")
    now = timezone.now()
    # The resolution clocks start again from the reopen: the first round's deadlines are spent.
    sla_policy = SlaPolicy.current()
    deadlines = policy.compute_deadlines(now, policy.Durations.of(sla_policy))
    petition.reopened_count += 1
    petition.clock_started_at = now
    petition.microgrid_due_at = deadlines.microgrid_due_at
    petition.grid_due_at = deadlines.grid_due_at
    petition.street_due_at = deadlines.street_due_at
    petition.due_at = deadlines.for_tier(petition.tier)
    petition.deadline_estimated = deadlines.is_estimated
    _arm_due_reminder(petition, sla_policy)
    # A new round: new clocks for the card sweep, and no card of the first round on the row.
    petition.card_check_at, petition.yellow_card_at, petition.red_card_at = now, None, None
    petition.resolved_at = None
    petition.resolved_on_time = None
    petition.resolved_tier = ""
    petition.resolved_by = None
    petition.no_visit_reason = ""
    petition.no_visit_note = ""
    petition.closed_at = None
    petition.save(update_fields=["state", "reopened_count", "clock_started_at",
                                 "microgrid_due_at", "grid_due_at", "street_due_at", "due_at",
                                 "resolved_at", "resolved_on_time", "resolved_tier",
                                 "resolved_by", "no_visit_reason", "no_visit_note",
                                 "closed_at", "deadline_estimated", "due_remind_at",
                                 "card_check_at", "yellow_card_at", "red_card_at",
                                 "updated_at"])
    _event(petition, kind=Kind.REOPENED, actor=actor, from_state=previous, note=reason, now=now)
    if petition.holder_id is None:
        return petition
    previous = transition(petition, State.DISPATCHED, table=PETITION_TRANSITIONS, field="state")
    return _dispatch_to(petition, holder_id=petition.holder_id, actor=None, previous=previous,
                        note=_("重办自动派单"))


def petition_return(*, petition_id: int, actor: User, reason: str) -> Petition:
    """Misrouted: the holder hands it back to the community dispatcher. The clock keeps running."""
    if not (reason or "").strip():
        raise ApplicationError(_("请说明退回原因。"))
    with transaction.atomic():
        petition = _lock(petition_id=petition_id, actor=actor)
        _require(rules.is_holder(actor, petition), _("只有承办人可以退回。"))
        previous = transition(petition, State.RETURNED, table=PETITION_TRANSITIONS, field="state")
        petition.holder_id = None
        petition.save(update_fields=["state", "holder", "updated_at"])
        _event(petition, kind=Kind.RETURNED, actor=actor, from_state=previous, note=reason,
               extra_user_ids=_community_dispatcher_ids(petition))
        return petition


def petition_reroute(*, petition_id: int, actor: User, building: Building | None = None,
                     area: Area | None = None, holder: User | None = None,
                     note: str = "") -> Petition:
    """The dispatcher re-places a returned petition (new building or area, new holder).
    The tier and every deadline are unchanged: a misroute does not buy time."""
    with transaction.atomic():
        petition = _lock(petition_id=petition_id, actor=actor)
        _require(rules.is_dispatcher(actor, petition))
        if petition.state != State.RETURNED:
            raise ApplicationError(_("只有退回的诉求可以改派。"))
        origin = building.micro_grid if building is not None else area
        if origin is not None:
            prefix = rules.visibility_prefix(actor)
            if prefix is None or not origin.path.startswith(prefix):
                raise PermissionDeniedError(_("只能改派到您管辖的区域。"))
            petition.origin_path = origin.path
            if building is not None:
                petition.building = building
            tier = petition.tier
            area_for_tier = policy.tier_area(origin, tier)
            petition.area = area_for_tier
            petition.area_path = area_for_tier.path
        if holder is None:
            holder_id = policy.tier_holder_id(petition.area, petition.tier)
            if holder_id is None:
                raise ApplicationError(_("该区域暂无承办人，请指定承办人。"))
        else:
            _check_holder_candidate(holder, petition)
            holder_id = holder.pk
        previous = transition(petition, State.DISPATCHED, table=PETITION_TRANSITIONS, field="state")
        petition.holder_id = holder_id
        accepting = accept_arm(petition, now=timezone.now(), sla_policy=SlaPolicy.current())
        petition.save(update_fields=["state", "holder", "origin_path", "building", "area",
                                     "area_path", "updated_at", *accepting])
        _event(petition, kind=Kind.REROUTED, actor=actor, from_state=previous, note=note)
        return petition


def petition_reject(*, petition_id: int, actor: User, reason: str) -> Petition:
    """Not accepted (out of remit, duplicate…); the reason is shown to the resident."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("请填写不予受理的原因。"))
    with transaction.atomic():
        petition = _lock(petition_id=petition_id, actor=actor)
        _require(rules.is_dispatcher(actor, petition))
        previous = transition(petition, State.REJECTED, table=PETITION_TRANSITIONS, field="state")
        petition.rejection_reason = reason[:300]
        petition.closed_at = timezone.now()
        petition.save(update_fields=["state", "rejection_reason", "closed_at", "updated_at"])
        _event(petition, kind=Kind.REJECTED, actor=actor, from_state=previous, note=reason)
        return petition


def petition_escalate_by_hand(*, petition_id: int, actor: User, reason: str) -> Petition:
    """Move an open petition up one tier now (holder or handler staff), with a reason."""
    if not (reason or "").strip():
        raise ApplicationError(_("请填写升级原因。"))
    with transaction.atomic():
        petition = _lock(petition_id=petition_id, actor=actor)
        _require(rules.can_handle(actor, petition))
        if petition.state not in OPEN_STATES:
            raise ApplicationError(_("只有办理中的诉求可以升级。"))
        new_tier = policy.NEXT_TIER.get(petition.tier)
        if new_tier is None:
            raise ApplicationError(_("诉求已在街道层级，无法再升级。"))
        old_tier, old_holder_id = petition.tier, petition.holder_id
        origin = Area.objects.get(path=petition.origin_path)
        _place(petition, origin, new_tier)
        petition.holder_id = (policy.tier_holder_id(petition.area, new_tier)
                              or petition.holder_id)
        sla_policy = SlaPolicy.current()
        _arm_due_reminder(petition, sla_policy)
        fields = ["tier", "area", "area_path", "due_at", "holder", "due_remind_at", "card_check_at",
                  "updated_at"]
        if petition.holder_id != old_holder_id:  # a hand-over: the new holder accepts
            fields += accept_arm(petition, now=timezone.now(), sla_policy=sla_policy)
        petition.save(update_fields=fields)
        _event(petition, kind=Kind.ESCALATED, actor=actor, note=reason, from_tier=old_tier,
               to_tier=new_tier)
        return petition


def petition_refer_to_deliberation(*, petition_id: int, actor: User, note: str = "",
                                   topic_id: int | None = None) -> Petition:
    """Send a matter that needs the residents' say to the deliberation day. Grid workers and
    dispatchers in scope may (the issue: "a petition referred by a grid worker").
    The deliberation app may pass the topic id now or later (petition_link_topic)."""
    with transaction.atomic():
        petition = _lock(petition_id=petition_id, actor=actor)
        _require(rules.is_handler_staff(actor, petition))
        previous = transition(petition, State.REFERRED, table=PETITION_TRANSITIONS, field="state")
        petition.referred_at = timezone.now()
        petition.deliberation_topic_id = topic_id
        petition.save(update_fields=["state", "referred_at", "deliberation_topic_id",
                                     "updated_at"])
        _event(petition, kind=Kind.REFERRED, actor=actor, from_state=previous, note=note)
        return petition


def petition_link_topic(*, petition_id: int, topic_id: int) -> Petition:
    """Record the deliberation topic created for a referred petition (deliberation app only)."""
    with transaction.atomic():
        petition = Petition.objects.select_for_update().get(pk=petition_id)
        if petition.state != State.REFERRED:
            raise ApplicationError(_("该诉求未转议事。"))
        petition.deliberation_topic_id = topic_id
        petition.save(update_fields=["deliberation_topic_id", "updated_at"])
        return petition


def petition_close_from_deliberation(*, petition_id: int, outcome: str,
                                     actor: User | None) -> Petition:
    """The deliberation app calls this when the topic closes: the outcome becomes the result.
    Idempotent: closing an already closed petition returns it unchanged."""
    with transaction.atomic():
        petition = Petition.objects.select_for_update().filter(pk=petition_id).first()
        if petition is None:
            raise Http404(_("诉求不存在。"))
        if petition.state == State.CLOSED:
            return petition
        previous = transition(petition, State.CLOSED, table=PETITION_TRANSITIONS, field="state")
        now = timezone.now()
        petition.resolution = outcome
        petition.resolved_at = petition.resolved_at or now
        petition.closed_at = now
        petition.save(update_fields=["state", "resolution", "resolved_at", "closed_at",
                                     "updated_at"])
        _event(petition, kind=Kind.CLOSED, actor=actor, from_state=previous,
               note=_("议事结果：%(outcome)s") % {"outcome": outcome}, now=now)
        return petition


def petition_close(*, petition_id: int, actor: User, note: str = "") -> Petition:
    """Close a rated petition, or a verified one the resident left unrated past its rating
    window (petition.rating_due_at): never before, or the rating, and with it 不满意 → reopen,
    would never be asked. Handler staff."""
    with transaction.atomic():
        petition = _lock(petition_id=petition_id, actor=actor)
        _require(rules.is_handler_staff(actor, petition))
        now = timezone.now()
        check_transition(PETITION_TRANSITIONS, petition.state, State.CLOSED, labels=_state_labels())
        if petition.state == State.VERIFIED and not policy.rating_window_passed(petition, now):
            due = timezone.localtime(petition.rating_due_at).strftime("%Y-%m-%d %H:%M")
            raise ApplicationError(_("居民尚未评价，评价期至 %(due)s，届满后方可关闭。")
                                   % {"due": due})
        return _close(petition, actor=actor, note=note, now=now)


def _close(petition: Petition, *, actor: User, note: str, now: datetime) -> Petition:
    previous = transition(petition, State.CLOSED, table=PETITION_TRANSITIONS, field="state")
    petition.closed_at = now
    petition.save(update_fields=["state", "closed_at", "updated_at"])
    _event(petition, kind=Kind.CLOSED, actor=actor, from_state=previous, note=note, now=now)
    return petition


# --- the holiday table changed -----------------------------------------------------------------


def petition_deadlines_recount(*, petition_id: int, actor: User,
                               workdays: WorkCalendar | None = None) -> Petition:
    """Count an open petition's weekday-estimated deadlines again, from the holiday table as it
    is now (a street admin has entered the next year). Dispatchers in scope; the admin action
    passes one `WorkCalendar` for the whole selection.

    1. lock the row; only an open petition flagged `deadline_estimated` is recounted;
    2. refuse one accepted before the SLA policy last changed: the durations it was given are
       no longer known, and new ones must not apply to it retroactively;
    3. recompute from `clock_started_at`, store the deadlines and the flag, note it internally.
    """
    with transaction.atomic():
        petition = _lock(petition_id=petition_id, actor=actor)
        _require(rules.is_dispatcher(actor, petition))
        if petition.state not in OPEN_STATES or not petition.deadline_estimated:
            raise ApplicationError(_("只有办理中且时限为估算的诉求需要重新计算。"))
        sla_policy = SlaPolicy.current()
        if sla_policy.updated_at > petition.clock_started_at:
            raise ApplicationError(_("受理后时限规则已修改，无法按原规则重新计算。"))
        deadlines = policy.compute_deadlines(petition.clock_started_at,
                                             policy.Durations.of(sla_policy), workdays=workdays)
        # The days granted by 延期 this round still count (petitions/extensions.py).
        deadlines = extensions.reapply_granted(petition, deadlines, workdays=workdays)
        before = petition.due_at
        petition.microgrid_due_at = deadlines.microgrid_due_at
        petition.grid_due_at = deadlines.grid_due_at
        petition.street_due_at = deadlines.street_due_at
        petition.due_at = deadlines.for_tier(petition.tier)
        petition.deadline_estimated = deadlines.is_estimated
        _arm_due_reminder(petition, sla_policy)
        petition.save(update_fields=["microgrid_due_at", "grid_due_at", "street_due_at",
                                     "due_at", "deadline_estimated", "due_remind_at",
                                     "card_check_at", "updated_at"])
        _event(petition, kind=Kind.NOTE, actor=actor, is_internal=True, notify=False,
               note=_("按节假日表重新计算时限：%(before)s → %(after)s") % {
                   "before": f"{timezone.localtime(before):%Y-%m-%d %H:%M}",
                   "after": f"{timezone.localtime(petition.due_at):%Y-%m-%d %H:%M}"})
        return petition
