"""The street admins' tool for volunteers. Writes go through services; care files are audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.admin import (
    GenericModelAdmin,
    GenericTabularInline,
    MaskedContactMixin,
    ReadOnlyAdminMixin,
)
from core.admin_scope import ScopedChoicesMixin, choice_scope_register
from core.exceptions import ApplicationError
from core.images import ADMIN_PHOTO_OVERRIDES
from core.masking import mask_name, mask_phone
from core.protected_lookups import ProtectedSearchAdminMixin
from core.scope import scope_filter
from core.types import signed_in_user
from volunteers import selectors
from volunteers.forms import RequirementsAdminForm
from volunteers.models import (
    Activity,
    ActivitySignup,
    CareFile,
    CareFileAccessLog,
    CareVisit,
    HoursEntry,
    MicroWish,
    MicroWishEvent,
    ProxyService,
    ProxyServiceEvent,
    Qualification,
    ResponsibilityZone,
    RosterSlot,
    ServicePost,
    Shift,
    ShiftSwap,
    Team,
    TeamMembership,
    Volunteer,
)
from volunteers.services import activities, care, proxy, rosters, wishes

if TYPE_CHECKING:
    # The stubs' names for what the admin accepts as `fields` and `readonly_fields`.
    from django.contrib.admin.options import _FieldGroups
    from django.utils.datastructures import _ListOrTuple


def _run_each(modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Any],
              action: Callable[[Any], object], done: str | Promise) -> None:
    """Call a service for each selected row; report refusals in Chinese, never a 500."""
    succeeded = 0
    for row in queryset:
        try:
            action(row)
        except ApplicationError as error:
            modeladmin.message_user(request, f"{row}：{error.message}", messages.WARNING)
        else:
            succeeded += 1
    if succeeded:
        modeladmin.message_user(request, f"{done}：{succeeded}", messages.SUCCESS)


def _user(request: HttpRequest) -> User:
    """The admin's user: the admin site lets only signed-in staff in."""
    return signed_in_user(request.user)


def _visible_care_files(user: User | AnonymousUser) -> Q:
    return Q(pk__in=selectors.care_file_list(user=user).values("pk"))


def _of_visible_care_file(user: User | AnonymousUser) -> Q:
    return Q(care_file__in=selectors.care_file_list(user=user).values("pk"))


# The rows of each model a staff member may pick in the admin (core.admin_scope).
COMMUNITY_PATH = "compound__community__path"
choice_scope_register(Team, COMMUNITY_PATH)
choice_scope_register(Volunteer, COMMUNITY_PATH)
choice_scope_register(ResponsibilityZone, COMMUNITY_PATH)
choice_scope_register(ServicePost, COMMUNITY_PATH)
choice_scope_register(Activity, COMMUNITY_PATH)
choice_scope_register(MicroWish, COMMUNITY_PATH)
choice_scope_register(ProxyService, COMMUNITY_PATH)
choice_scope_register(Shift, f"post__{COMMUNITY_PATH}")
choice_scope_register(RosterSlot, f"post__{COMMUNITY_PATH}")
choice_scope_register(ShiftSwap, f"shift__post__{COMMUNITY_PATH}")
choice_scope_register(ActivitySignup, f"activity__{COMMUNITY_PATH}")
choice_scope_register(TeamMembership, f"team__{COMMUNITY_PATH}")
choice_scope_register(HoursEntry, f"volunteer__{COMMUNITY_PATH}")
choice_scope_register(MicroWishEvent, f"wish__{COMMUNITY_PATH}")
choice_scope_register(ProxyServiceEvent, f"service__{COMMUNITY_PATH}")
# Care files follow their own reading rule (selectors.care_file_list), not the area alone.
choice_scope_register(CareFile, rule=_visible_care_files)
choice_scope_register(CareVisit, rule=_of_visible_care_file)
choice_scope_register(CareFileAccessLog, rule=_of_visible_care_file)


class ScopedAdmin(ScopedChoicesMixin, GenericModelAdmin[Any]):
    scope_path = COMMUNITY_PATH

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return scope_filter(super().get_queryset(request), request.user, self.scope_path)


class MembershipInline(GenericTabularInline[TeamMembership, Team]):
    model = TeamMembership
    extra = 0
    autocomplete_fields = ["volunteer"]


@admin.register(Team)
class TeamAdmin(ScopedAdmin):
    list_display = ["name", "kind", "compound", "is_active"]
    list_filter = ["kind", "is_active", "compound"]
    search_fields = ["name"]
    inlines = [MembershipInline]


