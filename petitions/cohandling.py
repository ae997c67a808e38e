"""协办 / 吹哨报到: a part of a petition handed to a body, answered through a one-time link.

The holder (or handler staff in scope) names a body of the governance tree (the compound's
property company, a partner unit, a street department), a task and a due date. The body is
texted a link that needs no account: `/petitions/cohandling/<id>/?access_token=<token>`. The
token is 32 random bytes; only its SHA-256 is stored and it is compared in constant time, so a
wrong token, a wrong id and a missing request all answer the same 404. The query-string name
`access_token` is starred in runserver's request lines and in the request django.request
logs with a 4xx (core.log_filters); gunicorn's and nginx's access logs (ops/nginx/portal.conf)
leave query strings out: the token reaches no log of ours (the operator's TLS proxy is theirs).

The link is single-use (an answer claims it with a conditional UPDATE, so two posts at once
cannot both answer), expires after settings.COHANDLING_LINK_TTL (or at the due date, when that
is later) and dies with the petition (closed, rejected). Every open, answer and refusal is
counted on the row and written to the audit log (core.audit). The answer (a note and up to 3
photos, re-encoded by core.images) becomes an internal event on the petition's timeline, and
the holder and the requester are told in their inbox; the holder stays responsible and closes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from core.audit import audit_event_record, object_type_of
from core.exceptions import ApplicationError, PermissionDeniedError
from core.images import photo_reencode
from core.masking import mask_name, mask_numbers_in
from core.models import AuditEvent
from governance.models import Body
from notifications.messages import Message
from notifications.services import notifications_create, sms_enqueue
from petitions import rules
from petitions.models import (
    FINISHED_STATES,
    MAX_PHOTOS,
    CoHandlingRequest,
    Petition,
    PetitionEvent,
    PetitionPhoto,
)
from petitions.notify import petition_link
from petitions.rules import Viewer
from petitions.selectors import petition_public_text
from residents.models import Resident

# The bodies a petition may be handed to: those that do work, not the owners' committee.
COHANDLING_KINDS = (Body.Kind.PROPERTY_COMPANY, Body.Kind.PARTNER_UNIT, Body.Kind.DEPARTMENT)
TOKEN_PARAMETER = "access_token"  # noqa: S105 (a parameter name; core.log_filters stars it)
MAX_TASK = 500
MAX_ANSWER = 1000
AREA_STEP = 4  # territory.Area.steplen: the path prefixes of a petition's ancestors


class LinkUsed(ApplicationError):
    """The link was answered already: it does nothing any more."""


class LinkExpired(ApplicationError):
    """Past its time, or its petition is finished."""


# --- the token --------------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def answer_link(request_id: int, token: str) -> str:
    """The absolute link the body is texted."""
    path = reverse("petitions:cohandling-answer", args=[request_id])
    return f"{settings.SITE_URL}{path}?{TOKEN_PARAMETER}={token}"


def cohandling_link_get(*, request_id: int, token: str | None) -> CoHandlingRequest:
    """The request this link opens, or Http404 alike for a wrong id, a wrong token or none."""
    request = (CoHandlingRequest.objects
               .select_related("petition__building__compound", "petition__category", "body")
               .filter(pk=request_id).first())
    # Compared even when there is no row, so a missing id takes the time a wrong token does.
    stored = request.token_hash if request is not None else "0" * 64
    matches = hmac.compare_digest(stored.encode(), token_hash(token or "").encode())
    if request is None or not token or not matches:
        raise Http404(_("链接无效。"))
    return request


# --- who may ask, and whom ----------------------------------------------------------------------


def _ancestor_paths(path: str) -> list[str]:
    return [path[:end] for end in range(AREA_STEP, len(path) + 1, AREA_STEP)]


def cohandling_body_list(*, petition: Petition) -> QuerySet[Body]:
    """The bodies that may be asked about this petition, with a phone to text: its compound's,
    its community's (an ancestor of where the matter is), and the street-wide ones."""
    building = petition.building
    compound_id = building.compound_id if building is not None else None
    place = (Q(compound_id=compound_id) if compound_id is not None else Q(pk__in=[]))
    place |= Q(compound__isnull=True, community__path__in=_ancestor_paths(petition.origin_path))
    place |= Q(compound__isnull=True, community__isnull=True)
    return (Body.objects.filter(place, kind__in=COHANDLING_KINDS).exclude(contact_phone="")
            .order_by("kind", "name"))


# --- writes -------------------------------------------------------------------------------------


def _audit(request: CoHandlingRequest, *, action: str, fields: Sequence[str], what: str,
           actor: User | None = None) -> None:
    audit_event_record(action=action, object_type=object_type_of(request), object_id=request.pk,
                       object_repr=f"{request} · {what}", fields=fields, actor=actor)


