"""The street admins' tool for the territory tree, compounds, buildings and units, and the tree
admin that governance's party organisation uses too."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext_lazy as _
from treebeard.admin import TreeAdmin
from treebeard.forms import MoveNodeForm, movenodeform_factory

from core.admin import GenericModelAdmin, GenericTabularInline, ScopedAdminMixin, area_list_filter
from core.admin_scope import OUT_OF_SCOPE, ScopedChoicesMixin, choice_scope_register
from core.scope import path_in_scope
from territory.models import Area, Building, Compound, CompoundAlias, Unit
from territory.rules import parent_in_scope
from territory.services import tree_kind_check

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

# The rows of each model a staff member may pick in the admin (core.admin_scope).
choice_scope_register(Area, "path")
choice_scope_register(Compound, "community__path")
choice_scope_register(Building, "micro_grid__path")
choice_scope_register(Unit, "building__micro_grid__path")


# --- the trees (the territory's, and governance's party organisation) -----------------------


class KindRuleMoveNodeForm(MoveNodeForm):
    """Add/move form that checks the kind rule against the parent chosen in the form."""

    def _post_clean(self) -> None:
        reference = self.cleaned_data.get("treebeard_ref_node")
        position = self.cleaned_data.get("treebeard_position")
        if position is not None:
            manager = self._meta.model.objects
            if reference is None:
                parent = None
            elif position == "sorted-child":
                parent = reference
            else:
                parent = manager.get_parent(reference)
            self.instance.intended_parent = parent
            user = getattr(self, "scope_user", None)
            moved = {"treebeard_ref_node", "treebeard_position"} & set(self.changed_data)
            if (self.instance._state.adding or moved) and user is not None and not (
                    parent_in_scope(self._meta.model, parent, user)):
                self.add_error("treebeard_ref_node", OUT_OF_SCOPE)
        # django-stubs leaves out BaseModelForm._post_clean (private in Django, but the hook
        # that runs after clean() and before the instance is validated).
        super()._post_clean()  # type: ignore[misc]


class KindRuleTreeAdmin(ScopedChoicesMixin, TreeAdmin):
    """TreeAdmin whose drag-and-drop moves obey the kind rule and the user's scope too.

    The whole tree is listed to every staff member; what they may pick (a parent, a position,
    a related row) is narrowed to their scope.
    """

    scope_listing = False

    def children_view(self, request: HttpRequest, parent_id: str) -> HttpResponse:
        # treebeard's route takes any string; a non-numeric id must be a 404, not a 500.
        if not str(parent_id).isdigit():
            raise Http404
        return super().children_view(request, parent_id)

    def move_node(self, request: HttpRequest) -> HttpResponse:
        # Refuse first: a bad id must not tell a staff member without the permission anything
        # else (tests/core/test_access_matrix.py).
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        node_id, target_id = request.POST.get("node", ""), request.POST.get("target", "")
        if not (node_id.isdigit() and target_id.isdigit()):
            return HttpResponseBadRequest(_("节点编号无效。"))
        node = self.model.objects.filter(pk=node_id).first()
        target = self.model.objects.filter(pk=target_id).first()
        if node is not None and target is not None:
            parent = (target if request.POST.get("relation") == "child"
                      else self.model.objects.get_parent(target))
            if not parent_in_scope(self.model, parent, request.user):
                messages.error(request, OUT_OF_SCOPE)
                return HttpResponseBadRequest(OUT_OF_SCOPE)
            try:
                tree_kind_check(node_class=self.model, kind=node.kind, parent=parent)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
                return HttpResponseBadRequest(" ".join(error.messages))
        return super().move_node(request)


def community_and_grid_filters(path_field: str) -> list[type[admin.SimpleListFilter]]:
    return [
        area_list_filter(kind=Area.Kind.COMMUNITY, path_field=path_field, title=_("社区"),
                         parameter="community"),
        area_list_filter(kind=Area.Kind.GRID, path_field=path_field, title=_("网格"),
                         parameter="grid"),
    ]


@admin.register(Area)
class AreaAdmin(KindRuleTreeAdmin):
    """The whole territory tree is shown to every admin user; changes need the node in scope."""

    form = movenodeform_factory(Area, form=KindRuleMoveNodeForm)
    list_display = ("name", "kind", "code")
    list_filter = ("kind",)
    search_fields = ("name", "code")

    def has_change_permission(self, request: HttpRequest, obj: Area | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or path_in_scope(request.user, obj.path))

    def has_delete_permission(self, request: HttpRequest, obj: Area | None = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or path_in_scope(request.user, obj.path))


# --- compounds, buildings, units ------------------------------------------------------------


class BuildingCount(TypedDict):
    building_count: int


class HouseholdCount(TypedDict):
    household_count: int


class CompoundAliasInline(GenericTabularInline[CompoundAlias, Compound]):
    """Old names and door numbers an address may use (petition placement reads them)."""

    model = CompoundAlias
    extra = 1


@admin.register(Compound)
class CompoundAdmin(ScopedAdminMixin, GenericModelAdmin[Compound]):
    scope_path_fields = ("community__path",)
    ordering = ("name",)
    list_display = ("name", "community", "address", "built_year", "building_count")
    list_select_related = ("community",)
    search_fields = ("name", "address", "aliases__alias")
    autocomplete_fields = ("community",)
    inlines = (CompoundAliasInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Compound]:
        compounds: QuerySet[Compound] = super().get_queryset(request)
        return compounds.annotate(building_count=Count("buildings"))

    @admin.display(description=_("楼栋数"), ordering="building_count")
    def building_count(self, compound: WithAnnotations[Compound, BuildingCount]) -> int:
        return compound.building_count


class UnitInline(GenericTabularInline[Unit, Building]):
    model = Unit
    extra = 0


@admin.register(Building)
class BuildingAdmin(ScopedAdminMixin, GenericModelAdmin[Building]):
    scope_path_fields = ("micro_grid__path",)
    ordering = ("compound__name", "number_sort", "number")
    list_display = ("__str__", "number_display", "compound", "micro_grid", "floors",
                    "household_count")
    list_select_related = ("compound", "micro_grid")
    list_filter = (*community_and_grid_filters("micro_grid__path"),
                   area_list_filter(kind=Area.Kind.MICROGRID, path_field="micro_grid__path",
                                    title=_("微网格"), parameter="micro_grid"),
                   ("compound", admin.RelatedOnlyFieldListFilter))
    search_fields = ("number", "compound__name")
    autocomplete_fields = ("compound", "micro_grid")
    inlines = (UnitInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Building]:
        buildings: QuerySet[Building] = super().get_queryset(request)
        return buildings.annotate(household_count=Count("households"))

    @admin.display(description=_("户数"), ordering="household_count")
    def household_count(self, building: WithAnnotations[Building, HouseholdCount]) -> int:
        return building.household_count

    @admin.display(description=_("楼号"), ordering="number_sort")
    def number_display(self, building: Building) -> str:
        return building.number