class QualificationInline(GenericTabularInline[Qualification, Volunteer]):
    """Certificates and checks with their expiry; the staff page records them too."""

    model = Qualification
    extra = 0
    fields = ["kind", "obtained_on", "expires_on", "reference"]


@admin.register(Volunteer)
class VolunteerAdmin(ProtectedSearchAdminMixin, MaskedContactMixin, ScopedAdmin):
    list_display = ["name", "identity", "party_marker", "masked_phone", "compound", "is_active"]
    list_filter = ["identity", "is_active", "compound",
                   ("party_member", admin.EmptyFieldListFilter)]
    search_fields = ["name"]
    protected_search_fields = {"phone": "phone"}
    protected_search_path = ScopedAdmin.scope_path
    raw_id_fields = ["user", "resident", "party_member"]
    list_select_related = ["compound", "party_member"]
    inlines = [QualificationInline]

    @admin.display(description=_("党员"), boolean=True)
    def party_marker(self, volunteer: Volunteer) -> bool:
        return volunteer.is_party_member

    @admin.display(description=_("手机号"))
    def masked_phone(self, volunteer: Volunteer) -> str:
        return mask_phone(volunteer.phone)


@admin.register(ResponsibilityZone)
class ResponsibilityZoneAdmin(ScopedAdmin):
    list_display = ["number", "name", "party_member", "compound"]
    list_filter = ["compound"]
    search_fields = ["name", "party_member__resident__name"]
    filter_horizontal = ["buildings"]
    raw_id_fields = ["party_member", "households"]
    list_select_related = ["party_member__resident", "compound"]


class RosterSlotInline(GenericTabularInline[RosterSlot, ServicePost]):
    model = RosterSlot
    extra = 0
    autocomplete_fields = ["volunteer"]


@admin.register(ServicePost)
class ServicePostAdmin(ScopedAdmin):
    form = RequirementsAdminForm
    list_display = ["name", "kind", "location", "compound"]
    list_filter = ["kind", "compound"]
    search_fields = ["name"]
    inlines = [RosterSlotInline]
    actions = ["generate_four_weeks"]

    @admin.action(description=_("生成未来四周值班表"))
    def generate_four_weeks(self, request: HttpRequest, queryset: QuerySet[ServicePost]) -> None:
        today = timezone.localdate()
        _run_each(self, request, queryset, lambda post: rosters.roster_generate(
            post=post, start=today, end=today + timedelta(days=27)), _("已生成"))


@admin.register(Shift)
class ShiftAdmin(ScopedAdmin):
    scope_path = "post__compound__community__path"
    list_display = ["post", "volunteer", "starts_at", "ends_at", "status", "reminded_at"]
    list_filter = ["status", "post"]
    search_fields = ["volunteer__name", "post__name"]
    date_hierarchy = "starts_at"
    raw_id_fields = ["volunteer", "slot"]
    list_select_related = ["post", "volunteer"]


