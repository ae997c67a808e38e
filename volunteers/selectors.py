"""Reads that need a user's scope, and the permission-scoped getters (404 for outsiders)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, F, Model, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import ExtractYear
from django.http import Http404
from django_filters.filterset import FilterSet

from accounts.models import User
from core.media import MediaGrant
from core.scope import EVERYTHING, scope_path, scope_q
from residents.models import PartyMember, Resident
from residents.selectors import PARTY_MEMBER_PATH
from volunteers import rules
from volunteers.filters import (
    ActivityFilter,
    CareFileFilter,
    HoursEntryFilter,
    MicroWishFilter,
    ProxyServiceFilter,
    ShiftFilter,
    VolunteerFilter,
)
from volunteers.models import (
    Activity,
    ActivitySignup,
    CareFile,
    CareVisit,
    HoursEntry,
    MicroWish,
    ProxyService,
    Qualification,
    ResponsibilityZone,
    RosterSlot,
    ServicePost,
    Shift,
    Team,
    TeamMembership,
    Volunteer,
)

_M = TypeVar("_M", bound=Model)


def volunteer_for_user(user: User | AnonymousUser) -> Volunteer | None:
    if not user.is_authenticated:
        return None
    return Volunteer.objects.filter(user=user, is_active=True).first()


def resident_for_user(user: User | AnonymousUser) -> Resident | None:
    if not user.is_authenticated:
        return None
    return (Resident.objects.select_related("household__building")
            .filter(user=user).order_by("id").first())


def party_member_for_user(user: User | AnonymousUser) -> PartyMember | None:
    if not user.is_authenticated:
        return None
    return (PartyMember.objects.select_related("resident__household__building")
            .filter(resident__user=user).order_by("id").first())


def user_compound_ids(user: User | AnonymousUser) -> set[int]:
    """The compounds a resident or volunteer belongs to (by home or by registration)."""
    if not user.is_authenticated:
        return set()
    ids = set(Resident.objects.filter(user=user)
              .values_list("household__building__compound_id", flat=True))
    ids.update(Volunteer.objects.filter(user=user).values_list("compound_id", flat=True))
    return ids


def _filtered(filterset_class: type[FilterSet], filters: Mapping[str, Any] | None,
              queryset: QuerySet[_M]) -> QuerySet[_M]:
    """`queryset` through the FilterSet. Leniently: a bad filter value is left out (django-filter's
    `.qs`), where core.filters.filterset_apply would refuse it with a 400."""
    result: QuerySet[_M] = filterset_class(filters or {}, queryset=queryset).qs
    return result


def _either(scope: Q, own: Q, user: User | AnonymousUser) -> Q:
    # `Q() | x` is `x` in Django, so an unlimited scope must short-circuit explicitly.
    return Q() if scope_path(user) == EVERYTHING else scope | own


def _visible_q(user: User | AnonymousUser, own: Q) -> Q:
    """Staff see their scope; others see what `own` grants them in their compounds."""
    return _either(scope_q(user, "compound__community__path"), own, user)


# --- activities ---------------------------------------------------------------------------

def activity_list(*, user: User | AnonymousUser,
                  filters: Mapping[str, Any] | None = None) -> QuerySet[Activity]:
    own = Q(compound_id__in=user_compound_ids(user)) & ~Q(status=Activity.Status.CANCELLED)
    queryset = (Activity.objects.filter(_visible_q(user, own))
                .select_related("team", "compound")
                .annotate(confirmed_count=Count(
                    "signups", filter=Q(signups__status=ActivitySignup.Status.CONFIRMED))))
    return _filtered(ActivityFilter, filters, queryset)


def activity_get_for_user(*, user: User | AnonymousUser, activity_id: int) -> Activity:
    activity = activity_list(user=user).filter(pk=activity_id).first()
    if activity is None:
        raise Http404
    return activity


def activity_staff_get(*, user: User | AnonymousUser, activity_id: int) -> Activity:
    activity = Activity.objects.select_related("compound__community").filter(
        pk=activity_id).first()
    if activity is None or not rules.is_staff_for_compound(user, activity.compound):
        raise Http404
    return activity


def signup_get_for_staff(*, user: User | AnonymousUser, signup_id: int) -> ActivitySignup:
    signup = (ActivitySignup.objects.select_related("activity__compound__community", "volunteer")
              .filter(pk=signup_id).first())
    if signup is None or not rules.is_staff_for_compound(user, signup.activity.compound):
        raise Http404
    return signup


def signup_get_for_user(*, user: User | AnonymousUser, signup_id: int) -> ActivitySignup:
    """A volunteer's own sign-up, or any sign-up for staff in scope."""
    signup = (ActivitySignup.objects.select_related("activity__compound__community",
                                                    "volunteer")
              .filter(pk=signup_id).first())
    if signup is None:
        raise Http404
    if rules.is_signup_owner(user, signup) or rules.is_staff_for_compound(
            user, signup.activity.compound):
        return signup
    raise Http404


