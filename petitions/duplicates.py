"""Duplicates: finding likely duplicates of a petition, and merging one into another.

Detection (`likely_duplicates`): petitions of the same category at the same place — the same
building, or, for a petition with no building, the same origin micro-grid (or area) among
petitions with no building — submitted within `duplicate_window()` (settings
PETITION_DUPLICATE_WINDOW_DAYS, default 7 days), still open or resolved (resolved, verified,
rated: a matter just done is still the same matter), ranked by how alike their texts are: the
Jaccard index of the two descriptions' character bigrams (`text_similarity`; no dependency,
good enough for short Chinese texts, where words are not separated by spaces). Only those at or
above `duplicate_threshold()` (PETITION_DUPLICATE_MIN_SIMILARITY, default 0.3) are offered. One
query (the candidates, on petition_duplicate_idx) whatever the ranking.

Who is offered what:
- staff (the petition's page, after 代录 too): the likely duplicates they may open
  (`petition_likely_duplicates_for_user`), with their (number-masked) text and the merge form;
- a resident at submission (`duplicate_hints_for_resident`): only the fact that a similar
  request is being handled, its state and the day it was accepted, and its number (to follow
  it). Never its text, its place within the building, its submitter or photos: another
  resident's description is theirs (a neighbour's name, a flat, a phone number), and even a
  petition its submitter made public is published only once resolved, masked (the 公示). The
  number discloses nothing: every detail page answers 404 to anyone but its submitter. The
  resident may then follow the existing petition (`petition_join`: theirs is accepted and at
  once merged into it) or submit anyway.

Merging (`petition_merge`, staff; `petition_join`, the submitter at submission): petition B is
folded into A. A is kept and goes on under its own clock; B becomes 已合并 (a finished state,
PETITION_TRANSITIONS) and a PetitionMerge row links it to A. Nothing is moved or deleted: B's
photos and timeline stay on B's rows and are read from A's staff page
(`petition_merged_records`); both timelines get a 合并 event; petitions merged into B before
now point to A (one UPDATE); every merge writes an audit row. B's submitter is told (inbox and
SMS, petitions/notify.py) and, once A's result is verified, asked to rate it
(`merged_raters_invite`, called by petition_verify); that rating is kept on the PetitionMerge
row (`petition_merge_rate`), one per linked submitter. 满意率 stays a figure per handled
petition — A's own rating —, so one result is not counted once per duplicate and a merged
petition, which has no result of its own, is in no sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from core.audit import audit_event_record, object_type_of
from core.exceptions import ApplicationError, PermissionDeniedError
from core.models import AuditEvent
from core.workflow import check_transition, transition
from notifications.messages import Message, choice
from notifications.models import Notification
from notifications.services import (
    Sms,
    notification_fields,
    notifications_create,
    sms_enqueue_many,
)
from petitions import rules
from petitions.models import (
    OPEN_STATES,
    PETITION_TRANSITIONS,
    Petition,
    PetitionEvent,
    PetitionMerge,
    PetitionPhoto,
    PetitionState,
    choice_label,
)
from petitions.notify import notify_event, petition_link
from petitions.rules import Viewer

State = PetitionState
Kind = PetitionEvent.Kind
DEFAULT_WINDOW_DAYS = 7
DEFAULT_MIN_SIMILARITY = 0.3
# The newest candidates ranked at most: a building sees a handful of one category in a week.
CANDIDATE_LIMIT = 200
# Resolved but not finished: still the same matter for a while, and a petition to merge into.
RESULT_STATES: frozenset[str] = frozenset({State.RESOLVED, State.VERIFIED, State.RATED})
CANDIDATE_STATES: frozenset[str] = OPEN_STATES | RESULT_STATES
# A's result is there to be rated by the submitters of the petitions merged into it.
VERIFIED_STATES: frozenset[str] = frozenset({State.VERIFIED, State.RATED, State.CLOSED})


def duplicate_window() -> timedelta:
    return timedelta(days=int(getattr(settings, "PETITION_DUPLICATE_WINDOW_DAYS",
                                      DEFAULT_WINDOW_DAYS)))


def duplicate_threshold() -> float:
    return float(getattr(settings, "PETITION_DUPLICATE_MIN_SIMILARITY", DEFAULT_MIN_SIMILARITY))


# --- the measure -------------------------------------------------------------------------------


def text_bigrams(text: str) -> frozenset[str]:
    """The character bigrams of the text's letters, digits and CJK characters (punctuation and
    spaces dropped, Latin letters lower-cased); a one-character text is its own 'bigram'."""
    chars = "".join(char for char in (text or "").lower() if char.isalnum())
    if len(chars) < 2:
        return frozenset({chars}) if chars else frozenset()
    return frozenset(chars[index:index + 2] for index in range(len(chars) - 1))


def text_similarity(first: str, second: str) -> float:
    """Jaccard index of the two texts' bigrams: 1.0 the same, 0.0 nothing in common."""
    a, b = text_bigrams(first), text_bigrams(second)
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


