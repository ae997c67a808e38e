"""未诉先办 (act before the complaint): petitions that recur raise a suggestion to staff.

When `RECURRENCE_MIN_COUNT` petitions of one category come from one building within
`RECURRENCE_WINDOW_DAYS`, the staff whose scope covers the building (community staff, street
admins) are asked, in their inbox and in a queue, to open a deliberation topic or add a
needs-list entry for it. Nothing happens by itself: a staff member accepts (choosing topic or
need; deliberation makes it through core.recurrence) or dismisses with a reason. Each decision
writes an audit row and an internal note on the linked petitions' timelines.

Detection (`recurrence_detect`, the hourly beat task) is set-based
like the sweep: a constant number of queries whatever the number of buildings. It is safe twice
or at once: the database allows one open suggestion per building and category (the insert of a
second is dropped), and a decided (accepted or dismissed) one is raised again only once a
petition arrives after the decision and the window still holds enough.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from core.audit import audit_event_record, object_type_of
from core.exceptions import ApplicationError, PermissionDeniedError
from core.models import AuditEvent
from core.recurrence import recurrence_target
from core.referral import Referral
from core.workflow import transition
from notifications.messages import Message
from notifications.models import Notification
from notifications.services import notification_fields
from petitions import rules
from petitions.models import (
    RECURRENCE_TRANSITIONS,
    Petition,
    PetitionEvent,
    RecurrenceSuggestion,
)
from petitions.rules import Viewer

Status = RecurrenceSuggestion.Status
Outcome = RecurrenceSuggestion.Outcome
Link = RecurrenceSuggestion.petitions.through


def queue_link() -> str:
    return reverse("petitions:staff-recurrences")


# --- detection --------------------------------------------------------------------------------


def _counted(*, since: datetime, now: datetime) -> QuerySet[Petition]:
    """The petitions that count: placed in a building, accepted within the window, and not
    refused (不予受理 is no matter to act on)."""
    return Petition.objects.filter(building__isnull=False, submitted_at__gt=since,
                                   submitted_at__lte=now).exclude(
                                       state__in=[Petition.State.REJECTED, Petition.State.MERGED])


def _same_group(queryset: QuerySet[RecurrenceSuggestion]) -> QuerySet[RecurrenceSuggestion]:
    return queryset.filter(building_id=OuterRef("building_id"),
                           category_id=OuterRef("category_id"))


def recurrence_detect(*, now: datetime, building_id: int | None = None,
                      category_id: int | None = None, min_count: int | None = None,
                      window_days: int | None = None) -> int:
    """Raise the suggestions now due; returns how many this run raised.

    1. One grouped query: per building and category, the petitions in the window, counting
       only groups with no open suggestion, and among their petitions those that arrived after
       the group's last decision (a decided suggestion is not raised again without one).
    2. The new suggestions, inserted at once; the partial unique constraint drops the one a
       concurrent run inserted first.
    3. Every open suggestion is linked to its group's petitions in the window (later arrivals
       join the open one).
    4. The staff in scope hear of the suggestions this run raised (one inbox row each, keyed).
    `building_id` and `category_id` narrow it to one group; the thresholds default to the
    settings (the demo passes its own).
    """
    min_count = settings.RECURRENCE_MIN_COUNT if min_count is None else min_count
    window_days = settings.RECURRENCE_WINDOW_DAYS if window_days is None else window_days
    counted = _counted(since=now - timedelta(days=window_days), now=now)
    if building_id is not None and category_id is not None:
        counted = counted.filter(building_id=building_id, category_id=category_id)
    groups = recurrence_due_groups(counted, min_count=min_count)
    return recurrence_raise(counted, groups=groups, now=now, window_days=window_days)


def recurrence_due_groups(counted: QuerySet[Petition], *,
                          min_count: int) -> list[Mapping[str, Any]]:
    """Step 1 of recurrence_detect: the groups due a suggestion, in one query."""
    decided_since = _same_group(RecurrenceSuggestion.objects.filter(
        decided_at__gte=OuterRef("submitted_at")))
    return list(
        counted.exclude(Exists(_same_group(RecurrenceSuggestion.objects.filter(status=Status.OPEN))))
        .values("building_id", "category_id")
        .annotate(count=Count("id"), fresh=Count("id", filter=~Exists(decided_since)),
                  first=Min("submitted_at"), last=Max("submitted_at"),
                  area_path=Max("building__micro_grid__path"))
        .filter(count__gte=min_count, fresh__gt=0)
        .order_by("building_id", "category_id"))


def recurrence_raise(counted: QuerySet[Petition], *, groups: Sequence[Mapping[str, Any]],
                     now: datetime, window_days: int) -> int:
    """Steps 2–4 of recurrence_detect, for the groups step 1 found (maybe a while ago: another
    run may have raised some of them since)."""
    with transaction.atomic():
        if groups:
            RecurrenceSuggestion.objects.bulk_create([
                RecurrenceSuggestion(
                    building_id=group["building_id"], category_id=group["category_id"],
                    area_path=group["area_path"], petition_count=group["count"],
                    window_days=window_days,
                    first_submitted_at=group["first"], last_submitted_at=group["last"],
                    raised_at=now)
                for group in groups], ignore_conflicts=True)
        _link_open(counted)
        return _notify_raised(now=now, groups=groups)


def _link_open(counted: QuerySet[Petition]) -> None:
    open_id = Subquery(_same_group(RecurrenceSuggestion.objects.filter(status=Status.OPEN))
                       .values("pk")[:1])
    pairs = (counted.annotate(suggestion_id=open_id).filter(suggestion_id__isnull=False)
             .values_list("suggestion_id", "pk"))
    Link.objects.bulk_create([Link(recurrencesuggestion_id=suggestion_id, petition_id=petition_id)
                              for suggestion_id, petition_id in pairs], ignore_conflicts=True)


def _deciders() -> list[User]:
    """Who may decide a suggestion (rules.may_decide_recurrence), read once for the batch with
    their scope area."""
    return list(User.objects.filter(is_active=True)
                .filter(Q(role__in=rules.DISPATCHER_ROLES) | Q(is_superuser=True))
                .select_related("scope_area").order_by("id"))


def _notify_raised(*, now: datetime, groups: Sequence[Mapping[str, Any]]) -> int:
    if not groups:
        return 0
    # The rows this run inserted carry its `now`; a row a concurrent run won carries its own.
    # (Two runs at the very same moment would both count it; the inbox keys still hold.)
    in_groups = Q()
    for group in groups:
        in_groups |= Q(building_id=group["building_id"], category_id=group["category_id"])
    rows = list(RecurrenceSuggestion.objects.filter(in_groups, status=Status.OPEN, raised_at=now)
                .values("id", "area_path", "petition_count", "window_days", "building__number",
                        "building__compound__name", "category__name"))
    if not rows:
        return 0
    deciders = _deciders()
    link = queue_link()
    inbox: list[Notification] = []
    for row in rows:
        fields = notification_fields(
            title=Message(gettext_noop("未诉先办：同类诉求反复出现")),
            body=Message(gettext_noop("%(compound)s %(building)s号楼 %(days)s天内已有 %(count)s 件"
                                      "“%(category)s”诉求，建议发起议题或列入需求清单。"),
                         {"compound": row["building__compound__name"],
                          "building": row["building__number"], "days": row["window_days"],
                          "count": row["petition_count"], "category": row["category__name"]}))
        inbox.extend(Notification(user_id=user.pk, link=link, **fields,
                                  dedupe_key=f"recurrence:{row['id']}:{user.pk}")
                     for user in deciders if rules.may_decide_recurrence(user, row["area_path"]))
    Notification.objects.bulk_create(inbox, ignore_conflicts=True)
    return len(rows)


# --- decisions --------------------------------------------------------------------------------


def _load_for_decision(*, suggestion_id: int, actor: User) -> RecurrenceSuggestion:
    suggestion = (RecurrenceSuggestion.objects.select_for_update()
                  .filter(pk=suggestion_id).first())
    if suggestion is None or not rules.covers_area(actor, suggestion.area_path):
        raise Http404(_("建议不存在。"))
    if not rules.may_decide_recurrence(actor, suggestion.area_path):
        raise PermissionDeniedError(_("只有社区工作人员或街道管理员可以处理未诉先办建议。"))
    return suggestion


def _record(suggestion: RecurrenceSuggestion, *, actor: User, now: datetime, note: str) -> None:
    """The audit row, and an internal note on each linked petition's timeline."""
    audit_event_record(action=AuditEvent.Action.CHANGE, object_type=object_type_of(suggestion),
                       object_id=suggestion.pk, object_repr=str(suggestion),
                       fields=("status", "outcome", "decision_note"), actor=actor)
    PetitionEvent.objects.bulk_create([
        PetitionEvent(petition_id=petition_id, kind=PetitionEvent.Kind.NOTE, actor=actor,
                      note=note, is_internal=True, created_at=now)
        for petition_id in suggestion.petitions.values_list("pk", flat=True)])