def activity_signups(*, activity: Activity) -> QuerySet[ActivitySignup]:
    return (activity.signups.exclude(status=ActivitySignup.Status.CANCELLED)
            .select_related("volunteer", "hours_entry").order_by("status", "signed_up_at", "id"))


def my_signups(*, volunteer: Volunteer) -> QuerySet[ActivitySignup]:
    return (ActivitySignup.objects.filter(volunteer=volunteer)
            .exclude(status=ActivitySignup.Status.CANCELLED)
            .select_related("activity", "hours_entry").order_by("-activity__starts_at"))


# --- hours --------------------------------------------------------------------------------

def hours_entry_list(*, user: User | AnonymousUser,
                     filters: Mapping[str, Any] | None = None) -> QuerySet[HoursEntry]:
    queryset = (HoursEntry.objects
                .filter(_either(scope_q(user, "volunteer__compound__community__path"),
                                Q(volunteer__user_id=user.pk), user))
                .select_related("volunteer", "activity"))
    return _filtered(HoursEntryFilter, filters, queryset)


def hours_entry_get_for_staff(*, user: User | AnonymousUser, entry_id: int) -> HoursEntry:
    entry = (HoursEntry.objects.select_related("volunteer__compound__community")
             .filter(pk=entry_id).first())
    if entry is None or not rules.is_staff_for_compound(user, entry.volunteer.compound):
        raise Http404
    return entry


def hours_yearly_totals(*, volunteer_id: int) -> list[dict[str, Any]]:
    """Approved hours per year, with app-recorded and staff-added hours kept apart."""
    rows = (HoursEntry.objects
            .filter(volunteer_id=volunteer_id, status=HoursEntry.Status.APPROVED)
            .annotate(year=ExtractYear("served_on")).values("year", "source")
            .annotate(total=Sum("hours")).order_by("-year"))
    years: dict[int, dict[str, Any]] = defaultdict(
        lambda: {"app": Decimal("0"), "staff": Decimal("0"), "total": Decimal("0")})
    for row in rows:
        bucket = years[row["year"]]
        # A check-in, a shift or a logged visit: recorded by the portal; else added by staff.
        bucket["staff" if row["source"] == HoursEntry.Source.STAFF else "app"] += row["total"]
        bucket["total"] += row["total"]
    # SQLite sums decimals to "2", PostgreSQL to "2.0": one scale for both.
    tenth = Decimal("0.1")
    return [{"year": year, **{key: value.quantize(tenth) for key, value in values.items()}}
            for year, values in sorted(years.items(), reverse=True)]


def qualifications_missing(*, volunteer_id: int, kinds: list[str], on: date) -> list[str]:
    """The required kinds the volunteer holds no valid qualification for on that day."""
    if not kinds:
        return []
    held = set(Qualification.objects
               .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=on),
                       volunteer_id=volunteer_id, kind__in=kinds, obtained_on__lte=on)
               .values_list("kind", flat=True))
    return [kind for kind in kinds if kind not in held]