# --- detection ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Duplicate:
    petition: Petition
    similarity: float

    @property
    def percent(self) -> int:
        return round(self.similarity * 100)


def _place_q(*, building_id: int | None, origin_path: str) -> Q | None:
    if building_id is not None:
        return Q(building_id=building_id)
    if origin_path:
        return Q(building__isnull=True, origin_path=origin_path)
    return None


def likely_duplicates(*, category_id: int, building_id: int | None, origin_path: str = "",
                      description: str, exclude_id: int | None = None,
                      now: datetime | None = None, visible: Q | None = None,
                      limit: int = 10) -> list[Duplicate]:
    """The likely duplicates of a petition (or of a text about to be submitted), most alike
    first (then the newest): same category and place, within the window, open or resolved,
    at least as alike as the threshold. One query."""
    place = _place_q(building_id=building_id, origin_path=origin_path)
    if place is None:
        return []
    moment = now or timezone.now()
    rows = (Petition.objects.filter(place, category_id=category_id,
                                    state__in=CANDIDATE_STATES,
                                    submitted_at__gte=moment - duplicate_window(),
                                    submitted_at__lte=moment))
    if visible is not None:
        rows = rows.filter(visible)
    if exclude_id is not None:
        rows = rows.exclude(pk=exclude_id)
    rows = rows.only("id", "state", "submitted_at", "description", "building_id",
                     "origin_path", "area_path", "submitter_id", "holder_id",
                     "external_system_id", "resolved_at").order_by("-submitted_at", "-id")
    threshold = duplicate_threshold()
    scored = [Duplicate(petition, text_similarity(description, petition.description))
              for petition in rows[:CANDIDATE_LIMIT]]
    found = [duplicate for duplicate in scored if duplicate.similarity >= threshold]
    found.sort(key=lambda duplicate: -duplicate.similarity)  # stable: newest first on ties
    return found[:limit]


def petition_likely_duplicates_for_user(*, user: Viewer, petition: Petition,
                                        now: datetime | None = None,
                                        limit: int = 10) -> list[Duplicate]:
    """The staff page's list: the petition's likely duplicates the viewer may open (a link to
    one outside the viewer's scope would only be a 404). None for a finished petition."""
    if petition.state not in CANDIDATE_STATES or not rules.is_staff(user):
        return []
    return likely_duplicates(category_id=petition.category_id, building_id=petition.building_id,
                             origin_path=petition.origin_path,
                             description=petition.description, exclude_id=petition.pk,
                             now=now, visible=rules.visibility_q(user), limit=limit)


@dataclass(frozen=True)
class DuplicateHint:
    """What a resident is shown of someone else's petition: that it exists, its state and the
    day it was accepted, and its number (to follow it). Nothing its submitter wrote."""

    id: int
    state_label: str
    submitted_on: datetime


def duplicate_hints_for_resident(*, category_id: int, building_id: int | None,
                                 description: str, now: datetime | None = None,
                                 limit: int = 3) -> list[DuplicateHint]:
    """At submission: the similar requests already being handled in the resident's building
    (open ones only: one cannot follow a petition that is done)."""
    found = likely_duplicates(category_id=category_id, building_id=building_id,
                              description=description, now=now, limit=limit * 3)
    return [DuplicateHint(id=item.petition.pk, state_label=item.petition.get_state_display(),
                          submitted_on=item.petition.submitted_at)
            for item in found if item.petition.state in OPEN_STATES][:limit]


# --- merging -----------------------------------------------------------------------------------