@admin.register(ShiftSwap)
class ShiftSwapAdmin(ScopedAdmin):
    scope_path = "shift__post__compound__community__path"
    list_display = ["shift", "from_volunteer", "to_volunteer", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["from_volunteer__name", "to_volunteer__name"]
    raw_id_fields = ["shift", "from_volunteer", "to_volunteer"]


class SignupInline(GenericTabularInline[ActivitySignup, Activity]):
    model = ActivitySignup
    extra = 0
    raw_id_fields = ["volunteer"]
    readonly_fields = ["signed_up_at", "checked_in_at", "checked_out_at"]


@admin.register(Activity)
class ActivityAdmin(ScopedAdmin):
    form = RequirementsAdminForm
    list_display = ["title", "kind", "starts_at", "capacity", "status", "team", "compound"]
    list_filter = ["kind", "status", "team", "compound"]
    search_fields = ["title", "location"]
    date_hierarchy = "starts_at"
    readonly_fields = ["checkin_code"]
    inlines = [SignupInline]
    actions = ["cancel_activities"]

    @admin.action(description=_("取消所选活动并通知报名者"))
    def cancel_activities(self, request: HttpRequest, queryset: QuerySet[Activity]) -> None:
        _run_each(self, request, queryset, lambda activity: activities.activity_cancel(
            activity=activity, actor=_user(request)), _("已取消"))


@admin.register(ActivitySignup)
class ActivitySignupAdmin(ScopedAdmin):
    scope_path = "activity__compound__community__path"
    list_display = ["activity", "volunteer", "status", "signed_up_at", "checked_in_at",
                    "checked_out_at"]
    list_filter = ["status", "activity__kind"]
    search_fields = ["volunteer__name", "activity__title"]
    raw_id_fields = ["activity", "volunteer"]
    readonly_fields = ["status", "signed_up_at", "checked_in_at", "checked_out_at"]
    list_select_related = ["activity", "volunteer"]
    actions = ["cancel_signups"]

    @admin.action(description=_("取消所选报名（候补自动递补）"))
    def cancel_signups(self, request: HttpRequest, queryset: QuerySet[ActivitySignup]) -> None:
        _run_each(self, request, queryset, lambda signup: activities.activity_signup_cancel(
            signup=signup, user=_user(request)), _("已取消"))


@admin.register(RosterSlot)
class RosterSlotAdmin(ScopedAdmin):
    scope_path = "post__compound__community__path"
    list_display = ["post", "volunteer", "weekday", "start_time", "end_time", "is_active"]
    list_filter = ["post", "weekday", "is_active"]
    search_fields = ["volunteer__name", "post__name"]
    autocomplete_fields = ["volunteer"]
    list_select_related = ["post", "volunteer"]


@admin.register(TeamMembership)
class TeamMembershipAdmin(ScopedAdmin):
    scope_path = "team__compound__community__path"
    list_display = ["team", "volunteer", "role", "joined_on"]
    list_filter = ["team", "role"]
    search_fields = ["volunteer__name", "team__name"]
    autocomplete_fields = ["volunteer"]
    list_select_related = ["team", "volunteer"]


HOURS_ENTRY_FIELDS = ("volunteer", "activity", "signup", "shift", "care_visit", "source", "status",
                      "hours", "served_on", "note", "created_by", "decided_by", "decided_at")


@admin.register(HoursEntry)
class HoursEntryAdmin(ScopedAdmin):
    """The ledger changes through services only (the actions here, the staff pages, the API),
    which check scope and refuse anyone's own hours: an edit here changes the note alone."""

    scope_path = "volunteer__compound__community__path"
    list_display = ["volunteer", "served_on", "hours", "source", "status", "activity"]
    list_filter = ["status", "source", "served_on"]
    search_fields = ["volunteer__name", "note", "activity__title"]
    fields = HOURS_ENTRY_FIELDS
    readonly_fields = [field for field in HOURS_ENTRY_FIELDS if field != "note"]
    list_select_related = ["volunteer", "activity"]
    actions = ["approve", "reject"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("认定所选时长"))
    def approve(self, request: HttpRequest, queryset: QuerySet[HoursEntry]) -> None:
        _run_each(self, request, queryset, lambda entry: activities.hours_entry_decide(
            entry=entry, actor=_user(request), approve=True), _("已认定"))

    @admin.action(description=_("不予认定"))
    def reject(self, request: HttpRequest, queryset: QuerySet[HoursEntry]) -> None:
        _run_each(self, request, queryset, lambda entry: activities.hours_entry_decide(
            entry=entry, actor=_user(request), approve=False), _("已退回"))


class WishEventInline(GenericTabularInline[MicroWishEvent, MicroWish]):
    model = MicroWishEvent
    extra = 0
    can_delete = False
    readonly_fields = ["old_status", "new_status", "actor", "note", "at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MicroWish)
class MicroWishAdmin(ScopedAdmin):
    """Review, no add. A wish is the resident's own, in their words, shown to the compound's
    party members; it starts with the resident (the wish page or the app: micro_wish_submit),
    who may withdraw it and confirms it. Claiming and fulfilling are the members' (services)."""

    change_list_template = "admin/volunteers/microwish/change_list.html"
    list_display = ["title", "status", "masked_resident", "claimed_by", "claim_expires_at",
                    "created_at"]
    list_filter = ["status", "compound"]
    search_fields = ["title", "description"]
    raw_id_fields = ["resident", "claimed_by"]
    # Who holds the wish moves through the services (their events and notifications); the
    # words and the fulfilment photo may still be corrected here.
    readonly_fields = ["compound", "resident", "status", "claimed_by", "claimed_at",
                       "claim_expires_at", "fulfilled_at", "confirmed_at"]
    inlines = [WishEventInline]
    list_select_related = ["resident", "claimed_by__resident"]
    formfield_overrides = ADMIN_PHOTO_OVERRIDES
    actions = ["publish", "expire_claims"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("许愿居民"))
    def masked_resident(self, wish: MicroWish) -> str:
        return mask_name(wish.resident.name)

    @admin.action(description=_("审核通过并发布给党员"))
    def publish(self, request: HttpRequest, queryset: QuerySet[MicroWish]) -> None:
        _run_each(self, request, queryset, lambda wish: wishes.micro_wish_publish(
            wish=wish, actor=_user(request)), _("已发布"))

    @admin.action(description=_("立即回收超时认领"))
    def expire_claims(self, request: HttpRequest, queryset: QuerySet[MicroWish]) -> None:
        count = wishes.micro_wishes_expire_claims(now=timezone.now())
        self.message_user(request, _("已回收 %(count)s 个超时认领。") % {"count": count})


class ServiceEventInline(GenericTabularInline[ProxyServiceEvent, ProxyService]):
    model = ProxyServiceEvent
    extra = 0
    can_delete = False
    readonly_fields = ["old_status", "new_status", "actor", "note", "at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ProxyService)
class ProxyServiceAdmin(ScopedAdmin):
    """An errand an elder asks for by phone or at the counter is recorded here through
    proxy_service_request (the resident's compound, the first status, its event); assigning,
    completing and confirming stay with the services (the service page, the API)."""

    list_display = ["title", "kind", "status", "masked_resident", "assignee", "created_at"]
    list_filter = ["status", "kind", "compound"]
    search_fields = ["title", "description"]
    raw_id_fields = ["resident"]
    add_fields: _FieldGroups = ["resident", "kind", "title", "description"]
    readonly_fields = ["compound", "resident", "status", "assignee", "assigned_at", "done_at",
                       "confirmed_at"]
    inlines = [ServiceEventInline]
    list_select_related = ["resident", "assignee"]
    actions = ["cancel"]

    def get_fields(self, request: HttpRequest, obj: ProxyService | None = None) -> _FieldGroups:
        return self.add_fields if obj is None else super().get_fields(request, obj)

    def get_readonly_fields(self, request: HttpRequest,
                            obj: ProxyService | None = None) -> _ListOrTuple[str]:
        return () if obj is None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: ProxyService, form: Any,
                   change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        created = proxy.proxy_service_request(
            resident=data["resident"], kind=data["kind"], title=data["title"],
            description=data["description"])
        # The admin logs and redirects to `obj`: make it the row the service created.
        vars(obj).update(vars(created))

    @admin.display(description=_("委托居民"))
    def masked_resident(self, service: ProxyService) -> str:
        return mask_name(service.resident.name)

    @admin.action(description=_("取消所选事项"))
    def cancel(self, request: HttpRequest, queryset: QuerySet[ProxyService]) -> None:
        _run_each(self, request, queryset, lambda service: proxy.proxy_service_cancel(
            service=service, user=_user(request), reason=str(_("后台取消"))), _("已取消"))


class CareVisitInline(GenericTabularInline[CareVisit, CareFile]):
    model = CareVisit
    extra = 0
    raw_id_fields = ["visitor", "recorded_by"]


@admin.register(CareFile)
class CareFileAdmin(ProtectedSearchAdminMixin, ScopedChoicesMixin, GenericModelAdmin[CareFile]):
    """Sensitive: only files the admin may see, masked in the list, every change view logged."""

    form = RequirementsAdminForm

    list_display = ["__str__", "masked_elder", "category", "risk", "frequency", "caretaker",
                    "next_visit_due", "missed_count"]
    list_filter = ["category", "risk", "frequency", "missed_count", "is_active"]
    raw_id_fields = ["resident", "caretaker"]
    readonly_fields = ["missed_count", "flagged_at", "alerted_at"]
    inlines = [CareVisitInline]
    list_select_related = ["resident", "caretaker"]
    actions = ["flag_overdue"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CareFile]:
        visible = selectors.care_file_list(user=request.user).values("pk")
        return super().get_queryset(request).filter(pk__in=visible)

    @admin.display(description=_("老人"))
    def masked_elder(self, care_file: CareFile) -> str:
        return mask_name(care_file.resident.name)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        care_file = (self.get_queryset(request).filter(pk=object_id).first()
                     if str(object_id).isdigit() else None)
        if care_file is not None:
            care.care_file_log_access(care_file=care_file, user=_user(request),
                                      channel=CareFileAccessLog.Channel.ADMIN)
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("立即检查逾期走访"))
    def flag_overdue(self, request: HttpRequest, queryset: QuerySet[CareFile]) -> None:
        result = care.care_visits_flag_overdue(now=timezone.now())
        self.message_user(request, _("新标记逾期 %(flagged)s 份，上报社区 %(alerted)s 份。")
                          % result)


@admin.register(CareFileAccessLog)
class CareFileAccessLogAdmin(ReadOnlyAdminMixin, ScopedChoicesMixin,
                             GenericModelAdmin[CareFileAccessLog]):
    list_display = ["at", "user", "care_file", "channel"]
    list_filter = ["channel", "at"]
    search_fields = ["user__username", "user__display_name"]
    list_select_related = ["user", "care_file"]