def cohandling_request_create(*, petition_id: int, actor: User, body_id: int, task: str,
                              due_at: datetime, now: datetime | None = None) -> CoHandlingRequest:
    """Hand a part of the petition to a body.

    1. Lock the petition; 404 for who may not see it, 403 for who may not hand it on.
    2. Check the body is one of cohandling_body_list, the task, and the due date (future, and
       within the link's life).
    3. Write the request (the token's hash only), an internal timeline note and an audit row.
    4. Text the body its link (the SMS outbox: delivered after commit, capped per number).
    """
    now = now or timezone.now()
    task = (task or "").strip()
    if not task:
        raise ApplicationError(_("请填写协办事项。"))
    if len(task) > MAX_TASK:
        raise ApplicationError(_("协办事项不能超过 %(count)s 字。") % {"count": MAX_TASK})
    with transaction.atomic():
        petition = Petition.objects.select_for_update().filter(pk=petition_id).first()
        if petition is None or not rules.can_view(actor, petition):
            raise Http404(_("诉求不存在。"))
        if not rules.may_cohandle(actor, petition):
            raise PermissionDeniedError(
                _("只有承办人或辖区工作人员可以发起协办，且诉求须在办理中。"))
        body = cohandling_body_list(petition=petition).filter(pk=body_id).first()
        if body is None:
            raise ApplicationError(_("请选择本小区、本社区或街道的协办单位（须有联系电话）。"))
        ttl: timedelta = settings.COHANDLING_LINK_TTL
        if not now < due_at <= now + ttl:
            raise ApplicationError(_("答复期限须在今后 %(days)s 天内。") % {"days": ttl.days})
        token = secrets.token_urlsafe(32)
        request = CoHandlingRequest.objects.create(
            petition=petition, body=body, task=task, due_at=due_at, created_by=actor,
            created_at=now, token_hash=token_hash(token), expires_at=max(now + ttl, due_at),
            sent_at=now)
        PetitionEvent.objects.create(
            petition=petition, kind=PetitionEvent.Kind.NOTE, actor=actor, is_internal=True,
            created_at=now,
            note=_("已请%(body)s协办（%(due)s 前答复）：%(task)s")
            % {"body": body.name, "due": _local(due_at), "task": task})
        _audit(request, action=AuditEvent.Action.ADD, actor=actor, what=body.name,
               fields=["body", "task", "due_at", "token_hash", "expires_at"])
        sms_task = _masked_names(mask_numbers_in(task), _known_names(petition))[:60]
        with translation.override(settings.LANGUAGE_CODE):
            text = (_("【有事您说话】请%(body)s协办诉求 #%(id)s：%(task)s。"
                      "请于 %(due)s 前点击链接答复（仅可提交一次）：%(link)s")
                    % {"body": body.name, "id": petition.pk, "task": sms_task,
                       "due": _local(due_at), "link": answer_link(request.pk, token)})
        sms_enqueue(phone=body.contact_phone, body=text, dedupe_key=f"cohandling:{request.pk}")
    return request


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%m-%d %H:%M")


def _refusal(request: CoHandlingRequest, *, now: datetime) -> ApplicationError | None:
    """Why this link does nothing any more, or None while it works."""
    if request.used_at is not None:
        return LinkUsed(_("此链接已使用，答复已提交，不能再次提交。"))
    if request.expires_at <= now or request.petition.state in FINISHED_STATES:
        return LinkExpired(_("此链接已失效。如仍需答复，请联系社区工作人员。"))
    return None


def link_refusal(request: CoHandlingRequest) -> ApplicationError | None:
    """Why the link does nothing any more (used, expired), or None; counts nothing."""
    return _refusal(request, now=timezone.now())


def _refuse(request: CoHandlingRequest, refusal: ApplicationError, *, what: str) -> None:
    CoHandlingRequest.objects.filter(pk=request.pk).update(refused_count=F("refused_count") + 1)
    _audit(request, action=AuditEvent.Action.CHANGE, fields=["refused_count"],
           what=f"{what}：{refusal.message}")


def cohandling_link_open(*, request: CoHandlingRequest,
                         now: datetime | None = None) -> ApplicationError | None:
    """The body opened its link: counted and audited. Returns why it does nothing (used,
    expired) or None when the answer form may be shown."""
    now = now or timezone.now()
    refusal = _refusal(request, now=now)
    if refusal is not None:
        _refuse(request, refusal, what=_("打开"))
        return refusal
    CoHandlingRequest.objects.filter(pk=request.pk).update(
        open_count=F("open_count") + 1, opened_at=request.opened_at or now)
    _audit(request, action=AuditEvent.Action.CHANGE, fields=["open_count", "opened_at"],
           what=_("打开"))
    return None