def may_merge(user: Viewer, petition: Petition, into: Petition) -> bool:
    """A dispatcher (community staff, street admin, superuser) whose scope covers both."""
    return rules.is_dispatcher(user, petition) and rules.is_dispatcher(user, into)


def _audit(link: PetitionMerge, *, actor: User | None) -> None:
    audit_event_record(action=AuditEvent.Action.ADD, object_type=object_type_of(link),
                       object_id=link.pk, object_repr=str(link),
                       fields=("petition", "into", "how", "note"), actor=actor)


def _check_mergeable(petition: Petition, into: Petition) -> None:
    """The refusals, as sentences: merged already, into a merged or finished petition, and a
    petition that is not open (its own move, from the transition table: 409)."""
    if petition.state == State.MERGED:
        earlier = PetitionMerge.objects.filter(petition=petition).values_list(
            "into_id", flat=True).first()
        raise ApplicationError(_("诉求 #%(id)s 已并入 #%(into)s，不能再次合并。")
                               % {"id": petition.pk, "into": earlier})
    if into.state == State.MERGED:
        target = PetitionMerge.objects.filter(petition=into).values_list(
            "into_id", flat=True).first()
        raise ApplicationError(_("诉求 #%(id)s 已并入 #%(into)s，请并入 #%(into)s。")
                               % {"id": into.pk, "into": target})
    if into.state not in CANDIDATE_STATES:
        raise ApplicationError(
            _("诉求 #%(id)s %(state)s，只能并入正在办理或刚办结的诉求。")
            % {"id": into.pk, "state": into.get_state_display()})
    check_transition(PETITION_TRANSITIONS, petition.state, State.MERGED,
                     labels={state.value: str(state.label) for state in PetitionState})


def _merge(petition: Petition, into: Petition, *, actor: User, how: str,
           note: str) -> PetitionMerge:
    """B (`petition`, locked) into A (`into`, locked): both checked by the caller."""
    now = timezone.now()
    previous = transition(petition, State.MERGED, table=PETITION_TRANSITIONS, field="state")
    petition.closed_at = now
    # No reminder is due on a finished petition (the reminder run claims by these columns).
    petition.arrival_remind_at = None
    petition.due_remind_at = None
    petition.save(update_fields=["state", "closed_at", "arrival_remind_at", "due_remind_at",
                                 "updated_at"])
    link = PetitionMerge.objects.create(petition=petition, into=into, how=how, merged_by=actor,
                                        merged_at=now, note=note[:500])
    # Petitions merged into B before now follow it into A (one UPDATE).
    PetitionMerge.objects.filter(into=petition).update(into=into)
    # B's timeline, for its submitter too: a fixed sentence (the staff's note is staff's).
    event = PetitionEvent.objects.create(
        petition=petition, kind=Kind.MERGED, actor=actor, from_state=previous,
        to_state=petition.state, created_at=now, is_internal=False,
        note=_("已与同类诉求 #%(into)s 合并办理，办理结果出来后请您评价。") % {"into": into.pk})
    if how == PetitionMerge.How.MERGED:
        notify_event(petition=petition, event=event)  # the submitter: inbox and SMS
    elif petition.holder_id is not None:
        # Joined by the submitter, who chose it on the form (no SMS to tell them what they
        # just did): only the holder it was dispatched to hears that it is no longer theirs.
        notifications_create(
            user_ids=[petition.holder_id],
            title=Message(gettext_noop("诉求 #%(id)s：%(kind)s"),
                          {"id": petition.pk, "kind": choice("petitions.event_kind", Kind.MERGED)}),
            body=event.note, link=petition_link(petition.pk, for_staff=True),
            dedupe_key=f"petition-event:{event.pk}")
    # A's timeline: which petition came in, and why (staff only).
    staff_note = _("诉求 #%(id)s 并入本诉求。") % {"id": petition.pk}
    if note:
        staff_note = f"{staff_note}{note}"
    PetitionEvent.objects.create(petition=into, kind=Kind.MERGED, actor=actor, created_at=now,
                                 note=staff_note, is_internal=True)
    _audit(link, actor=actor)
    if into.state in VERIFIED_STATES and into.verified_at is not None:
        merged_raters_invite(petition=into, now=now)
    return link


