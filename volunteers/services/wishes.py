"""Micro-wishes (微心愿): a resident's wish, published by staff, claimed and fulfilled by a party
member, confirmed by the resident; an untouched claim lapses back to the pool."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from core.exceptions import ApplicationError, PermissionDeniedError
from core.images import photo_reencode
from core.workflow import transition
from notifications.messages import Message
from notifications.services import notifications_create
from residents.models import PartyMember, Resident
from volunteers import rules, selectors
from volunteers.models import (
    MicroWish,
    MicroWishEvent,
)
from volunteers.services._common import Consent, require_staff


def wish_claim_days() -> int:
    """Days a claimed wish may stay untouched (setting VOLUNTEERS_WISH_CLAIM_DAYS, default 7)."""
    return int(getattr(settings, "VOLUNTEERS_WISH_CLAIM_DAYS", 7))


# --- micro-wishes -------------------------------------------------------------------------

def _wish_move(*, wish: MicroWish, target: str, actor: User | None, note: str = "",
               fields: list[str] | None = None) -> MicroWish:
    old = transition(wish, target, table=MicroWish.TRANSITIONS)
    wish.save(update_fields=["status", "updated_at", *(fields or [])])
    MicroWishEvent.objects.create(wish=wish, old_status=old, new_status=target, actor=actor,
                                  note=note[:200], at=timezone.now())
    return wish


def _wish_locked(wish: MicroWish) -> MicroWish:
    return (MicroWish.objects.select_for_update(of=("self",))
            .select_related("compound__community", "resident", "claimed_by__resident")
            .get(pk=wish.pk))


def micro_wish_submit(*, resident: Resident, title: str, description: str = "") -> MicroWish:
    if not title.strip():
        raise ApplicationError(_("请填写心愿内容。"))
    with transaction.atomic():
        wish = MicroWish.objects.create(
            compound_id=resident.household.building.compound_id, resident=resident,
            title=title.strip()[:100], description=description)
        MicroWishEvent.objects.create(wish=wish, new_status=wish.status, actor=resident.user,
                                      at=timezone.now())
    return wish


def micro_wish_record_for(*, resident: Resident, actor: User, title: str, consent: Consent,
                          description: str = "") -> MicroWish:
    """代录: staff whose scope reaches the elder's home record a wish on their behalf, with the
    elder's consent noted (who agreed, how, when). It is verified and published as any wish."""
    if not rules.covers_resident(actor, resident):
        raise PermissionDeniedError(_("您无权为该居民代录。"))
    consent = consent.checked()
    if not title.strip():
        raise ApplicationError(_("请填写心愿内容。"))
    with transaction.atomic():
        wish = MicroWish.objects.create(
            compound_id=resident.household.building.compound_id, resident=resident,
            title=title.strip()[:100], description=description, **consent.fields(actor))
        MicroWishEvent.objects.create(
            wish=wish, new_status=wish.status, actor=actor, at=timezone.now(),
            note=_("代录，%(by)s %(method)s") % {
                "by": consent.by, "method": wish.get_consent_method_display()})
    return wish


def micro_wish_publish(*, wish: MicroWish, actor: User) -> MicroWish:
    """Staff verify a wish and publish it to the compound's party members."""
    with transaction.atomic():
        wish = _wish_locked(wish)
        require_staff(actor, wish.compound)
        _wish_move(wish=wish, target=MicroWish.Status.PUBLISHED, actor=actor)
        member_user_ids = (PartyMember.objects
                           .filter(resident__household__building__compound_id=wish.compound_id,
                                   resident__user__isnull=False)
                           .values_list("resident__user_id", flat=True))
        notifications_create(
            user_ids=list(member_user_ids), title=Message(gettext_noop("新的微心愿待认领")),
            body=wish.title,
            link=f"/volunteers/wishes/{wish.pk}/", dedupe_key=f"wish-published:{wish.pk}")
    return wish


def micro_wish_reject(*, wish: MicroWish, actor: User, reason: str) -> MicroWish:
    with transaction.atomic():
        wish = _wish_locked(wish)
        require_staff(actor, wish.compound)
        _wish_move(wish=wish, target=MicroWish.Status.REJECTED, actor=actor, note=reason)
        if wish.resident.user_id:
            notifications_create(user_ids=[wish.resident.user_id],
                                 title=Message(gettext_noop("微心愿未通过审核")), body=reason,
                                 link=f"/volunteers/wishes/{wish.pk}/",
                                 dedupe_key=f"wish-rejected:{wish.pk}")
    return wish


def micro_wish_withdraw(*, wish: MicroWish, user: User) -> MicroWish:
    with transaction.atomic():
        wish = _wish_locked(wish)
        if not rules.is_wish_owner(user, wish):
            raise PermissionDeniedError(_("只有许愿人可以撤回心愿。"))
        return _wish_move(wish=wish, target=MicroWish.Status.WITHDRAWN, actor=user)