def cohandling_answer(*, request: CoHandlingRequest, note: str,
                      photos: Sequence[UploadedFile[bytes]] = (),
                      now: datetime | None = None) -> CoHandlingRequest:
    """The body's answer through its link.

    1. Check the note and re-encode every photo before anything is written (core.images).
    2. Claim the link with a conditional UPDATE (unused, unexpired): exactly one answer wins,
       a second post is refused (LinkUsed / LinkExpired) with a counted, audited refusal.
    3. Write the internal timeline event with the photos and the answer on the request.
    4. Tell the holder and the requester in their inbox; audit the answer.
    """
    now = now or timezone.now()
    note = (note or "").strip()
    refusal = _refusal(request, now=now)
    if refusal is not None:
        _refuse(request, refusal, what=_("提交"))
        raise refusal
    if not note:
        raise ApplicationError(_("请填写答复内容。"))
    if len(note) > MAX_ANSWER:
        raise ApplicationError(_("答复内容不能超过 %(count)s 字。") % {"count": MAX_ANSWER})
    if len(photos) > MAX_PHOTOS:
        raise ValidationError(_("最多上传 %(count)s 张照片。") % {"count": MAX_PHOTOS},
                              code="too_many_photos")
    cleaned = [photo_reencode(photo) for photo in photos]
    lost: ApplicationError | None = None
    with transaction.atomic():
        claimed = (CoHandlingRequest.objects
                   .filter(pk=request.pk, used_at__isnull=True, expires_at__gt=now)
                   .exclude(petition__state__in=FINISHED_STATES).update(used_at=now))
        if claimed != 1:
            request.refresh_from_db()
            request.petition.refresh_from_db(fields=["state"])
            lost = _refusal(request, now=now) or LinkUsed(_("此链接已使用。"))
        else:
            _answer_write(request, note=note, cleaned=cleaned, now=now)
    if lost is not None:
        # Counted and audited outside the block: raised inside, it would be rolled back.
        _refuse(request, lost, what=_("提交"))
        raise lost
    return request


def _answer_write(request: CoHandlingRequest, *, note: str,
                  cleaned: Sequence[ContentFile[bytes]], now: datetime) -> None:
    """The claimed answer: the timeline event and its photos, the request, audit, inbox."""
    petition = request.petition
    event = PetitionEvent.objects.create(
        petition=petition, kind=PetitionEvent.Kind.NOTE, actor=None, is_internal=True,
        created_at=now, note=_("协办答复（%(body)s）：%(note)s")
        % {"body": request.body.name, "note": note})
    rows = []
    for content in cleaned:
        row = PetitionPhoto(petition=petition, event=event, uploaded_by=None)
        row.image.save(cast(str, content.name), content, save=False)
        rows.append(row)
    PetitionPhoto.objects.bulk_create(rows)
    request.used_at, request.answered_at = now, now
    request.answer_note, request.answer_event = note, event
    request.save(update_fields=["used_at", "answered_at", "answer_note", "answer_event"])
    _audit(request, action=AuditEvent.Action.CHANGE, what=_("答复"),
           fields=["used_at", "answered_at", "answer_note", "answer_event"])
    recipients = [user_id for user_id in (petition.holder_id, request.created_by_id)
                  if user_id is not None]
    notifications_create(
        user_ids=recipients,
        title=Message(gettext_noop("诉求 #%(id)s：%(body)s已答复协办"),
                      {"id": petition.pk, "body": request.body.name}),
        body=note[:100], link=petition_link(petition.pk, for_staff=True),
        dedupe_key=f"cohandling-answer:{request.pk}")


# --- reads --------------------------------------------------------------------------------------


class Status:
    ANSWERED = "answered"
    PENDING = "pending"
    OVERDUE = "overdue"  # not answered, past the due date, the link still works
    EXPIRED = "expired"


STATUS_LABELS = {Status.ANSWERED: gettext_noop("已答复"),
                 Status.PENDING: gettext_noop("待答复"),
                 Status.OVERDUE: gettext_noop("逾期未答复"),
                 Status.EXPIRED: gettext_noop("链接已失效")}


def cohandling_status(request: CoHandlingRequest, *, now: datetime) -> str:
    if request.answered_at is not None:
        return Status.ANSWERED
    if request.expires_at <= now or request.petition.state in FINISHED_STATES:
        return Status.EXPIRED
    return Status.OVERDUE if request.due_at <= now else Status.PENDING


@dataclass(frozen=True)
class RequestRow:
    request: CoHandlingRequest
    status: str
    status_label: str
    photos: list[PetitionPhoto]