def shift_overlaps(*, volunteer_id: int, starts_at: datetime, ends_at: datetime,
                   exclude_shift_id: int | None = None) -> bool:
    """Whether the volunteer holds another shift that shares some time with this one (touching
    ends, 08:00-10:00 then 10:00-12:00, do not overlap)."""
    queryset = Shift.objects.filter(volunteer_id=volunteer_id, status__in=Shift.HOLDING_STATES,
                                    starts_at__lt=ends_at, ends_at__gt=starts_at)
    if exclude_shift_id is not None:
        queryset = queryset.exclude(pk=exclude_shift_id)
    return queryset.exists()


def volunteer_no_shows(*, volunteer_id: int) -> QuerySet[Shift]:
    """The ledger's no-shows: recorded by staff, shown with the hours but never counted."""
    return (Shift.objects.filter(volunteer_id=volunteer_id, status=Shift.Status.NO_SHOW)
            .select_related("post").order_by("-starts_at", "-id"))


def volunteer_ledger(*, volunteer_id: int) -> QuerySet[HoursEntry]:
    return (HoursEntry.objects.filter(volunteer_id=volunteer_id)
            .select_related("activity", "shift__post").order_by("-served_on", "-id"))


def qualification_list(*, volunteer_id: int) -> QuerySet[Qualification]:
    return Qualification.objects.filter(volunteer_id=volunteer_id).order_by("kind")


def hours_export_entries(*, volunteer_id: int, year: int) -> QuerySet[HoursEntry]:
    """Approved hours of one volunteer in one year, oldest first, for the CSV export."""
    return (HoursEntry.objects
            .filter(volunteer_id=volunteer_id, status=HoursEntry.Status.APPROVED,
                    served_on__year=year)
            .select_related("volunteer", "activity", "signup", "shift__post")
            .order_by("served_on", "id"))


# The calendar shows a month back and a quarter ahead: what a phone's calendar needs.
CALENDAR_PAST = timedelta(days=31)
CALENDAR_AHEAD = timedelta(days=92)


def volunteer_for_calendar_token(*, token: str) -> Volunteer:
    """The feed's only key is its token: an unknown (or rotated) token is a 404."""
    if len(token) < 20:
        raise Http404
    volunteer = Volunteer.objects.filter(calendar_token=token, is_active=True).first()
    if volunteer is None:
        raise Http404
    return volunteer


def calendar_shifts(*, volunteer_id: int, now: datetime) -> QuerySet[Shift]:
    return (Shift.objects.filter(volunteer_id=volunteer_id, starts_at__gte=now - CALENDAR_PAST,
                                 starts_at__lte=now + CALENDAR_AHEAD)
            .select_related("post").order_by("starts_at", "id"))


def hours_for_year(*, volunteer_id: int, year: int) -> QuerySet[HoursEntry]:
    return (HoursEntry.objects
            .filter(volunteer_id=volunteer_id, status=HoursEntry.Status.APPROVED,
                    served_on__year=year)
            .select_related("activity").order_by("served_on", "id"))


def team_ranking(*, team: Team, year: int) -> QuerySet[Volunteer]:
    approved_this_year = Q(hours_entries__status=HoursEntry.Status.APPROVED,
                           hours_entries__served_on__year=year)
    return (Volunteer.objects.filter(memberships__team=team)
            .annotate(year_hours=Sum("hours_entries__hours", filter=approved_this_year))
            .order_by("-year_hours", "id"))


def volunteer_get_for_staff(*, user: User | AnonymousUser, volunteer_id: int) -> Volunteer:
    volunteer = (Volunteer.objects.select_related("compound__community")
                 .filter(pk=volunteer_id).first())
    if volunteer is None or not rules.is_staff_for_compound(user, volunteer.compound):
        raise Http404
    return volunteer


def team_list(*, user: User | AnonymousUser) -> QuerySet[Team]:
    own = Q(compound_id__in=user_compound_ids(user))
    return (Team.objects.filter(_visible_q(user, own), is_active=True)
            .annotate(member_count=Count("memberships")).order_by("compound_id", "id"))


def team_get_for_user(*, user: User | AnonymousUser, team_id: int) -> Team:
    team = team_list(user=user).filter(pk=team_id).first()
    if team is None:
        raise Http404
    return team


