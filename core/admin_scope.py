"""The admin's related-row choices, kept inside the staff member's scope (core.scope).

A foreign-key or many-to-many field of an admin form (a select, an autocomplete, a raw-id box,
an inline's field) offers and accepts only rows in the user's scope; the raw-id popups
(a changelist) and the autocomplete view list only those rows too. Without it, a staff member
of one community could post another community's building id and create a resident there.

Each related model's rule is registered once, by the app that owns the model
(`choice_scope_register`, in its admin.py): the area path(s) a row hangs from, or a function of
the user. A model with no rule offers nothing to a scoped user: a new relation is closed until
someone decides (tests/core/test_admin_fk_scope.py lists the undecided ones).

`ScopedChoicesMixin` applies the rules to a ModelAdmin: its list, popups and autocomplete, its
form, its inlines' forms, its changelist form; and `save_model` / `save_formset` check the
changed values once more before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IS_POPUP_VAR, TO_FIELD_VAR
from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.scope import scope_q
from core.types import AnyUser

ScopeRule = Callable[[AnyUser], Q]

_RULES: dict[str, ScopeRule] = {}

NOTHING = Q(pk__in=[])
OUT_OF_SCOPE = _("所选项不存在，或不在您的管辖范围内。")
OUT_OF_SCOPE_MANY = _("所选项 %(value)s 不存在，或不在您的管辖范围内。")


def choice_scope_register(model: type[Model], *path_fields: str,
                          rule: ScopeRule | None = None) -> None:
    """Rows of `model` are in a user's scope when one of `path_fields` (an area's path) is, or
    when `rule(user)` says so. Registering twice replaces the rule."""
    if rule is None:
        if not path_fields:
            raise ValueError("choice_scope_register needs path fields or a rule")
        rule = _paths_rule(path_fields)
    _RULES[model._meta.label_lower] = rule


def everywhere(user: AnyUser) -> Q:
    """The rule of rows that belong to no area (categories, the calendar): anyone may pick."""
    return Q()


def street_only(user: AnyUser) -> Q:
    """The rule of the street's own settings (accounts, groups, keys): street admins only."""
    is_street = user.is_authenticated and user.role == "street_admin" and user.is_active
    return Q() if is_street or user.is_superuser else NOTHING


def _paths_rule(path_fields: tuple[str, ...]) -> ScopeRule:
    def rule(user: AnyUser) -> Q:
        conditions = [scope_q(user, path_field) for path_field in path_fields]
        # An empty Q means "everything"; OR-ing it away would narrow, so test it first.
        if not all(conditions):
            return Q()
        combined = NOTHING
        for condition in conditions:
            combined |= condition
        return combined

    return rule


def choice_scope_q(model: type[Model], user: AnyUser) -> Q:
    """The rows of `model` this user may pick; Q() for all of them."""
    if user.is_superuser and user.is_active:
        return Q()
    concrete = model._meta.concrete_model or model  # set on every model class Django loads
    rule = _RULES.get(concrete._meta.label_lower, _RULES.get(model._meta.label_lower))
    return NOTHING if rule is None else rule(user)


def choice_scope_is_registered(model: type[Model]) -> bool:
    return model._meta.label_lower in _RULES


# --- forms ----------------------------------------------------------------------------------


def _initial_pks(form: forms.BaseForm, name: str) -> list[Any]:
    """The related rows a bound object already has in this field: they stay choosable (the
    form shows and keeps them), even when they lie outside the viewer's scope."""
    initial = form.initial.get(name)
    if initial is None or initial == "":
        return []
    values = initial if isinstance(initial, list | tuple | QuerySet) else [initial]
    return [getattr(value, "pk", value) for value in values]


def _is_formset_key(form: forms.BaseForm, name: str) -> bool:
    # An inline row's own id: formset plumbing (the formset looks rows up among the parent's
    # own), not a choice of a related row.
    model = getattr(getattr(form, "_meta", None), "model", None)
    return model is not None and name == model._meta.pk.name


def choice_fields(form: forms.BaseForm) -> Iterator[tuple[str, Any]]:
    for name, field in form.fields.items():
        if getattr(field, "queryset", None) is not None and not _is_formset_key(form, name):
            yield name, field


