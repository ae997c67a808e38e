"""Households and residents in the admin, with Excel/CSV import and export (party members' admin,
on the same base, is governance.admin's: it names the party organisation).

Lists are narrowed to the user's scope; phone and ID number columns are masked for rows outside
the viewer's own scope area. Search by a whole phone or ID number is a reveal
(core.protected_lookups): rows in the viewer's own scope area only, audited, throttled.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib import admin, messages
from django.db.models import Count, Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin
from import_export.formats import base_formats
from import_export.forms import SelectableFieldsExportForm

from accounts.models import User
from core.admin import GenericTabularInline, MaskedContactMixin, ScopedAdminMixin, area_list_filter
from core.admin_scope import NOTHING, choice_scope_register
from core.protected_lookups import ProtectedSearchAdminMixin
from core.scope import EVERYTHING, scope_path, scope_q
from residents.filters import filter_tag
from residents.models import Household, PartyMember, Resident
from residents.resources import (
    HouseholdResource,
    ResidentResource,
    ScopedResource,
    text,
)
from residents.services import HEADER_ROWS, RowError, import_report
from territory.models import Area, Building, Unit

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


def user_choice_q(user: Any) -> Q:
    """The accounts a staff member may pick in the admin (core.admin_scope): staff posted inside
    their scope, residents living there, and resident accounts not yet linked to any household
    (so that they can be linked)."""
    prefix = scope_path(user)
    if prefix == EVERYTHING:
        return Q()
    if prefix is None:
        return NOTHING
    living_here = Resident.objects.filter(scope_q(user, Resident.SCOPE_PATH),
                                          user__isnull=False).values("user_id")
    linked = Resident.objects.filter(user__isnull=False).values("user_id")
    return (Q(scope_area__path__startswith=prefix) | Q(pk__in=living_here)
            | (Q(role=User.Role.RESIDENT) & ~Q(pk__in=linked)))


choice_scope_register(User, rule=user_choice_q)
choice_scope_register(Household, Household.SCOPE_PATH)
choice_scope_register(Resident, Resident.SCOPE_PATH)
choice_scope_register(PartyMember, f"resident__{Resident.SCOPE_PATH}")


def territory_filters(path_field: str, building_field: str) -> list[type[admin.SimpleListFilter]]:
    class BuildingListFilter(admin.SimpleListFilter):
        title = _("楼栋")
        parameter_name = "building"

        def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[Any, str]]:
            buildings = (Building.objects.filter(scope_q(request.user, "micro_grid__path"))
                         .select_related("compound")
                         .order_by("compound__name", "number_sort", "number"))
            return [(building.pk, str(building)) for building in buildings]

        def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
            value = self.value()
            if value and str(value).isdigit():
                return queryset.filter(**{building_field: int(value)})
            return queryset

    return [
        area_list_filter(kind=Area.Kind.COMMUNITY, path_field=path_field, title=_("社区"),
                         parameter="community"),
        area_list_filter(kind=Area.Kind.GRID, path_field=path_field, title=_("网格"),
                         parameter="grid"),
        BuildingListFilter,
    ]


class TagListFilter(admin.SimpleListFilter):
    title = _("标签")
    parameter_name = "tag"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[Any, Any]]:
        return list(Resident.Tag.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value in Resident.Tag.values:
            return filter_tag(queryset, "tags", value)
        return queryset


class ResidentCount(TypedDict):
    resident_count: int


class _RowsRequired:
    """An import format that refuses a file without rows, so a picture or an empty sheet gets
    the same Chinese message as an unreadable file (import-export's own is English only)."""

    def create_dataset(self, in_stream: Any, **kwargs: Any) -> Any:
        dataset = super().create_dataset(in_stream, **kwargs)  # type: ignore[misc]
        if not dataset:
            raise ValueError("no rows")
        return dataset


class XLSXImport(_RowsRequired, base_formats.XLSX):
    pass


class CSVImport(_RowsRequired, base_formats.CSV):
    pass


class ColumnNameExportForm(SelectableFieldsExportForm):
    """Each field's box is labelled by its column, the Chinese header the file carries
    (import-export's own label is the attribute title-cased in English: "Compound (小区)")."""

    def _get_field_label(self, resource: Any, field_name: str) -> str:
        field = resource.fields.get(field_name)
        if field is None:
            return super()._get_field_label(resource, field_name)
        return str(field.column_name)


@dataclass(frozen=True)
class PreviewCell:
    value: str
    is_invalid: bool


@dataclass(frozen=True)
class PreviewRow:
    line: int  # as the spreadsheet numbers it: the header is line 1
    import_type: str
    cells: list[PreviewCell]
    errors: list[RowError]


@dataclass(frozen=True)
class ImportPreview:
    """What templates/admin/import_export/import.html shows of a dry run: the rows with their
    cells and, when a row failed, its errors in the row itself."""

    rows: list[PreviewRow]
    file_errors: list[RowError]


def import_preview(result: Any, resource: ScopedResource) -> ImportPreview:
    """The failing rows when any row failed (all of them if an exception stopped a row),
    else every row as it will be written."""
    errors: dict[int, list[RowError]] = defaultdict(list)
    for error in import_report(result, resource).errors:
        errors[error.row].append(error)
    headers = result.diff_headers
    if result.has_errors():
        numbered = [(number, "error", row_errors[0].row or {})
                    for number, row_errors in result.row_errors()]
    elif result.has_validation_errors():
        numbered = [(invalid.number, "invalid", dict(zip(headers, invalid.values, strict=True)))
                    for invalid in result.invalid_rows]
    else:
        # report_skipped (import-export's default) keeps one RowResult per data row, in order.
        numbered = [(number, row.import_type, row.row_values)
                    for number, row in enumerate(result.rows, 1)]
    rows = []
    for number, import_type, values in numbered:
        line = number + HEADER_ROWS
        invalid_columns = {error.field for error in errors[line]}
        rows.append(PreviewRow(
            line=line, import_type=import_type, errors=errors[line],
            cells=[PreviewCell(text(values.get(column)), column in invalid_columns)
                   for column in headers]))
    return ImportPreview(rows=rows, file_errors=errors[0])


class ScopedImportExportAdmin(ScopedAdminMixin, MaskedContactMixin, ImportExportModelAdmin):
    """Import/export in xlsx or csv; the acting user travels to the resource (scope, masking)."""

    # import-export's BaseExportMixin says `model = None` (mypy reads its untyped source); on a
    # ModelAdmin it is always the admin's model class.
    model: type[Model]  # type: ignore[assignment]
    import_formats = [XLSXImport, CSVImport]
    export_formats = [base_formats.XLSX, base_formats.CSV]
    export_form_class = ColumnNameExportForm

    def add_data_read_fail_error_to_form(self, form: Any, e: Exception) -> None:
        form.add_error("import_file", _("无法读取该文件：请选择正确的格式（xlsx 或 csv），"
                                        "并保留表头和至少一行数据。"))

    def get_resource_kwargs(self, request: HttpRequest, *args: Any,
                            **kwargs: Any) -> dict[str, Any]:
        return {"actor": request.user}

    def get_import_data_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        # Any bad row, in the dry run or at the confirmed import, rolls the whole file back.
        # see UNTYPED_SUPER (residents.resources)
        data_kwargs: dict[str, Any] = super().get_import_data_kwargs(**kwargs)  # type: ignore[no-untyped-call]
        data_kwargs.setdefault("use_transactions", True)
        data_kwargs.setdefault("rollback_on_validation_errors", True)
        return data_kwargs

    def import_resource(self, request: HttpRequest) -> ScopedResource:
        # see UNTYPED_SUPER (residents.resources)
        resource_class: type[ScopedResource] = self.get_import_resource_classes(  # type: ignore[no-untyped-call]
            request)[0]
        return resource_class(actor=request.user)

    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        # see UNTYPED_SUPER (residents.resources)
        response: HttpResponse = super().import_action(request, **kwargs)  # type: ignore[no-untyped-call]
        context = response.context_data if isinstance(response, TemplateResponse) else None
        if context and context.get("result") is not None:
            context["import_preview"] = import_preview(context["result"],
                                                       self.import_resource(request))
        return response

    def process_result(self, result: Any, request: HttpRequest) -> HttpResponse:
        """A confirmed import that failed after all (the data changed since the dry run) was
        rolled back: say so, row by row, instead of import-export's success message."""
        if not (result.has_errors() or result.has_validation_errors()):
            # see UNTYPED_SUPER (residents.resources)
            response: HttpResponse = super().process_result(  # type: ignore[no-untyped-call]
                result, request)
            return response
        report = import_report(result, self.import_resource(request))
        messages.error(request, _("导入未完成，没有写入任何数据：") + "；".join(
            str(error) for error in report.errors[:20]))
        opts = self.model._meta
        return redirect(f"admin:{opts.app_label}_{opts.model_name}_changelist")

    def has_import_permission(self, request: HttpRequest) -> bool:
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)