def volunteer_list(*, user: User | AnonymousUser,
                   filters: Mapping[str, Any] | None = None) -> QuerySet[Volunteer]:
    queryset = (Volunteer.objects.filter(scope_q(user, Volunteer.SCOPE_PATH))
                .select_related("compound").order_by("id"))
    return _filtered(VolunteerFilter, filters, queryset)


# --- zones, posts, rosters ----------------------------------------------------------------

def zone_list(*, user: User | AnonymousUser) -> QuerySet[ResponsibilityZone]:
    own = Q(compound_id__in=user_compound_ids(user))
    # The member comes with its `area_path`, for `party_member_public_name` (staff in scope).
    members = (PartyMember.objects.select_related("resident")
               .annotate(area_path=F(PARTY_MEMBER_PATH)))
    return (ResponsibilityZone.objects.filter(_visible_q(user, own))
            .prefetch_related(Prefetch("party_member", queryset=members), "buildings")
            .annotate(household_count=Count("households", distinct=True)))


def post_list(*, user: User | AnonymousUser) -> QuerySet[ServicePost]:
    own = Q(compound_id__in=user_compound_ids(user))
    return ServicePost.objects.filter(_visible_q(user, own)).prefetch_related(
        Prefetch("slots", queryset=RosterSlot.objects.filter(is_active=True)
                 .select_related("volunteer")))


def post_get_for_staff(*, user: User | AnonymousUser, post_id: int) -> ServicePost:
    post = ServicePost.objects.select_related("compound__community").filter(pk=post_id).first()
    if post is None or not rules.is_staff_for_compound(user, post.compound):
        raise Http404
    return post


def shift_list(*, user: User | AnonymousUser,
               filters: Mapping[str, Any] | None = None) -> QuerySet[Shift]:
    queryset = (Shift.objects.filter(_either(scope_q(user, "post__compound__community__path"),
                                             Q(volunteer__user_id=user.pk), user))
                .select_related("post", "volunteer"))
    return _filtered(ShiftFilter, filters, queryset)


def shift_get_for_user(*, user: User | AnonymousUser, shift_id: int) -> Shift:
    shift = shift_list(user=user).filter(pk=shift_id).first()
    if shift is None:
        raise Http404
    return shift


def board_members(*, compound_id: int) -> QuerySet[PartyMember]:
    """亮身份: the public board of a compound's party members, their zones and posts.

    Each row carries `area_path`, so `party_member_public_name` can tell staff in scope (the full
    name) from everybody else (张*), as on the governance page and the API board.
    """
    return (PartyMember.objects
            .filter(resident__household__building__compound_id=compound_id, is_public=True)
            .select_related("resident", "org_node")
            .annotate(area_path=F(PARTY_MEMBER_PATH))
            .prefetch_related(
                "responsibility_zones",
                Prefetch("volunteer_profiles", queryset=Volunteer.objects.prefetch_related(
                    Prefetch("slots", queryset=RosterSlot.objects.select_related("post"))))
            ).order_by("id"))


# --- micro-wishes and proxy services ------------------------------------------------------

def micro_wish_list(*, user: User | AnonymousUser,
                    filters: Mapping[str, Any] | None = None) -> QuerySet[MicroWish]:
    member = party_member_for_user(user)
    own = Q(resident__user_id=user.pk)
    if member is not None:
        own |= Q(claimed_by=member) | Q(
            status=MicroWish.Status.PUBLISHED,
            compound_id=member.resident.household.building.compound_id)
    queryset = (MicroWish.objects.filter(_visible_q(user, own))
                .select_related("resident", "claimed_by__resident", "compound__community"))
    return _filtered(MicroWishFilter, filters, queryset)


def micro_wish_get_for_user(*, user: User | AnonymousUser, wish_id: int) -> MicroWish:
    wish = micro_wish_list(user=user).filter(pk=wish_id).first()
    if wish is None:
        raise Http404
    return wish


