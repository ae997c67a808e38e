"""Reads of petitions that depend on who is asking. Every load for a user goes through here."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import TruncMonth, TruncWeek
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.filters import filterset_apply
from core.masking import mask_phone
from core.media import MediaGrant
from core.scope import scope_path
from petitions import policy, rules
from petitions.filters import PetitionFilter
from petitions.models import (
    OPEN_STATES,
    Petition,
    PetitionEvent,
    PetitionPhoto,
    PetitionState,
    Tier,
)
from petitions.rules import Viewer
from territory.models import Area, Building
from territory.selectors import building_list

LIST_RELATED = ("category", "area", "holder", "building__compound")
PUBLIC_STATES = (PetitionState.VERIFIED, PetitionState.RATED, PetitionState.CLOSED)
PUBLIC_DIGITS = re.compile(r"\d{3,}")


def petition_visible_queryset(*, user: Viewer) -> QuerySet[Petition]:
    """Every petition the user may see (the scope rules in petitions.rules)."""
    return Petition.objects.filter(rules.visibility_q(user))


def petition_list(*, user: Viewer, filters: Mapping[str, Any] | None = None) -> QuerySet[
        Petition]:
    """The user's visible petitions, narrowed by PetitionFilter. Bad filters: ValidationError;
    a whole-phone search the user may not make, or one past their budget: ApplicationError."""
    queryset = petition_visible_queryset(user=user).select_related(*LIST_RELATED)
    if not filters:
        return queryset
    return filterset_apply(PetitionFilter, filters, queryset, viewer=user)


def petition_get_for_user(*, user: Viewer, petition_id: int | str) -> Petition:
    """One petition, or Http404 for anyone outside its scope (guessed ids included)."""
    try:
        petition_pk = int(petition_id)
    except (TypeError, ValueError):
        raise Http404(_("诉求不存在。")) from None
    petition = (petition_visible_queryset(user=user).select_related(*LIST_RELATED, "submitter")
                .filter(pk=petition_pk).first())
    if petition is None:
        raise Http404(_("诉求不存在。"))
    return petition


def petition_timeline(*, user: Viewer, petition: Petition) -> QuerySet[PetitionEvent]:
    """Events with their photos and `visible_note`: staff read everything; residents and
    external systems read each step, but an internal note (and its photos) not
    (PetitionEventQuerySet.for_residents)."""
    events = petition.events.select_related("actor")
    if rules.sees_internal(user, petition):
        return events.for_staff().prefetch_related("photos")
    public_photos = PetitionPhoto.objects.exclude(event__is_internal=True)
    return events.for_residents().prefetch_related(Prefetch("photos", queryset=public_photos))


def petition_event_actor_label(*, event: PetitionEvent, petition: Petition) -> str | None:
    """Who acted, as every viewer is told: the submitter only as their contact name, or 匿名
    (never the account's name: an anonymous petition hides it from the staff handling it)."""
    if event.actor_id is None:
        return None
    if event.actor_id == petition.submitter_id:
        return (petition.contact_name if not petition.is_anonymous else "") or _("匿名")
    return str(event.actor)


def petition_contact_phone_for(*, user: Viewer, petition: Petition) -> str:
    """The contact phone as every page and the API show it: masked, except to the person it
    belongs to (their account's verified phone). Handlers reveal it one petition at a time
    (rules.may_reveal_contact, the reveal-contact API), audited."""
    if petition.contact_phone and getattr(user, "phone", None) == petition.contact_phone:
        return petition.contact_phone
    return mask_phone(petition.contact_phone)


def petition_queue(*, user: Viewer) -> QuerySet[Petition]:
    """My queue: open petitions I hold, soonest deadline first."""
    return (Petition.objects.filter(holder_id=user.pk, state__in=OPEN_STATES)
            .select_related(*LIST_RELATED).order_by("due_at", "id"))


def petition_overdue_list(*, user: Viewer, now: datetime | None = None) -> QuerySet[
        Petition]:
    moment = now or timezone.now()
    return (petition_visible_queryset(user=user).filter(policy.overdue_q(moment))
            .select_related(*LIST_RELATED).order_by("due_at", "id"))


def petition_due_today_list(*, user: Viewer, now: datetime | None = None) -> QuerySet[
        Petition]:
    """Open, not yet overdue, due before local midnight."""
    moment = now or timezone.now()
    midnight = datetime.combine(timezone.localtime(moment).date() + timedelta(days=1), time(0),
                                tzinfo=timezone.get_current_timezone())
    return (petition_visible_queryset(user=user)
            .filter(policy.on_time_q("due_at", moment), state__in=OPEN_STATES,
                    due_at__lt=midnight)
            .select_related(*LIST_RELATED).order_by("due_at", "id"))


def petition_duplicates(*, category_id: int, building_id: int | None,
                        exclude_id: int | None = None) -> QuerySet[Petition]:
    """Duplicate hint: open petitions of the same category in the same building."""
    if building_id is None:
        return Petition.objects.none()
    queryset = Petition.objects.filter(category_id=category_id, building_id=building_id,
                                       state__in=OPEN_STATES)
    if exclude_id is not None:
        queryset = queryset.exclude(pk=exclude_id)
    return queryset.order_by("-submitted_at")


def petition_duplicates_for_user(*, user: Viewer, petition: Petition,
                                 limit: int = 10) -> list[Petition]:
    """The staff page's duplicate hint: those of the petition's duplicates the viewer may open
    (a link to a petition outside the viewer's scope would only be a 404)."""
    duplicates = petition_duplicates(category_id=petition.category_id,
                                     building_id=petition.building_id, exclude_id=petition.pk)
    return list(duplicates.filter(rules.visibility_q(user))
                .only("id", "state", "submitted_at", "description")[:limit])


def petition_public_q() -> Q:
    """The petitions anyone may see (the 公示 page, keyless Open311): the resolved ones."""
    return Q(state__in=PUBLIC_STATES, resolved_at__isnull=False)


def petition_public_photo_q() -> Q:
    """The petitions whose first photo anyone may open (Open311 media_url, the public photo
    view): on the 公示 list, the text published with the resident's consent, and a photo sent
    with the submission. Photos added by staff (notes, the result) are never published."""
    sent = PetitionPhoto.objects.filter(petition_id=OuterRef("pk"),
                                        event__kind=PetitionEvent.Kind.SUBMITTED)
    return petition_public_q() & Q(is_public=True) & Q(Exists(sent))


def petition_public_photo(*, petition_id: int) -> PetitionPhoto | None:
    """The photo behind a public petition's media_url: the first one sent with it."""
    if not Petition.objects.filter(petition_public_photo_q(), pk=petition_id).exists():
        return None
    return (PetitionPhoto.objects.filter(petition_id=petition_id,
                                         event__kind=PetitionEvent.Kind.SUBMITTED)
            .order_by("id").first())


def petition_photo_get_for_media(*, user: Viewer, name: str) -> MediaGrant | None:
    """A stored petition photo (core.media), to whoever the pages show it: those who may see
    the petition (rules.can_view), an internal note's photo only to the handling side (as in
    petition_timeline); and to anyone the one photo the 公示 publishes (petition_public_photo,
    the public photo view's rule). Audited unless the viewer owns the petition or took it."""
    photo = (PetitionPhoto.objects.select_related("petition", "event")
             .filter(image=name).first())
    if photo is None:
        return None
    petition = photo.petition
    if rules.can_view(user, petition) and (
            rules.sees_internal(user, petition)
            or (photo.event is not None and not photo.event.is_internal)):
        is_own = rules.is_owner(user, petition) or photo.uploaded_by_id == user.pk
        return MediaGrant(obj=photo, is_audited=not is_own)
    public = petition_public_photo(petition_id=petition.pk)
    if public is not None and public.pk == photo.pk:
        return MediaGrant(obj=photo, is_audited=False)
    return None


def petition_public_text(text: str) -> str:
    """Any text shown to anyone: digit runs (phones, room numbers) starred."""
    return PUBLIC_DIGITS.sub(lambda match: "*" * len(match.group()), text or "")


def petition_public_list() -> QuerySet[Petition]:
    """The 公示 page: resolved petitions, newest first, for anyone (the page anonymises them)."""
    return (Petition.objects.filter(petition_public_q())
            .select_related("category", "building__compound").order_by("-resolved_at", "-id"))


def petition_events_for_external(*, user: Viewer, since: datetime | None = None,
                                 until: datetime | None = None) -> QuerySet[PetitionEvent]:
    """Open311 servicerequestupdates: public events of the petitions this system submitted."""
    events = PetitionEvent.objects.filter(petition__external_system_id=user.pk).for_residents()
    if since is not None:
        events = events.filter(created_at__gt=since)
    if until is not None:
        events = events.filter(created_at__lte=until)
    return events.select_related("petition").order_by("created_at", "id")


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def petition_rates(*, user: Viewer, start: datetime, end: datetime,
                   by: Literal["week", "month"] = "week") -> list[dict[str, Any]]:
    """The three rates per period (week or month of submission), in the user's scope.

    response = arrived on time / dispatched; resolution = resolved / submitted;
    satisfaction = (满意 + 基本满意) / rated; on-time per tier = resolved on time at that tier /
    resolved at that tier. Each rate comes with its sample size. One aggregate query.
    """
    if by not in ("week", "month"):
        raise ValidationError(_("统计周期只能是周或月。"))
    trunc = TruncWeek if by == "week" else TruncMonth
    rows = (petition_visible_queryset(user=user)
            .filter(submitted_at__gte=start, submitted_at__lt=end)
            .exclude(state__in=[PetitionState.REJECTED, PetitionState.MERGED])
            .annotate(period=trunc("submitted_at")).values("period")
            .annotate(**rate_aggregates()).order_by("period"))
    return [rates_row(row) for row in rows]


def rate_aggregates() -> dict[str, Any]:
    """The counts behind the three rates and the on-time rate per tier, as conditional
    aggregates: the one definition the stats page and the monthly report share."""
    rated = Q(rating__gt="")
    satisfied = Q(rating__in=[Petition.Rating.SATISFIED, Petition.Rating.BASICALLY_SATISFIED])
    aggregates: dict[str, Any] = {
        "submitted": Count("id"),
        "dispatched": Count("id", filter=Q(dispatched_at__isnull=False)),
        "arrived_on_time": Count("id", filter=Q(arrived_at__isnull=False,
                                                arrival_missed=False)),
        "resolved": Count("id", filter=Q(resolved_at__isnull=False)),
        "rated": Count("id", filter=rated),
        "satisfied": Count("id", filter=satisfied),
    }
    for tier in Tier.values:
        aggregates[f"resolved_{tier}"] = Count("id", filter=Q(resolved_tier=tier))
        aggregates[f"on_time_{tier}"] = Count("id", filter=Q(resolved_tier=tier,
                                                             resolved_on_time=True))
    return aggregates


def period_start(day: date, by: Literal["week", "month"]) -> date:
    """The first day of `day`'s period, as TruncWeek (Monday) and TruncMonth give it."""
    return day - timedelta(days=day.weekday()) if by == "week" else day.replace(day=1)


def _next_period(start: date, by: Literal["week", "month"]) -> date:
    if by == "week":
        return start + timedelta(days=7)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def rates_every_period(rows: list[dict[str, Any]], *, first: date, last: date,
                       by: Literal["week", "month"]) -> list[dict[str, Any]]:
    """petition_rates' rows with every period from `first`'s to `last`'s, in order.

    A period without petitions has no row in the query; left out, a chart would draw its
    neighbours side by side and its time axis would lie. It comes back with no samples and no
    rates (None: nothing to measure, not 0 %).
    """
    by_period = {row["period"]: row for row in rows}
    periods, start = [], period_start(first, by)
    while start <= last:
        periods.append(by_period.get(start) or rates_row(defaultdict(int, period=start)))
        start = _next_period(start, by)
    return periods


def rates_row(row: Mapping[str, Any]) -> dict[str, Any]:
    period = row["period"]
    return {
        "period": period.date() if isinstance(period, datetime) else period,
        "submitted": row["submitted"],
        "response_rate": _rate(row["arrived_on_time"], row["dispatched"]),
        "response_sample": row["dispatched"],
        "resolution_rate": _rate(row["resolved"], row["submitted"]),
        "resolution_sample": row["submitted"],
        "satisfaction_rate": _rate(row["satisfied"], row["rated"]),
        "satisfaction_sample": row["rated"],
        "on_time_rate": {
            tier: {"rate": _rate(row[f"on_time_{tier}"], row[f"resolved_{tier}"]),
                   "sample": row[f"resolved_{tier}"]}
            for tier in Tier.values
        },
    }


# --- the staff forms' choices -----------------------------------------------------------------


def holder_candidate_list(*, user: User) -> QuerySet[User]:
    """Active staff inside the user's scope: the holder choices of dispatch and reroute."""
    staff = (User.objects.filter(is_active=True, role__in=rules.STAFF_ROLES)
             .select_related("scope_area"))
    prefix = scope_path(user)
    if prefix:
        staff = staff.filter(scope_area__path__startswith=prefix)
    return staff.order_by("role", "username")


def scope_building_list(*, user: User) -> QuerySet[Building]:
    """The buildings in the user's scope: where a petition may be placed or rerouted."""
    prefix = scope_path(user)
    buildings = building_list()
    if prefix:
        buildings = buildings.filter(micro_grid__path__startswith=prefix)
    return buildings


def scope_micro_grid_list(*, user: User) -> QuerySet[Area]:
    """The micro-grids in the user's scope: where a petition without a building is placed."""
    return Area.objects.filter(kind=Area.Kind.MICROGRID,
                               path__startswith=scope_path(user) or "").order_by("path")