def narrow_choices(form: forms.BaseForm, user: AnyUser) -> None:
    for name, field in choice_fields(form):
        condition = choice_scope_q(field.queryset.model, user)
        if not condition:  # Q(): the whole table is in scope
            continue
        kept = _initial_pks(form, name)
        field.queryset = field.queryset.filter(condition | Q(pk__in=kept) if kept else condition)
        field.error_messages["invalid_choice"] = (
            OUT_OF_SCOPE_MANY if isinstance(field, forms.ModelMultipleChoiceField)
            else OUT_OF_SCOPE)


def scoped_form_class(form_class: type[forms.BaseForm], user: AnyUser) -> type[forms.BaseForm]:
    """A subclass of `form_class` whose related-row fields offer only rows in `user`'s scope.
    The form keeps the user as `scope_user`, for checks of its own (a tree node's position)."""

    def __init__(self: forms.BaseForm, *args: Any, **kwargs: Any) -> None:
        form_class.__init__(self, *args, **kwargs)
        narrow_choices(self, user)

    return type(form_class.__name__, (form_class,),
                {"__init__": __init__, "scope_user": user, "__module__": form_class.__module__})


def scoped_formset_class(formset_class: type[Any], user: AnyUser) -> type[Any]:
    return type(formset_class.__name__, (formset_class,),
                {"form": scoped_form_class(formset_class.form, user)})


def values_out_of_scope(form: forms.BaseForm, user: AnyUser) -> list[str]:
    """The fields of a valid form whose newly chosen rows lie outside the user's scope."""
    refused = []
    for name, field in choice_fields(form):
        if name not in form.changed_data:
            continue
        model = field.queryset.model
        condition = choice_scope_q(model, user)
        if not condition:
            continue
        value = form.cleaned_data.get(name)
        chosen = value if isinstance(value, Iterable) else [value] if value else []
        added = {str(row.pk) for row in chosen} - {str(pk) for pk in _initial_pks(form, name)}
        if added and model._default_manager.filter(pk__in=added).filter(
                condition).count() != len(added):
            refused.append(name)
    return refused


def refuse_out_of_scope(form: forms.BaseForm, user: AnyUser) -> None:
    """The last check before a write: the form's querysets were narrowed, but a subclass may
    have replaced a field; a refusal here rolls the admin's transaction back."""
    refused = values_out_of_scope(form, user)
    if refused:
        raise PermissionDenied(OUT_OF_SCOPE)


# --- the admin ------------------------------------------------------------------------------


def is_choice_request(request: HttpRequest) -> bool:
    """A request that lists rows to pick from: the autocomplete view or a raw-id popup."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.url_name == "autocomplete":
        return True
    return IS_POPUP_VAR in request.GET or TO_FIELD_VAR in request.GET


# The base of a ModelAdmin mixin: a ModelAdmin to the type checker, so `super()` and
# `self.model` type-check; nothing at run time, where the mixin goes in front of a real
# ModelAdmin (`class FooAdmin(SomeMixin, GenericModelAdmin[Foo])`).
if TYPE_CHECKING:
    ModelAdminMixin = admin.ModelAdmin[Any]
else:
    ModelAdminMixin = object


class ScopedChoicesMixin(ModelAdminMixin):
    """Everything a ModelAdmin lists or offers to pick lies in the user's scope.

    `scope_listing = False` keeps the changelist whole (the territory trees are shown to every
    staff member); its popups and autocomplete answers are still narrowed.
    """

    scope_listing = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset: QuerySet[Any] = super().get_queryset(request)
        if self.scope_listing or is_choice_request(request):
            condition = choice_scope_q(queryset.model, request.user)
            if condition:
                queryset = queryset.filter(condition)
        return queryset

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False,
                 **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        return scoped_form_class(form, request.user)

    def get_formsets_with_inlines(self, request: HttpRequest, obj: Any = None) -> Iterator[Any]:
        for formset, inline in super().get_formsets_with_inlines(
                request, obj):
            yield scoped_formset_class(formset, request.user), inline

    def get_changelist_form(self, request: HttpRequest, **kwargs: Any) -> Any:
        form = super().get_changelist_form(request, **kwargs)
        return scoped_form_class(form, request.user)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        refuse_out_of_scope(form, request.user)
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        for inline_form in formset.forms:
            if inline_form.has_changed() and hasattr(inline_form, "cleaned_data"):
                refuse_out_of_scope(inline_form, request.user)
        super().save_formset(request, form, formset, change)