def micro_wish_get_for_media(*, user: User | AnonymousUser, name: str) -> MediaGrant | None:
    """A wish's fulfilment photo (core.media), to whoever may open the wish (micro_wish_list,
    as its page). It shows a resident's home or person: audited, but for the resident and the
    member who fulfilled it (and took the photo)."""
    if not user.is_authenticated:
        return None
    wish = micro_wish_list(user=user).filter(fulfilment_photo=name).first()
    if wish is None:
        return None
    claimer = wish.claimed_by
    is_own = user.pk in (wish.resident.user_id,
                         claimer.resident.user_id if claimer is not None else None)
    return MediaGrant(obj=wish, is_audited=not is_own)


def proxy_service_list(*, user: User | AnonymousUser,
                       filters: Mapping[str, Any] | None = None) -> QuerySet[ProxyService]:
    own = Q(resident__user_id=user.pk) | Q(assignee__user_id=user.pk)
    queryset = (ProxyService.objects.filter(_visible_q(user, own))
                .select_related("resident", "assignee", "compound__community"))
    return _filtered(ProxyServiceFilter, filters, queryset)


def proxy_service_get_for_user(*, user: User | AnonymousUser, service_id: int) -> ProxyService:
    service = proxy_service_list(user=user).filter(pk=service_id).first()
    if service is None:
        raise Http404
    return service


def dashboard_counts(*, user: User | AnonymousUser) -> dict[str, Any]:
    wishes = (MicroWish.objects.filter(scope_q(user, MicroWish.SCOPE_PATH))
              .aggregate(total=Count("id"),
                         open=Count("id", filter=Q(status__in=["submitted", "published",
                                                              "claimed"])),
                         fulfilled=Count("id", filter=Q(status__in=MicroWish.FULFILLED_STATES))))
    services = (ProxyService.objects.filter(scope_q(user, ProxyService.SCOPE_PATH))
                .aggregate(total=Count("id"),
                           open=Count("id", filter=Q(status__in=["requested", "assigned"])),
                           done=Count("id", filter=Q(status__in=["done", "confirmed"]))))
    return {"wishes": wishes, "services": services}


# --- care ---------------------------------------------------------------------------------

def caring_compound_ids(user: User | AnonymousUser) -> set[int]:
    """Compounds whose caring team (爱心管家) counts this user as a member."""
    if not user.is_authenticated:
        return set()
    return set(TeamMembership.objects
               .filter(volunteer__user=user, volunteer__is_active=True,
                       team__kind=Team.Kind.CARING, team__is_active=True)
               .values_list("team__compound_id", flat=True))


def care_file_list(*, user: User | AnonymousUser,
                   filters: Mapping[str, Any] | None = None) -> QuerySet[CareFile]:
    # Health notes and emergency numbers are need-to-know: of the caring team, only the
    # elder's assigned caretaker (an active volunteer) reads the file, not every member.
    visible = (Q(caretaker__user_id=user.pk, caretaker__is_active=True)
               if user.is_authenticated else Q(pk__in=[]))
    if rules.reads_care_files_in_scope(user):
        visible = _either(scope_q(user, CareFile.SCOPE_PATH), visible, user)
    queryset = (CareFile.objects.filter(visible)
                .select_related("resident__household__building", "caretaker"))
    return _filtered(CareFileFilter, filters, queryset)


def care_file_get_for_user(*, user: User | AnonymousUser, care_file_id: int) -> CareFile:
    care_file = care_file_list(user=user).filter(pk=care_file_id).first()
    if care_file is None:
        raise Http404
    return care_file


def care_visit_get_for_user(*, user: User | AnonymousUser, visit_id: int) -> CareVisit:
    """A visit, to whoever may read its care file (404 to anyone else)."""
    visit = CareVisit.objects.filter(pk=visit_id).only("id", "care_file_id").first()
    if visit is None:
        raise Http404
    care_file_get_for_user(user=user, care_file_id=visit.care_file_id)
    return visit


def care_files_overdue(*, user: User | AnonymousUser, today: date) -> QuerySet[CareFile]:
    return care_file_list(user=user).filter(is_active=True, next_visit_due__lt=today)