def _lock_pair(*, petition_id: int, into_id: int, actor: User) -> tuple[Petition, Petition]:
    rows = {row.pk: row for row in Petition.objects.select_for_update()
            .filter(pk__in=[petition_id, into_id]).order_by("pk")}
    petition, into = rows.get(petition_id), rows.get(into_id)
    if petition is None or into is None or not (rules.can_view(actor, petition)
                                                and rules.can_view(actor, into)):
        raise Http404(_("诉求不存在。"))
    return petition, into


def petition_merge(*, petition_id: int, into_id: int, actor: User, note: str = "") -> Petition:
    """Merge petition `petition_id` (B) into `into_id` (A); returns A.

    1. Both rows locked (in id order); 404 unless the actor sees both.
    2. A dispatcher covering both (403 otherwise): who may not merge learns nothing more.
    3. Not into itself, B not merged already, A neither merged nor finished (400); B open (409).
    4. B → 已合并 with the link, both timeline events, B's submitter told, the audit row.
    """
    note = (note or "").strip()
    with transaction.atomic():
        petition, into = _lock_pair(petition_id=petition_id, into_id=into_id, actor=actor)
        if not may_merge(actor, petition, into):
            raise PermissionDeniedError(
                _("只有管辖两件诉求的社区工作人员或街道管理员可以合并诉求。"))
        if petition_id == into_id:
            raise ApplicationError(_("不能把诉求并入它自己。"))
        _check_mergeable(petition, into)
        _merge(petition, into, actor=actor, how=PetitionMerge.How.MERGED, note=note)
        return into


def petition_join(*, petition_id: int, into_id: int, actor: User) -> Petition:
    """The submitter of `petition_id`, just accepted, follows the similar petition `into_id`
    they were offered instead: their petition is merged into it. Only into one of its likely
    duplicates that is open (a resident cannot attach to any petition by its number)."""
    with transaction.atomic():
        petition = Petition.objects.select_for_update().filter(pk=petition_id).first()
        if petition is None or not rules.is_owner(actor, petition):
            raise Http404(_("诉求不存在。"))
        offered = {hint.id for hint in duplicate_hints_for_resident(
            category_id=petition.category_id, building_id=petition.building_id,
            description=petition.description, limit=50) if hint.id != petition.pk}
        if into_id not in offered:
            raise ApplicationError(_("该同类诉求已办结或不可关注，请直接提交您的诉求。"))
        into = Petition.objects.select_for_update().get(pk=into_id)
        _check_mergeable(petition, into)
        _merge(petition, into, actor=actor, how=PetitionMerge.How.JOINED, note="")
        return petition


# --- rating the kept petition's result ---------------------------------------------------------


def merged_raters_invite(*, petition: Petition, now: datetime | None = None) -> int:
    """A's result is verified: the submitters of the petitions merged into it who have not
    rated are asked to (inbox, and SMS to the account's own phone), once per verification.
    Set-based: a constant number of queries whatever the number of links."""
    moment = now or timezone.now()
    links = list(PetitionMerge.objects.filter(into=petition, rating="",
                                              petition__submitter__isnull=False)
                 .values_list("pk", "petition_id", "petition__submitter_id",
                              "petition__submitter__phone", "petition__submitter__is_active"))
    if not links:
        return 0
    stamp = int((petition.verified_at or moment).timestamp())
    inbox = []
    sms = []
    for link_id, merged_id, user_id, phone, active in links:
        fields = notification_fields(
            title=Message(gettext_noop("诉求 #%(id)s：请评价办理结果"), {"id": merged_id}),
            body=Message(gettext_noop("与您的诉求合并办理的同类诉求已办结，请您评价。"), {}))
        inbox.append(Notification(user_id=user_id, link=petition_link(merged_id, for_staff=False),
                                  dedupe_key=f"petition-merge-rate:{link_id}:{stamp}:{user_id}",
                                  **fields))
        if phone and active:
            with translation.override(settings.LANGUAGE_CODE):
                body = (_("【有事您说话】与您的诉求（编号 %(id)s）合并办理的同类诉求已办结，"
                          "请登录评价。") % {"id": merged_id})
            sms.append(Sms(phone=phone, body=body,
                           dedupe_key=f"petition-merge-rate-sms:{link_id}:{stamp}"))
    Notification.objects.bulk_create(inbox, ignore_conflicts=True)
    if sms:
        sms_enqueue_many(messages=sms)
    PetitionMerge.objects.filter(pk__in=[row[0] for row in links]).update(invited_at=moment)
    return len(links)


