"""Shared admin pieces: scope-filtered querysets, masked personal columns, area list filters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db.models import F, Model, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.masking import mask_id_number, mask_phone
from core.scope import scope_q


class ScopedAdminMixin:
    """Narrow every list, change page and autocomplete to the user's scope (core.scope).

    `scope_path_fields` name the area path(s) a row hangs from; several are OR-ed (a body
    belongs to a compound or straight to a community). Each row also gets `area_path`, which
    the masked columns use to decide whether the row lies in the viewer's scope.
    """

    scope_path_fields: tuple[str, ...] = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        conditions = [scope_q(request.user, path_field) for path_field in self.scope_path_fields]
        # An empty Q means "everything" (street scope); OR-ing it would drop it, so test first.
        if conditions and all(conditions):
            combined = Q(pk__in=[])
            for condition in conditions:
                combined |= condition
            queryset = queryset.filter(combined)
        if self.scope_path_fields:
            queryset = queryset.annotate(area_path=self.area_path_expression())
        return queryset

    def area_path_expression(self) -> Any:
        return F(self.scope_path_fields[0])


class MaskedContactMixin:
    """Phone and ID number columns, masked for rows outside the viewer's own scope area.

    A ModelAdmin is shared by every request and thread, so the viewer is never stored on it:
    `get_list_display` swaps the two column names for functions bound to this request's user.
    The methods below, used only without a request, mask every row.
    """

    phone_field = "phone"
    id_number_field = "id_number"

    def get_list_display(self, request: HttpRequest) -> Any:
        columns = {
            "phone_display": _masked_column("phone_display", request.user, self.phone_field,
                                            mask_phone, _("手机号")),
            "id_number_display": _masked_column("id_number_display", request.user,
                                                self.id_number_field, mask_id_number,
                                                _("身份证号")),
        }
        return [columns.get(column, column) if isinstance(column, str) else column
                for column in super().get_list_display(request)]  # type: ignore[misc]

    @admin.display(description=_("手机号"))
    def phone_display(self, obj: Model) -> str:
        return mask_phone(_lookup(obj, self.phone_field))

    @admin.display(description=_("身份证号"))
    def id_number_display(self, obj: Model) -> str:
        return mask_id_number(_lookup(obj, self.id_number_field))


def _masked_column(name: str, viewer: Any, field: str, mask: Callable[[str], str],
                   label: Any) -> Callable[[Model], str]:
    from residents.selectors import personal_data_visible

    def column(obj: Model) -> str:
        value = _lookup(obj, field)
        if personal_data_visible(viewer, getattr(obj, "area_path", None)):
            return value
        return mask(value)

    column.short_description = label  # type: ignore[attr-defined]
    column.__name__ = name  # the changelist's CSS class stays field-<name>
    return column


def _lookup(obj: Any, dotted: str) -> str:
    for part in dotted.split("__"):
        obj = getattr(obj, part, "")
    return str(obj or "")


def area_list_filter(*, kind: str, path_field: str, title: Any,
                     parameter: str) -> type[admin.SimpleListFilter]:
    """A list filter offering the areas of one kind in the viewer's scope (with subtree match)."""

    class AreaListFilter(admin.SimpleListFilter):
        parameter_name = parameter

        def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[Any, str]]:
            from governance.models import Area

            areas = Area.objects.filter(kind=kind).filter(scope_q(request.user, "path"))
            return [(area.pk, area.name) for area in areas]

        def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
            from governance.filters import filter_within

            value = self.value()
            if not value or not str(value).isdigit():
                return queryset
            return filter_within(queryset, path_field, int(value))

    AreaListFilter.title = title
    AreaListFilter.__name__ = f"{parameter.title()}ListFilter"
    return AreaListFilter
