"""Shared admin pieces: scope-filtered querysets, masked personal columns, area list filters."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

# Its registrations, before _operators_only below replaces them, whatever the app order.
import django_celery_beat.admin  # noqa: F401
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Count, F, Model, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import path, reverse
from django.utils.dates import WEEKDAYS
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from core.admin_scope import (
    ModelAdminMixin,
    ScopedChoicesMixin,
    choice_scope_register,
    everywhere,
)
from core.areas import area_tree
from core.audit import audit_event_record, audit_reveal
from core.masking import mask_id_number, mask_phone
from core.models import AuditEvent, CalendarDay, CalendarYear
from core.reveal_scope import reveal_visible
from core.scope import scope_q
from core.types import AnyUser

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise  # a development dependency: annotations only

_M = TypeVar("_M", bound=Model)
_P = TypeVar("_P", bound=Model)

if TYPE_CHECKING:
    GenericModelAdmin = admin.ModelAdmin
    GenericTabularInline = admin.TabularInline
else:
    # The stubs' admin classes are generic in their model; Django's are not subscriptable at
    # run time (django_stubs_ext, which would make them so, is a development dependency only).
    # Write `class FooAdmin(GenericModelAdmin[Foo])` for a typed `self.model` and `obj`.
    class GenericModelAdmin(admin.ModelAdmin, Generic[_M]):
        """admin.ModelAdmin, subscriptable with its model."""

    class GenericTabularInline(admin.TabularInline, Generic[_M, _P]):
        """admin.TabularInline, subscriptable with its model and its parent's."""


class ScopedAdminMixin(ScopedChoicesMixin):
    """Narrow every list, change page and autocomplete to the user's scope (core.scope), and
    every related-row choice of its forms (core.admin_scope).

    `scope_path_fields` name the area path(s) a row hangs from; several are OR-ed (a body
    belongs to a compound or straight to a community). Each row also gets `area_path`, which
    the masked columns use to decide whether the row lies in the viewer's scope.
    """

    scope_path_fields: tuple[str, ...] = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
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


