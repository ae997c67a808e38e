"""Who may see and who may do what with a petition: one place for the permission matrix.

- resident (owner): sees their own; adds notes, rates, asks to reopen.
- holder: checks in, adds notes, resolves, returns to the dispatcher, escalates by hand.
- handler staff (grid worker, community staff, street admin) whose scope covers the petition:
  everything the holder may, plus verify (not their own resolution), close (once rated, or the
  rating window passed) and refer to deliberation.
- dispatcher (community staff, street admin): dispatch, triage, reroute, reject.
- external system: sees and rates what it submitted (or its scope_area, when one is set).

The actions the pages offer (`staff_actions`, `may_rate`, …) are these roles joined with the
move each action makes in the transition table (PETITION_TRANSITIONS): a button shows where the
table allows its move, so the table stays the one account of the workflow. The services still
decide, with the same rules.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias, TypeGuard

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from accounts.models import User
from core.scope import EVERYTHING, scope_path
from petitions.models import (
    FINISHED_STATES,
    OPEN_STATES,
    PETITION_TRANSITIONS,
    Petition,
    PetitionState,
)
from petitions.policy import NEXT_TIER, rating_window_passed

# Whoever a request carries: a signed-in account or the anonymous visitor.
Viewer: TypeAlias = User | AnonymousUser

Role = User.Role
State = PetitionState
STAFF_ROLES = User.STAFF_ROLES
HANDLER_ROLES = frozenset({Role.GRID_WORKER, Role.COMMUNITY_STAFF, Role.STREET_ADMIN})
DISPATCHER_ROLES = frozenset({Role.COMMUNITY_STAFF, Role.STREET_ADMIN})

# Which staff roles may open each dashboard view (Oscar's dashboard permission map), by the
# view's class name; a superuser may open every one.
STAFF_PAGE_ROLES: dict[str, frozenset[str]] = {
    "PetitionWorkbenchView": STAFF_ROLES,
    "PetitionWorkbenchExportView": STAFF_ROLES,
    "PetitionOverdueListView": STAFF_ROLES,
    "PetitionDueTodayListView": STAFF_ROLES,
    "PetitionStatsView": STAFF_ROLES,
    "PetitionStaffDetailView": STAFF_ROLES,
    "BuildingPlaqueSheetView": STAFF_ROLES,
    "PetitionCheckInView": STAFF_ROLES,
    "PetitionAcceptView": STAFF_ROLES,
    "PetitionNoteCreateView": STAFF_ROLES,
    "PetitionResolveView": STAFF_ROLES,
    "PetitionReturnView": STAFF_ROLES,
    "PetitionEscalateView": STAFF_ROLES,
    "PetitionVerifyView": HANDLER_ROLES,
    "PetitionCloseView": HANDLER_ROLES,
    "PetitionDispatchView": DISPATCHER_ROLES,
    "PetitionRerouteView": DISPATCHER_ROLES,
    "PetitionReferView": HANDLER_ROLES,
    "PetitionRejectView": DISPATCHER_ROLES,
    "PetitionDispatchQueueView": DISPATCHER_ROLES,
    "PetitionPlaceView": DISPATCHER_ROLES,
    "PetitionIntakeView": HANDLER_ROLES,
    "PetitionIntakeLocationPickerView": HANDLER_ROLES,
    "PetitionIntakeQuestionsView": HANDLER_ROLES,
    "PetitionCallbackView": HANDLER_ROLES,
    "PetitionExclusionRequestView": STAFF_ROLES,
    "ExclusionQueueView": frozenset({Role.STREET_ADMIN}),
    "ExclusionApproveView": frozenset({Role.STREET_ADMIN}),
    "ExclusionRefuseView": frozenset({Role.STREET_ADMIN}),
    "PetitionExtensionRequestView": STAFF_ROLES,
    "ExtensionQueueView": HANDLER_ROLES,
    "ExtensionGrantView": HANDLER_ROLES,
    "ExtensionRefuseView": HANDLER_ROLES,
    "RecurrenceQueueView": DISPATCHER_ROLES,
    "RecurrenceAcceptView": DISPATCHER_ROLES,
    "RecurrenceDismissView": DISPATCHER_ROLES,
    "PetitionMergeView": DISPATCHER_ROLES,
    "CoHandlingCreateView": STAFF_ROLES,
}
# The moves to 已派单 that are not a dispatch: a refused verification sends a resolved petition
# back to its holder (petition_verify), a returned one is rerouted (petition_reroute).
REDISPATCHED_ELSEWHERE = frozenset({State.RESOLVED, State.RETURNED})


# --- who sees what -----------------------------------------------------------------------------


def is_staff(user: Viewer) -> TypeGuard[User]:
    """Signed in as staff of any role, or a superuser: the staff side of the pages."""
    return isinstance(user, User) and (user.is_staff_role or user.is_superuser)


def is_resident(user: Viewer) -> TypeGuard[User]:
    return isinstance(user, User) and user.role == Role.RESIDENT


def is_verified_resident(user: Viewer) -> TypeGuard[User]:
    """A resident whose phone is verified (the sign-in verifies it): the resident pages."""
    return is_resident(user) and bool(user.phone)


def visibility_prefix(user: Viewer | None) -> str | None:
    """The area-path prefix a user sees by scope ("" = all, None = none by scope)."""
    if isinstance(user, User) and user.is_active and user.role == Role.EXTERNAL_SYSTEM:
        # No query when the key has no scope_area: the descriptor sees the empty id.
        area = user.scope_area
        if area is not None:
            return str(area.path)
    return scope_path(user)


def visibility_key(user: Viewer | None) -> tuple[object, ...] | None:
    """Everything visibility_q(user) is made of, and nothing else: two users with the same key
    see the same rows through the same condition. The workbench keeps the condition's compiled
    statement under it (petitions.workbench._unfiltered_visible_sql): whatever visibility_q
    comes to read must be part of this key too."""
    if not isinstance(user, User) or not user.is_active:
        return None
    return (user.pk, user.role == Role.EXTERNAL_SYSTEM, visibility_prefix(user))


def visibility_q(user: Viewer | None) -> Q:
    """Rows of Petition this user may see (made of visibility_key(user) alone)."""
    if not isinstance(user, User) or not user.is_active:
        return Q(pk__in=[])
    prefix = visibility_prefix(user)
    if prefix == EVERYTHING:
        return Q()
    condition = Q(submitter_id=user.pk) | Q(holder_id=user.pk)
    if user.role == Role.EXTERNAL_SYSTEM:
        condition |= Q(external_system_id=user.pk)
    if prefix is not None:
        condition |= Q(area_path__startswith=prefix) | Q(origin_path__startswith=prefix)
    return condition


def covers(user: Viewer, petition: Petition) -> bool:
    if not is_staff(user):
        return False
    prefix = visibility_prefix(user)
    if prefix is None:
        return False
    return petition.area_path.startswith(prefix) or petition.origin_path.startswith(prefix)


def covers_q(user: Viewer) -> Q:
    """covers() as a condition on rows: the holding area or the origin in the user's scope."""
    prefix = visibility_prefix(user) if is_staff(user) else None
    if prefix is None:
        return Q(pk__in=[])
    if prefix == EVERYTHING:
        return Q(pk__isnull=False)
    return Q(area_path__startswith=prefix) | Q(origin_path__startswith=prefix)