def cohandling_rows_for_petition(*, petition: Petition,
                                 now: datetime | None = None) -> list[RequestRow]:
    """The petition's requests for its staff page, newest first (two queries)."""
    now = now or timezone.now()
    requests = list(CoHandlingRequest.objects.filter(petition_id=petition.pk)
                    .select_related("body", "created_by"))
    event_ids = [request.answer_event_id for request in requests if request.answer_event_id]
    photos: dict[int, list[PetitionPhoto]] = {}
    for photo in PetitionPhoto.objects.filter(event_id__in=event_ids) if event_ids else ():
        photos.setdefault(cast(int, photo.event_id), []).append(photo)
    rows = []
    for request in requests:
        request.petition = petition
        status = cohandling_status(request, now=now)
        rows.append(RequestRow(request=request, status=status,
                               status_label=_(STATUS_LABELS[status]),
                               photos=photos.get(request.answer_event_id or 0, [])))
    return rows


@dataclass(frozen=True)
class BodyResponse:
    body_id: int
    name: str
    kind_label: str
    requests: int
    answered: int
    on_time: int
    average_hours: float | None


def cohandling_response_times(*, user: Viewer, start: datetime,
                              end: datetime) -> list[BodyResponse]:
    """Each body's response to the requests of petitions in the user's scope made between
    start and end: asked, answered, answered by the due date, and the mean hours from request
    to answer (one query; the slowest mean first)."""
    rows = (CoHandlingRequest.objects
            .filter(rules.covers_petition_q(user, "petition"), created_at__gte=start,
                    created_at__lt=end)
            .values_list("body_id", "body__name", "body__kind", "created_at", "due_at",
                         "answered_at"))
    kinds = dict(Body.Kind.choices)
    totals: dict[int, dict[str, object]] = {}
    for body_id, name, kind, created_at, due_at, answered_at in rows:
        entry = totals.setdefault(body_id, {"name": name, "kind": kind, "requests": 0,
                                            "answered": 0, "on_time": 0, "hours": []})
        entry["requests"] = cast(int, entry["requests"]) + 1
        if answered_at is not None:
            entry["answered"] = cast(int, entry["answered"]) + 1
            entry["on_time"] = cast(int, entry["on_time"]) + (answered_at <= due_at)
            cast(list[float], entry["hours"]).append(
                (answered_at - created_at).total_seconds() / 3600)
    result = []
    for body_id, entry in totals.items():
        hours = cast(list[float], entry["hours"])
        result.append(BodyResponse(
            body_id=body_id, name=cast(str, entry["name"]),
            kind_label=str(kinds.get(cast(str, entry["kind"]), "")),
            requests=cast(int, entry["requests"]), answered=cast(int, entry["answered"]),
            on_time=cast(int, entry["on_time"]),
            average_hours=round(sum(hours) / len(hours), 1) if hours else None))
    return sorted(result, key=lambda row: (-(row.average_hours or 0), row.name))


def _known_names(petition: Petition) -> list[str]:
    """The names the portal knows for the petition's people: the contact, the submitter's
    account and the residents of the household (one query; longest first)."""
    names = {petition.contact_name}
    if petition.submitter_id is not None:
        names.add(User.objects.filter(pk=petition.submitter_id)
                  .values_list("display_name", flat=True).first() or "")
    if petition.household_id is not None:
        names.update(Resident.objects.filter(household_id=petition.household_id)
                     .values_list("name", flat=True))
    return sorted((name.strip() for name in names if name and len(name.strip()) > 1),
                  key=len, reverse=True)


def _outside_text(text: str, names: Sequence[str]) -> str:
    """A resident's words for a body outside the street: digit runs starred (the 公示's rule)
    and every known name of the petition's people masked (王阿姨 → 王**)."""
    return _masked_names(petition_public_text(text), names)


def _masked_names(text: str, names: Sequence[str]) -> str:
    for name in names:
        text = text.replace(name, mask_name(name))
    return text


def cohandling_public_view(request: CoHandlingRequest) -> dict[str, str]:
    """What the body's page shows: the task, the place (building and unit, no room), the
    petition's text with every run of digits starred as on the public page and the names of
    its contact, submitter and household masked, the deadline."""
    petition = request.petition
    names = _known_names(petition)
    place = str(petition.building) if petition.building_id is not None else ""
    if petition.unit_number:
        place += _(" %(unit)s单元") % {"unit": petition.unit_number}
    if petition.location_text:
        place += f" · {_outside_text(petition.location_text, names)}"
    return {"task": _masked_names(mask_numbers_in(request.task), names),
            "place": place.strip() or _("辖区内"),
            "description": _outside_text(petition.description, names),
            "body": request.body.name, "due": _local(request.due_at),
            "category": petition.category.name}