class ReadOnlyAdminMixin(ModelAdminMixin):
    """A record only services write (a log, a decision with its audit): the admin lists and
    shows it, and never adds, changes or deletes one."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MaskedContactMixin(ModelAdminMixin):
    """Phone and ID number columns, always masked, with a 显示 (reveal) button on rows in the
    viewer's own scope area: the reveal view checks the scope again and writes an audit row.

    A ModelAdmin is shared by every request and thread, so the viewer is never stored on it:
    `get_list_display` swaps the two column names for functions bound to this request's user.
    Opening a change form that holds the whole values is a reveal too, and so is an export.
    """

    phone_field = "phone"
    id_number_field = "id_number"

    class Media:
        js = ["js/reveal.js"]

    def get_list_display(self, request: HttpRequest) -> Any:
        columns = {
            "phone_display": _masked_column(self, "phone", request.user, mask_phone, _("手机号")),
            "id_number_display": _masked_column(self, "id_number", request.user, mask_id_number,
                                                _("身份证号")),
        }
        return [columns.get(column, column) if isinstance(column, str) else column
                for column in super().get_list_display(request)]

    @admin.display(description=_("手机号"))
    def phone_display(self, obj: Model) -> str:
        return mask_phone(_lookup(obj, self.phone_field))

    @admin.display(description=_("身份证号"))
    def id_number_display(self, obj: Model) -> str:
        return mask_id_number(_lookup(obj, self.id_number_field))

    def contact_fields(self) -> dict[str, str]:
        return {"phone": self.phone_field, "id_number": self.id_number_field}

    def model_contact_fields(self) -> list[str]:
        """The contact fields this model has (a household's rows hold neither)."""
        opts = self.model._meta
        names = {field.name for field in opts.get_fields()}
        return [name for name in self.contact_fields().values() if name.split("__")[0] in names]

    def get_urls(self) -> list[Any]:
        opts = self.model._meta
        reveal = path("<path:object_id>/reveal/<str:field>/",
                      self.admin_site.admin_view(self.reveal_view),
                      name=f"{opts.app_label}_{opts.model_name}_reveal")
        return [reveal, *super().get_urls()]

    def reveal_view(self, request: HttpRequest, object_id: str, field: str) -> HttpResponse:
        """POST only: one field of one row, whole, for a viewer whose scope covers the row."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        dotted = self.contact_fields().get(field)
        obj = (self.get_queryset(request).filter(pk=object_id).first()
               if dotted and str(object_id).isdigit() else None)
        if (dotted is None or obj is None
                or not reveal_visible(request.user, getattr(obj, "area_path", None))):
            raise Http404
        audit_reveal(request=request, obj=obj, fields=[dotted])
        return JsonResponse({"value": _lookup(obj, dotted)})

    def render_change_form(self, request: HttpRequest, context: dict[str, Any], add: bool = False,
                           change: bool = False, form_url: str = "", obj: Any = None) -> Any:
        if change and obj is not None:
            forms = [context["adminform"].form] + [
                form for inline in context.get("inline_admin_formsets", [])
                for form in inline.formset.forms]
            readonly = set(self.get_readonly_fields(request, obj))
            for form in forms:  # the row itself, and each inline row (a household's residents)
                instance = getattr(form, "instance", None)
                shown = [name for name in self.contact_fields().values()
                         if (name in form.fields or (form is forms[0] and name in readonly))
                         and _lookup(instance, name)]
                if shown and instance is not None and instance.pk is not None:
                    audit_reveal(request=request, obj=instance, fields=shown)
        return super().render_change_form(
            request, context, add=add, change=change, form_url=form_url, obj=obj)

    def get_export_data(self, file_format: Any, request: HttpRequest, queryset: QuerySet[Any],
                        **kwargs: Any) -> Any:
        # import-export's ExportMixin, which the concrete admin adds, defines it; ModelAdmin not.
        data = super().get_export_data(  # type: ignore[misc]
            file_format, request, queryset, **kwargs)
        opts = self.model._meta
        audit_event_record(action=AuditEvent.Action.EXPORT, object_type=opts.label_lower,
                           object_repr=f"{queryset.count()} {opts.verbose_name_plural}",
                           fields=self.model_contact_fields(), request=request)
        return data


def _masked_column(model_admin: MaskedContactMixin, field: str, viewer: AnyUser,
                   mask: Callable[[str], str], label: StrOrPromise) -> Callable[[Model], str]:
    dotted = model_admin.contact_fields()[field]
    opts = model_admin.model._meta
    name = f"{field}_display"

    @admin.display(description=label)
    def column(obj: Model) -> str:
        masked = mask(_lookup(obj, dotted))
        if not masked or not reveal_visible(viewer, getattr(obj, "area_path", None)):
            return masked
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_reveal", args=[obj.pk, field])
        return format_html('<span class="revealable">{}</span> <button type="button" '
                           'class="reveal-button" data-reveal-url="{}">{}</button>',
                           masked, url, _("显示"))

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
            areas = area_tree().model._default_manager.filter(kind=kind).filter(
                scope_q(request.user, "path"))
            return list(areas.values_list("pk", "name"))

        def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
            value = self.value()
            if not value or not str(value).isdigit():
                return queryset
            return area_tree().within(queryset, path_field, int(value))

    AreaListFilter.title = title
    AreaListFilter.__name__ = f"{parameter.title()}ListFilter"
    return AreaListFilter


def _may_read_audit(request: HttpRequest) -> bool:
    user = request.user
    street_admin = get_user_model().Role.STREET_ADMIN
    return bool(user.is_authenticated and user.is_active and user.is_staff
                and (user.is_superuser or user.role == street_admin))


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, GenericModelAdmin[AuditEvent]):
    """Read-only, for street admins: nobody adds, edits or deletes an audit row here."""

    list_display = ("at", "actor_label", "action", "object_type", "object_id", "object_repr",
                    "field_list", "ip", "request_id")
    list_filter = ("action", "object_type", ("at", admin.DateFieldListFilter))
    search_fields = ("actor_label", "=object_id", "=request_id", "=ip")
    date_hierarchy = "at"
    list_select_related = ("actor",)
    actions = None

    @admin.display(description=_("字段"))
    def field_list(self, event: AuditEvent) -> str:
        return "、".join(event.fields)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may_read_audit(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_read_audit(request)


# --- the holiday table (core.workdays) --------------------------------------------------------

# The holiday table belongs to no area: whoever may edit it picks any year.
choice_scope_register(CalendarYear, rule=everywhere)
choice_scope_register(CalendarDay, rule=everywhere)


class CalendarDayInline(GenericTabularInline[CalendarDay, CalendarYear]):
    model = CalendarDay
    extra = 3
    fields = ("date", "kind", "name")
    ordering = ("date",)


@admin.register(CalendarYear)
class CalendarYearAdmin(ScopedChoicesMixin, GenericModelAdmin[CalendarYear]):
    """Street admins enter a year from the State Council's notice, then tick 已录入完整."""

    list_display = ("__str__", "is_complete", "holiday_count", "workday_count", "source",
                    "updated_at")
    list_filter = ("is_complete",)
    search_fields = ("=year", "source")
    inlines = (CalendarDayInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[CalendarYear]:
        queryset: QuerySet[CalendarYear] = super().get_queryset(request)
        return queryset.annotate(
            holidays=Count("days", filter=Q(days__kind=CalendarDay.Kind.HOLIDAY)),
            workdays=Count("days", filter=Q(days__kind=CalendarDay.Kind.WORKDAY)))

    @admin.display(description=_("放假天数"), ordering="holidays")
    def holiday_count(self, obj: Any) -> int:
        return int(obj.holidays)

    @admin.display(description=_("调休上班天数"), ordering="workdays")
    def workday_count(self, obj: Any) -> int:
        return int(obj.workdays)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("year",) if obj is not None else ()  # the primary key: other rows hang from it


@admin.register(CalendarDay)
class CalendarDayAdmin(ScopedChoicesMixin, GenericModelAdmin[CalendarDay]):
    list_display = ("date", "weekday", "kind", "name", "year")
    list_filter = ("year", "kind", "name")
    search_fields = ("name",)
    date_hierarchy = "date"
    ordering = ("-date",)

    @admin.display(description=_("星期"))
    def weekday(self, obj: CalendarDay) -> str:
        return str(WEEKDAYS[obj.date.weekday()])


# --- the beat schedule (django-celery-beat) -------------------------------------------------


def is_schedule_operator(user: AnyUser) -> bool:
    """The system's operators: superusers with no street-office role (a `createsuperuser`
    account). The schedule is defined in code (CELERY_BEAT_SCHEDULE, synced into these tables
    by the beat), so a clerk has nothing to do there, even one made superuser for convenience."""
    return bool(user.is_authenticated and user.is_active and user.is_superuser
                and user.role not in get_user_model().STAFF_ROLES)


class OperatorsOnlyAdminMixin(ModelAdminMixin):
    """Hides a model admin, its app and every one of its pages from all but the operators."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_schedule_operator(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_schedule_operator(request.user)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return is_schedule_operator(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_schedule_operator(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_schedule_operator(request.user)


def _operators_only(*models: type[Model]) -> None:
    """Re-register each model's own admin (registered by its app, before this one) with the
    operators-only permissions in front."""
    for model in models:
        model_admin_class = type(admin.site.get_model_admin(model))
        admin.site.unregister(model)
        admin.site.register(model, type(model_admin_class.__name__,
                                        (OperatorsOnlyAdminMixin, model_admin_class), {}))


_operators_only(PeriodicTask, CrontabSchedule, IntervalSchedule, SolarSchedule, ClockedSchedule)