def can_view(user: Viewer | None, petition: Petition) -> bool:
    if not isinstance(user, User) or not user.is_active:
        return False
    if user.pk in (petition.submitter_id, petition.holder_id, petition.external_system_id):
        return True
    prefix = visibility_prefix(user)
    if prefix is None:
        return False
    return petition.area_path.startswith(prefix) or petition.origin_path.startswith(prefix)


def sees_internal(user: Viewer, petition: Petition) -> bool:
    """The handling side (holder, staff) sees internal notes and their photos; residents and
    external systems don't."""
    return can_handle(user, petition) or is_staff(user)


def may_reveal_contact(user: Viewer, petition: Petition) -> bool:
    """The holder and staff whose scope covers the petition may reveal the whole phone."""
    return bool(user.is_authenticated
                and (can_handle(user, petition) or covers(user, petition)))


def reveal_contact_q(user: Viewer) -> Q:
    """may_reveal_contact as a condition on rows, for a list revealed at once (an export): the
    petitions the user holds, and those their scope covers (which holds every one a handler
    staff covers)."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    return Q(holder_id=user.pk) | covers_q(user)


# --- the roles ---------------------------------------------------------------------------------


def is_owner(user: Viewer, petition: Petition) -> bool:
    return user.pk is not None and user.pk in (petition.submitter_id,
                                               petition.external_system_id)


def is_holder(user: Viewer, petition: Petition) -> bool:
    return petition.holder_id is not None and petition.holder_id == user.pk


def is_handler_staff(user: Viewer, petition: Petition) -> bool:
    return (isinstance(user, User) and (user.is_superuser or user.role in HANDLER_ROLES)
            and covers(user, petition))


def is_dispatcher(user: Viewer, petition: Petition) -> bool:
    return (isinstance(user, User) and (user.is_superuser or user.role in DISPATCHER_ROLES)
            and covers(user, petition))


def is_resolver(user: Viewer, petition: Petition) -> bool:
    """Who resolved the current round: they may not verify it."""
    return petition.resolved_by_id is not None and petition.resolved_by_id == user.pk


def can_handle(user: Viewer, petition: Petition) -> bool:
    return is_holder(user, petition) or is_handler_staff(user, petition)


def has_own_rater(petition: Petition) -> bool:
    """Someone rates the result online: the submitting resident, or the external system."""
    return petition.submitter_id is not None or petition.external_system_id is not None


def may_record_callback(user: Viewer, petition: Petition, now: datetime) -> bool:
    """A staff callback (回访) records the rating of someone who does not rate online: handler
    staff in scope other than the resolver (as for verification), and for a petition with its
    own rater only once that rater's window has passed unused."""
    return (is_handler_staff(user, petition) and not is_resolver(user, petition)
            and (not has_own_rater(petition) or rating_window_passed(petition, now)))