class ResidentInline(GenericTabularInline[Resident, Household]):
    model = Resident
    extra = 0
    fields = ("name", "phone", "gender", "birth_year", "is_household_head")
    show_change_link = True


@admin.register(Household)
class HouseholdAdmin(ProtectedSearchAdminMixin, ScopedImportExportAdmin):
    resource_classes = [HouseholdResource]
    scope_path_fields = (Household.SCOPE_PATH,)
    ordering = ("building__compound__name", "building__number_sort", "unit__number_sort",
                "room_sort", "room")
    list_display = ("__str__", "compound", "building", "unit", "room_display", "is_occupied",
                    "resident_count")
    list_select_related = ("building__compound", "building__micro_grid",
                           "unit__building__compound")
    list_filter = (*territory_filters(Household.SCOPE_PATH, "building_id"), "is_occupied")
    search_fields = ("room", "residents__name")
    protected_search_fields = {"residents__phone": "phone"}
    protected_search_path = Household.SCOPE_PATH
    autocomplete_fields = ("building",)
    inlines = (ResidentInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Household]:
        households: QuerySet[Household] = super().get_queryset(request)
        return households.annotate(resident_count=Count("residents"))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest,
                                 **kwargs: Any) -> Any:
        if db_field.name == "unit":
            kwargs["queryset"] = (Unit.objects.select_related("building__compound")
                                  .filter(scope_q(request.user, "building__micro_grid__path"))
                                  .order_by("building__compound__name",
                                            "building__number_sort", "number_sort"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("小区"), ordering="building__compound__name")
    def compound(self, household: Household) -> str:
        return household.building.compound.name

    @admin.display(description=_("人数"), ordering="resident_count")
    def resident_count(self, household: WithAnnotations[Household, ResidentCount]) -> int:
        return household.resident_count

    @admin.display(description=_("门牌号"), ordering="room_sort")
    def room_display(self, household: Household) -> str:
        return household.room


@admin.register(Resident)
class ResidentAdmin(ProtectedSearchAdminMixin, ScopedImportExportAdmin):
    resource_classes = [ResidentResource]
    scope_path_fields = (Resident.SCOPE_PATH,)
    ordering = ("household__building_id", "household__room_sort", "name")
    list_display = ("name", "phone_display", "id_number_display", "household", "gender",
                    "birth_year", "tag_list", "is_household_head")
    list_select_related = ("household__building__compound", "household__building__micro_grid",
                           "household__unit")
    list_filter = (*territory_filters(Resident.SCOPE_PATH, "household__building_id"),
                   TagListFilter, "is_household_head")
    search_fields = ("name", "household__room")
    protected_search_fields = {"phone": "phone", "id_number": "id_number"}
    protected_search_path = Resident.SCOPE_PATH
    autocomplete_fields = ("household",)
    raw_id_fields = ("user",)

    @admin.display(description=_("标签"))
    def tag_list(self, resident: Resident) -> str:
        return "、".join(resident.tag_labels)