def micro_wish_claim(*, wish: MicroWish, user: User) -> MicroWish:
    """One party member of the compound claims the wish; the claim lapses if left untouched."""
    member = selectors.party_member_for_user(user)
    with transaction.atomic():
        wish = _wish_locked(wish)
        if member is None or not rules.is_member_in_compound(member, wish.compound_id):
            raise PermissionDeniedError(_("只有本小区党员可以认领微心愿。"))
        if wish.status == MicroWish.Status.CLAIMED:
            raise ApplicationError(_("该心愿已被其他党员认领。"))
        now = timezone.now()
        wish.claimed_by = member
        wish.claimed_at = now
        wish.claim_expires_at = now + timedelta(days=wish_claim_days())
        _wish_move(wish=wish, target=MicroWish.Status.CLAIMED, actor=user,
                   fields=["claimed_by", "claimed_at", "claim_expires_at"])
        if wish.resident.user_id:
            notifications_create(
                user_ids=[wish.resident.user_id], title=Message(gettext_noop("您的微心愿已被认领")),
                body=Message(gettext_noop("党员 %(name)s 认领了“%(title)s”。"),
                             {"name": member.resident.name, "title": wish.title}),
                link=f"/volunteers/wishes/{wish.pk}/",
                dedupe_key=f"wish-claimed:{wish.pk}:{now.timestamp()}")
    return wish


def micro_wish_fulfil(*, wish: MicroWish, user: User, note: str,
                      photo: UploadedFile[bytes] | None = None) -> MicroWish:
    if not note.strip() and photo is None:
        raise ApplicationError(_("请填写完成说明或上传照片。"))
    cleaned_photo = photo_reencode(photo) if photo is not None else None
    with transaction.atomic():
        wish = _wish_locked(wish)
        if not rules.is_wish_claimer(user, wish):
            raise PermissionDeniedError(_("只有认领人可以完成该心愿。"))
        wish.fulfilment_note = note.strip()
        wish.fulfilled_at = timezone.now()
        wish.claim_expires_at = None
        fields = ["fulfilment_note", "fulfilled_at", "claim_expires_at"]
        if cleaned_photo is not None:
            # photo_reencode always names the file it makes (a fresh uuid); File types it optional.
            name = cast("str", cleaned_photo.name)
            wish.fulfilment_photo.save(name, cleaned_photo, save=False)
            fields.append("fulfilment_photo")
        _wish_move(wish=wish, target=MicroWish.Status.FULFILLED, actor=user, fields=fields)
        if wish.resident.user_id:
            notifications_create(user_ids=[wish.resident.user_id],
                                 title=Message(gettext_noop("您的微心愿已完成")),
                                 body=Message(gettext_noop("请确认：%(title)s"),
                                              {"title": wish.title}),
                                 link=f"/volunteers/wishes/{wish.pk}/",
                                 dedupe_key=f"wish-fulfilled:{wish.pk}")
    return wish


def micro_wish_confirm(*, wish: MicroWish, user: User) -> MicroWish:
    with transaction.atomic():
        wish = _wish_locked(wish)
        if not rules.is_wish_owner(user, wish):
            raise PermissionDeniedError(_("只有许愿人可以确认。"))
        wish.confirmed_at = timezone.now()
        return _wish_move(wish=wish, target=MicroWish.Status.CONFIRMED, actor=user,
                          fields=["confirmed_at"])


def micro_wishes_expire_claims(*, now: datetime) -> int:
    """Return every claim left untouched past its deadline to the published pool.

    Set-based: one read, one conditional update, one insert. The UPDATE repeats the condition,
    so a wish fulfilled meanwhile, or released by a concurrent run, is not touched twice.
    """
    expired = list(MicroWish.objects.filter(status=MicroWish.Status.CLAIMED,
                                            claim_expires_at__lte=now)
                   .values_list("id", flat=True))
    if not expired:
        return 0
    with transaction.atomic():
        claimed = list(MicroWish.objects.select_for_update(skip_locked=True)
                       .filter(id__in=expired, status=MicroWish.Status.CLAIMED,
                               claim_expires_at__lte=now).values_list("id", flat=True))
        MicroWish.objects.filter(id__in=claimed).update(
            status=MicroWish.Status.PUBLISHED, claimed_by=None, claimed_at=None,
            claim_expires_at=None, updated_at=now)
        MicroWishEvent.objects.bulk_create([
            MicroWishEvent(wish_id=wish_id, old_status=MicroWish.Status.CLAIMED,
                           new_status=MicroWish.Status.PUBLISHED, note=_("认领超时，重新开放认领"),
                           at=now)
            for wish_id in claimed])
    return len(claimed)