# --- the actions: a role and the move the transition table allows -------------------------------


def may_move(petition: Petition, target: str) -> bool:
    """The transition table lets the petition move from its state to `target`."""
    return target in PETITION_TRANSITIONS.get(petition.state, frozenset())


def awaits_placement(petition: Petition) -> bool:
    """In 待分派: accepted, and nobody holds it (placing it is not a move of its state)."""
    return petition.state == State.SUBMITTED and petition.holder_id is None


def may_accept(user: Viewer, petition: Petition) -> bool:
    """签收 (petitions/acceptance.py): the holder, once per hand-over, while it is open."""
    return (is_holder(user, petition) and petition.state in OPEN_STATES
            and petition.accepted_at is None)


def may_check_in(user: Viewer, petition: Petition) -> bool:
    return is_holder(user, petition) and may_move(petition, State.ON_SITE)


def may_cohandle(user: Viewer, petition: Petition) -> bool:
    """协办: the holder or handler staff hand a part of an open petition to a body; they stay
    responsible for it (petitions/cohandling.py)."""
    return can_handle(user, petition) and petition.state in OPEN_STATES


def may_add_note(user: Viewer, petition: Petition) -> bool:
    return can_handle(user, petition) and petition.state not in FINISHED_STATES


def may_resolve(user: Viewer, petition: Petition) -> bool:
    return can_handle(user, petition) and may_move(petition, State.RESOLVED)


def may_verify(user: Viewer, petition: Petition) -> bool:
    return (is_handler_staff(user, petition) and may_move(petition, State.VERIFIED)
            and not is_resolver(user, petition))


def may_return(user: Viewer, petition: Petition) -> bool:
    return is_holder(user, petition) and may_move(petition, State.RETURNED)


def may_escalate(user: Viewer, petition: Petition) -> bool:
    """Escalation moves the tier, not the state: an open petition below the street."""
    return can_handle(user, petition) and petition.is_open and petition.tier in NEXT_TIER


def may_dispatch(user: Viewer, petition: Petition) -> bool:
    return (is_dispatcher(user, petition) and may_move(petition, State.DISPATCHED)
            and petition.state not in REDISPATCHED_ELSEWHERE)


def may_reroute(user: Viewer, petition: Petition) -> bool:
    """A returned petition goes out again to a new place or holder (petition_reroute)."""
    return is_dispatcher(user, petition) and petition.state == State.RETURNED


def may_refer(user: Viewer, petition: Petition) -> bool:
    return is_handler_staff(user, petition) and may_move(petition, State.REFERRED)


def may_reject(user: Viewer, petition: Petition) -> bool:
    return is_dispatcher(user, petition) and may_move(petition, State.REJECTED)


def may_close(user: Viewer, petition: Petition, now: datetime) -> bool:
    """Rated, or verified and its rating window passed unused; a referred petition closes with
    its deliberation topic, not by hand."""
    return (is_handler_staff(user, petition) and may_move(petition, State.CLOSED)
            and petition.state != State.REFERRED
            and (petition.state != State.VERIFIED or rating_window_passed(petition, now)))


def may_place(user: Viewer, petition: Petition) -> bool:
    return is_dispatcher(user, petition) and awaits_placement(petition)


def may_callback(user: Viewer, petition: Petition, now: datetime) -> bool:
    """The callback records a rating: the move a verified petition makes when rated."""
    return may_move(petition, State.RATED) and may_record_callback(user, petition, now)


