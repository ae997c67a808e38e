"""The street admins' tool for the party organisation, bodies and staff posts (the territory's
is territory.admin)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from treebeard.forms import movenodeform_factory

from core.admin import GenericModelAdmin, GenericTabularInline, MaskedContactMixin, ScopedAdminMixin
from core.admin_scope import choice_scope_register
from core.protected_lookups import ProtectedSearchAdminMixin
from core.scope import path_in_scope
from governance.models import Body, BodyMember, CentralHousehold, OrgNode, StaffPost
from governance.resources import PartyMemberResource
from governance.services import central_household_neighbours_check
from residents.admin import ScopedImportExportAdmin, territory_filters
from residents.models import PartyMember, Resident
from residents.services import party_members_publicity_set
from territory.admin import KindRuleMoveNodeForm, KindRuleTreeAdmin, community_and_grid_filters

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    # django-stubs makes forms and admin classes generic in their model; Django's own are not
    # subscriptable at run time (django_stubs_ext is a development dependency only), so the
    # model is named for mypy alone.
    CentralHouseholdFormBase = forms.ModelForm[CentralHousehold]
else:
    CentralHouseholdFormBase = forms.ModelForm

# The rows of each model a staff member may pick in the admin (core.admin_scope).
ORG_NODE_PATHS = ("area__path", "compound__community__path", "building__micro_grid__path")
BODY_PATHS = ("compound__community__path", "community__path")
choice_scope_register(OrgNode, *ORG_NODE_PATHS)
choice_scope_register(CentralHousehold, "household__building__micro_grid__path")
choice_scope_register(Body, *BODY_PATHS)
choice_scope_register(BodyMember, *(f"body__{path}" for path in BODY_PATHS))
choice_scope_register(StaffPost, "area__path")


@admin.register(OrgNode)
class OrgNodeAdmin(KindRuleTreeAdmin):
    form = movenodeform_factory(OrgNode, form=KindRuleMoveNodeForm)
    list_display = ("name", "kind", "area", "compound", "building", "secretary")
    list_select_related = ("area", "compound", "building__compound", "secretary")
    list_filter = ("kind", "compound")
    search_fields = ("name",)
    autocomplete_fields = ("area", "compound", "building", "secretary")

    def has_change_permission(self, request: HttpRequest, obj: OrgNode | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        if obj is None or not allowed:
            return allowed
        return path_in_scope(request.user, obj.area.path if obj.area is not None else "")


# --- party: central households --------------------------------------------------------------


class NeighbourCount(TypedDict):
    neighbour_count: int


class MemberCount(TypedDict):
    member_count: int


class CentralHouseholdForm(CentralHouseholdFormBase):
    class Meta:
        model = CentralHousehold
        fields = ("group", "household", "neighbours")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        household = cleaned.get("household")
        neighbours = cleaned.get("neighbours")
        if neighbours is not None:
            try:
                central_household_neighbours_check(
                    household_id=household.pk if household else None,
                    neighbour_ids=[neighbour.pk for neighbour in neighbours])
            except ValidationError as error:
                self.add_error(None, error)
        return cleaned


@admin.register(CentralHousehold)
class CentralHouseholdAdmin(ScopedAdminMixin, GenericModelAdmin[CentralHousehold]):
    scope_path_fields = ("household__building__micro_grid__path",)
    ordering = ("group__path",)
    form = CentralHouseholdForm
    list_display = ("group", "household", "neighbour_count")
    list_select_related = ("group", "household__building__compound", "household__unit")
    search_fields = ("group__name", "household__room")
    autocomplete_fields = ("group", "household", "neighbours")

    def get_queryset(self, request: HttpRequest) -> QuerySet[CentralHousehold]:
        centrals: QuerySet[CentralHousehold] = super().get_queryset(request)
        return centrals.annotate(neighbour_count=Count("neighbours"))

    @admin.display(description=_("联系邻户数"), ordering="neighbour_count")
    def neighbour_count(self, central: WithAnnotations[CentralHousehold, NeighbourCount]) -> int:
        return central.neighbour_count


# --- bodies ---------------------------------------------------------------------------------


class BodyMemberInline(GenericTabularInline[BodyMember, Body]):
    model = BodyMember
    extra = 0
    autocomplete_fields = ("resident",)
    fields = ("name", "role", "resident", "note", "term_start", "term_end")


@admin.register(Body)
class BodyAdmin(ProtectedSearchAdminMixin, ScopedAdminMixin, MaskedContactMixin,
                GenericModelAdmin[Body]):
    scope_path_fields = ("compound__community__path", "community__path")
    ordering = ("kind", "name")
    phone_field = "contact_phone"
    list_display = ("name", "kind", "compound", "community", "contact_name", "phone_display",
                    "member_count")
    list_select_related = ("compound", "community")
    list_filter = ("kind", ("compound", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "contact_name")
    autocomplete_fields = ("compound", "community")
    inlines = (BodyMemberInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Body]:
        bodies: QuerySet[Body] = super().get_queryset(request)
        return bodies.annotate(member_count=Count("members"))

    def area_path_expression(self) -> Any:
        # A body tied straight to a community has no compound path: take the community's.
        return Coalesce("compound__community__path", "community__path")

    @admin.display(description=_("成员数"), ordering="member_count")
    def member_count(self, body: WithAnnotations[Body, MemberCount]) -> int:
        return body.member_count


# --- staff posts (2+7+N) --------------------------------------------------------------------


@admin.register(StaffPost)
class StaffPostAdmin(ProtectedSearchAdminMixin, ScopedAdminMixin, MaskedContactMixin,
                     GenericModelAdmin[StaffPost]):
    scope_path_fields = ("area__path",)
    ordering = ("area__path", "kind", "holder_name")
    list_display = ("holder_name", "kind", "area", "compound", "building", "phone_display",
                    "starts_on", "ends_on")
    list_select_related = ("area", "compound", "building__compound")
    list_filter = ("kind", *community_and_grid_filters("area__path"))
    search_fields = ("holder_name",)
    protected_search_fields = {"phone": "phone"}
    protected_search_path = "area__path"
    autocomplete_fields = ("area", "compound", "building")
    raw_id_fields = ("user",)
    date_hierarchy = "starts_on"


# --- party members (residents' records, in the party organisation) --------------------------


@admin.register(PartyMember)
class PartyMemberAdmin(ProtectedSearchAdminMixin, ScopedImportExportAdmin):
    resource_classes = [PartyMemberResource]
    scope_path_fields = (f"resident__{Resident.SCOPE_PATH}",)
    ordering = ("org_node__path", "resident__name")
    phone_field = "resident__phone"
    list_display = ("name", "phone_display", "kind", "category", "org_node", "is_public",
                    "public_consent_on")
    list_select_related = ("resident__household__building__compound",
                           "resident__household__building__micro_grid",
                           "resident__household__unit", "org_node")
    list_filter = ("kind", "category", "is_public", ("org_node", admin.RelatedOnlyFieldListFilter),
                   *territory_filters(f"resident__{Resident.SCOPE_PATH}",
                                      "resident__household__building_id")[:2])
    search_fields = ("resident__name",)
    protected_search_fields = {"resident__phone": "phone"}
    protected_search_path = f"resident__{Resident.SCOPE_PATH}"
    autocomplete_fields = ("resident", "org_node")
    actions = ("publish", "unpublish")

    @admin.action(description=_("亮身份：在公示栏显示所选党员"), permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[PartyMember]) -> None:
        self._publicity_set(request, queryset, is_public=True)

    @admin.action(description=_("取消亮身份：从公示栏撤下所选党员"), permissions=["change"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet[PartyMember]) -> None:
        self._publicity_set(request, queryset, is_public=False)

    def _publicity_set(self, request: HttpRequest, queryset: QuerySet[PartyMember], *,
                       is_public: bool) -> None:
        changed = party_members_publicity_set(
            member_ids=list(queryset.values_list("pk", flat=True)), is_public=is_public,
            actor=request.user)
        self.message_user(request, _("已更新 %(count)s 名党员。") % {"count": changed})
        unconsented = queryset.filter(is_public=False, public_consent_on__isnull=True).count() \
            if is_public else 0
        if unconsented:
            self.message_user(request, _(
                "%(count)s 名党员未登记本人同意日期，未亮身份：请先在其资料中填写“亮身份同意日期”。"
            ) % {"count": unconsented}, level=messages.WARNING)

    @admin.display(description=_("姓名"), ordering="resident__name")
    def name(self, member: PartyMember) -> str:
        return member.resident.name