def _quotes_petitions(suggestion: RecurrenceSuggestion, text: str) -> bool:
    """Whether the text repeats a linked petition's words or its petitioner's name or phone:
    a topic or a need is read by every resident of the compound."""
    withheld = tuple(word for row in suggestion.petitions.values_list(
        "description", "contact_name", "contact_phone") for word in row if word)
    return Referral(compound_id=0, is_private=True, title="", description="",
                    withheld=withheld).quotes(text)


def recurrence_default_text(suggestion: RecurrenceSuggestion) -> tuple[str, str]:
    """A neutral title and text for the topic or need (the staff member may rewrite them)."""
    params = {"building": suggestion.building.number, "category": suggestion.category.name,
              "days": suggestion.window_days, "count": suggestion.petition_count}
    title = _("%(building)s号楼“%(category)s”问题反复出现") % params
    text = _("近%(days)s天内，%(building)s号楼已有%(count)s件“%(category)s”诉求。"
             "建议协商长效解决办法，未诉先办。") % params
    return title, text


def recurrence_accept(*, suggestion_id: int, actor: User, outcome: str, title: str,
                      description: str = "") -> RecurrenceSuggestion:
    """Accept: deliberation opens a topic or adds a need for it.

    1. An outcome and a title are required; the text may not quote a linked petition or its
       petitioner (residents read it).
    2. The suggestion, locked, as the actor covers it (404) and may decide it (403); open only.
    3. deliberation makes the topic or need (core.recurrence) in this transaction: its refusal
       leaves the suggestion open.
    4. The decision, its audit row and a note on each linked petition.
    """
    title, description = (title or "").strip(), (description or "").strip()
    if outcome not in Outcome.values:
        raise ApplicationError(_("请选择发起议题或列入需求清单。"))
    if not title:
        raise ApplicationError(_("请填写议题或需求的名称。"))
    with transaction.atomic():
        suggestion = _load_for_decision(suggestion_id=suggestion_id, actor=actor)
        transition(suggestion, Status.ACCEPTED, table=RECURRENCE_TRANSITIONS)
        if _quotes_petitions(suggestion, f"{title}\n{description}"):
            raise ApplicationError(_("名称和说明不能引用诉求原文或诉求人的姓名、电话，"
                                     "请用中性的文字概括。"))
        compound_id = suggestion.building.compound_id
        target = recurrence_target()
        if outcome == Outcome.TOPIC:
            suggestion.topic_id = target.topic_open(compound_id=compound_id, actor=actor,
                                                    title=title, description=description)
            note = _("未诉先办建议已采纳：发起议题“%s”") % title
        else:
            latest = suggestion.petitions.order_by("-submitted_at", "-id").values_list(
                "pk", flat=True).first()
            suggestion.need_id = target.need_add(compound_id=compound_id, actor=actor,
                                                 title=title, detail=description,
                                                 petition_id=latest or 0)
            note = _("未诉先办建议已采纳：列入需求清单“%s”") % title
        now = timezone.now()
        suggestion.outcome, suggestion.decided_by, suggestion.decided_at = outcome, actor, now
        suggestion.save(update_fields=["status", "outcome", "topic_id", "need_id", "decided_by",
                                       "decided_at"])
        _record(suggestion, actor=actor, now=now, note=note)
        return suggestion