def staff_actions(user: Viewer, petition: Petition, now: datetime) -> dict[str, bool]:
    """Which action forms the staff page shows, by action."""
    return {
        "accept": may_accept(user, petition),
        "check_in": may_check_in(user, petition),
        "note": may_add_note(user, petition),
        "resolve": may_resolve(user, petition),
        "verify": may_verify(user, petition),
        "return": may_return(user, petition),
        "escalate": may_escalate(user, petition),
        "dispatch": may_dispatch(user, petition),
        "reroute": may_reroute(user, petition),
        "refer": may_refer(user, petition),
        "reject": may_reject(user, petition),
        "close": may_close(user, petition, now),
        "place": may_place(user, petition),
        "callback": may_callback(user, petition, now),
    }


# --- 申诉剔除: leaving a petition out of the assessment (petitions/assessment.py) ---------------


def may_request_exclusion(user: Viewer, petition: Petition) -> bool:
    """Any staff whose scope covers the petition asks; a refused (不予受理) or merged (已合并)
    one counts nowhere already, so there is nothing to leave out."""
    return covers(user, petition) and petition.state not in (State.REJECTED, State.MERGED)


def may_decide_exclusion(user: Viewer, petition: Petition, requested_by_id: int | None) -> bool:
    """A street admin (or superuser) covering the petition, and never the one who asked: the
    second person of the two-person rule."""
    return (isinstance(user, User) and (user.is_superuser or user.role == Role.STREET_ADMIN)
            and covers(user, petition) and user.pk != requested_by_id)


def covers_petition_q(user: Viewer, relation: str) -> Q:
    """covers_q over a related petition (`relation` = the foreign key's name)."""
    prefix = visibility_prefix(user) if is_staff(user) else None
    if prefix is None:
        return Q(pk__in=[])
    if prefix == EVERYTHING:
        return Q()
    return (Q(**{f"{relation}__area_path__startswith": prefix})
            | Q(**{f"{relation}__origin_path__startswith": prefix}))


# --- 未诉先办: suggestions raised where petitions recur (petitions/recurrence.py) ---------------


def covers_area(user: Viewer, area_path: str) -> bool:
    """Staff whose scope holds the area (a building's micro-grid)."""
    prefix = visibility_prefix(user) if is_staff(user) else None
    return prefix is not None and area_path.startswith(prefix)


def may_decide_recurrence(user: Viewer, area_path: str) -> bool:
    """Community staff and street admins (or a superuser) covering the building: those who run
    the compound's deliberation and its needs list."""
    return (isinstance(user, User) and (user.is_superuser or user.role in DISPATCHER_ROLES)
            and covers_area(user, area_path))


def recurrence_q(user: Viewer) -> Q:
    """may_decide_recurrence as a condition on RecurrenceSuggestion rows."""
    if not (isinstance(user, User) and (user.is_superuser or user.role in DISPATCHER_ROLES)):
        return Q(pk__in=[])
    prefix = visibility_prefix(user)
    if prefix is None:
        return Q(pk__in=[])
    if prefix == EVERYTHING:
        return Q()
    return Q(area_path__startswith=prefix)


def may_rate(user: Viewer, petition: Petition) -> bool:
    """The owner rates a verified petition online."""
    return is_owner(user, petition) and may_move(petition, State.RATED)


def may_ask_reopen(user: Viewer, petition: Petition) -> bool:
    """The resident's page offers the reopen right after the rating, once in a petition's life."""
    return (is_owner(user, petition) and petition.state == State.RATED
            and petition.reopened_count == 0)


# --- 延期: the holder asks, the level above decides (petitions/extensions.py) -------------------

# Who is "the level above" a tier's holder, by the tier the petition is at: the grid's worker
# (or the community's dispatchers, or a street admin) above the micro-grid; the community's
# dispatchers or a street admin above the grid; a street admin (not the one who asked) at the
# street. Always someone whose scope covers the petition.
EXTENSION_DECIDER_ROLES: dict[str, frozenset[str]] = {
    "microgrid": frozenset({Role.GRID_WORKER, Role.COMMUNITY_STAFF, Role.STREET_ADMIN}),
    "grid": DISPATCHER_ROLES,
    "street": frozenset({Role.STREET_ADMIN}),
}


def may_request_extension(user: Viewer, petition: Petition) -> bool:
    """The holder of an open petition asks for more time on its resolution clock."""
    return is_holder(user, petition) and petition.state in OPEN_STATES


def may_decide_extension(user: Viewer, petition: Petition, tier: str,
                         requested_by_id: int | None) -> bool:
    """The level above the tier the request was made at, covering the petition, never the one
    who asked."""
    return (isinstance(user, User) and user.pk != requested_by_id and covers(user, petition)
            and (user.is_superuser or user.role in EXTENSION_DECIDER_ROLES.get(tier, ())))