def may_rate_merged(user: Viewer, petition: Petition, link: PetitionMerge | None) -> bool:
    return (link is not None and rules.is_owner(user, petition) and not link.rating
            and link.into.state in VERIFIED_STATES and link.into.verified_at is not None)


def petition_merge_rate(*, petition_id: int, actor: User, rating: str,
                        comment: str = "") -> PetitionMerge:
    """The submitter of a merged petition rates the result of the petition it was merged
    into, once, after that result is verified. Kept on the link row (not in 满意率)."""
    if rating not in Petition.Rating.values:
        raise ApplicationError(_("请选择满意、基本满意或不满意。"))
    with transaction.atomic():
        petition = Petition.objects.select_for_update().filter(pk=petition_id).first()
        if petition is None or not rules.can_view(actor, petition):
            raise Http404(_("诉求不存在。"))
        if not rules.is_owner(actor, petition):
            raise PermissionDeniedError(_("只有提交人可以评价。"))
        link = (PetitionMerge.objects.select_for_update(of=("self",)).select_related("into")
                .filter(petition=petition).first())
        if link is None:
            raise ApplicationError(_("该诉求没有合并到其他诉求。"))
        if link.rating:
            raise ApplicationError(_("您已评价过。"))
        if not may_rate_merged(actor, petition, link):
            raise ApplicationError(_("合并办理的诉求 #%(id)s 尚未办结核实，暂不能评价。")
                                   % {"id": link.into_id})
        now = timezone.now()
        link.rating, link.rating_comment, link.rated_at = rating, comment[:500], now
        link.save(update_fields=["rating", "rating_comment", "rated_at"])
        label = choice_label(Petition.Rating, rating)
        PetitionEvent.objects.create(
            petition=petition, kind=Kind.RATED, actor=actor, created_at=now,
            note=f"{label}{'：' + comment if comment else ''}"[:500])
        PetitionEvent.objects.create(
            petition_id=link.into_id, kind=Kind.NOTE, actor=None, created_at=now,
            is_internal=True,
            note=_("合并的诉求 #%(id)s 的提交人评价：%(rating)s")
            % {"id": petition.pk, "rating": label})
        return link


# --- reads -------------------------------------------------------------------------------------


def merge_for_petition(*, petition: Petition) -> PetitionMerge | None:
    """The link of a merged petition (B's pages), with the kept petition."""
    if petition.state != State.MERGED:
        return None
    return PetitionMerge.objects.select_related("into").filter(petition=petition).first()


@dataclass
class MergedRecord:
    """A petition merged into the one on the page, with its whole timeline and photos."""

    link: PetitionMerge
    events: list[PetitionEvent]
    photos: list[PetitionPhoto]


def petition_merged_records(*, user: Viewer, petition: Petition) -> list[MergedRecord]:
    """What was merged into `petition`, for staff who may see it (the handling side sees every
    note and photo, as on each petition's own page). Three queries whatever the count."""
    if not (rules.is_staff(user) and rules.can_view(user, petition)):
        return []
    links = list(PetitionMerge.objects.filter(into=petition)
                 .select_related("petition", "petition__category", "merged_by"))
    if not links:
        return []
    ids = [link.petition_id for link in links]
    events: dict[int, list[PetitionEvent]] = {pk: [] for pk in ids}
    for event in PetitionEvent.objects.filter(petition_id__in=ids).select_related("actor"):
        events[event.petition_id].append(event)
    photos: dict[int, list[PetitionPhoto]] = {pk: [] for pk in ids}
    for photo in PetitionPhoto.objects.filter(petition_id__in=ids):
        photos[photo.petition_id].append(photo)
    return [MergedRecord(link=link, events=events[link.petition_id],
                         photos=photos[link.petition_id]) for link in links]


def merged_rating_counts(*, petition: Petition) -> dict[str, int]:
    """The linked submitters' ratings of the petition's result, by rating (its page)."""
    counts = dict.fromkeys(Petition.Rating.values, 0)
    for rating in PetitionMerge.objects.filter(into=petition).exclude(rating="").values_list(
            "rating", flat=True):
        counts[rating] += 1
    return counts
