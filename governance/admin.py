"""The street admins' tool for the party organisation, bodies and staff posts (the territory's
is territory.admin)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from treebeard.forms import movenodeform_factory

from core.admin import MaskedContactMixin, ScopedAdminMixin
from core.admin_scope import choice_scope_register
from core.protected_lookups import ProtectedSearchAdminMixin
from core.scope import path_in_scope
from governance.models import Body, BodyMember, CentralHousehold, OrgNode, StaffPost
from governance.services import central_household_neighbours_check
from territory.admin import KindRuleMoveNodeForm, KindRuleTreeAdmin, community_and_grid_filters

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

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        if obj is None or not allowed:
            return allowed
        return path_in_scope(request.user, obj.area.path if obj.area_id else "")


# --- party: central households --------------------------------------------------------------


class CentralHouseholdForm(forms.ModelForm):
    class Meta:
        model = CentralHousehold
        fields = ("group", "household", "neighbours")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
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
class CentralHouseholdAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_path_fields = ("household__building__micro_grid__path",)
    ordering = ("group__path",)
    form = CentralHouseholdForm
    list_display = ("group", "household", "neighbour_count")
    list_select_related = ("group", "household__building__compound", "household__unit")
    search_fields = ("group__name", "household__room")
    autocomplete_fields = ("group", "household", "neighbours")

    def get_queryset(self, request: HttpRequest) -> QuerySet[CentralHousehold]:
        return super().get_queryset(request).annotate(neighbour_count=Count("neighbours"))

    @admin.display(description=_("联系邻户数"), ordering="neighbour_count")
    def neighbour_count(self, central: CentralHousehold) -> int:
        return central.neighbour_count  # type: ignore[attr-defined]


# --- bodies ---------------------------------------------------------------------------------


class BodyMemberInline(admin.TabularInline):
    model = BodyMember
    extra = 0
    autocomplete_fields = ("resident",)
    fields = ("name", "role", "resident", "note", "term_start", "term_end")


@admin.register(Body)
class BodyAdmin(ProtectedSearchAdminMixin, ScopedAdminMixin, MaskedContactMixin,
                admin.ModelAdmin):
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
        return super().get_queryset(request).annotate(member_count=Count("members"))

    def area_path_expression(self) -> Any:
        # A body tied straight to a community has no compound path: take the community's.
        return Coalesce("compound__community__path", "community__path")

    @admin.display(description=_("成员数"), ordering="member_count")
    def member_count(self, body: Body) -> int:
        return body.member_count  # type: ignore[attr-defined]


# --- staff posts (2+7+N) --------------------------------------------------------------------


@admin.register(StaffPost)
class StaffPostAdmin(ProtectedSearchAdminMixin, ScopedAdminMixin, MaskedContactMixin,
                     admin.ModelAdmin):
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