def recurrence_dismiss(*, suggestion_id: int, actor: User, reason: str) -> RecurrenceSuggestion:
    """Dismiss, saying why; raised again only when a petition arrives after this."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("不采纳须填写理由。"))
    with transaction.atomic():
        suggestion = _load_for_decision(suggestion_id=suggestion_id, actor=actor)
        transition(suggestion, Status.DISMISSED, table=RECURRENCE_TRANSITIONS)
        now = timezone.now()
        suggestion.decided_by, suggestion.decided_at = actor, now
        suggestion.decision_note = reason[:500]
        suggestion.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        _record(suggestion, actor=actor, now=now, note=_("未诉先办建议不予采纳：%s") % reason)
        return suggestion


# --- reads ------------------------------------------------------------------------------------


def recurrence_open_list(*, user: Viewer) -> QuerySet[RecurrenceSuggestion]:
    """The queue: open suggestions the user may decide, the oldest first."""
    return (RecurrenceSuggestion.objects.filter(rules.recurrence_q(user), status=Status.OPEN)
            .select_related("building__compound", "category")
            .order_by("raised_at", "id"))


def recurrence_for_petition(*, petition_id: int) -> list[RecurrenceSuggestion]:
    """The suggestions a petition is linked to, the newest first (its staff page)."""
    return list(RecurrenceSuggestion.objects.filter(petitions=petition_id)
                .order_by("-raised_at", "-id")[:3])
