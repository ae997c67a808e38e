"""The pages' two shared shapes: the POST action and the staff gate.

Every feature app's pages post small actions (rate, dispatch, check in, decide) that go the same
way: load the object for the user (404 for outsiders), parse one form, call one service, show
its refusal or its success as a message, redirect back. `ActionView` is that way, once; an app
says only what differs (`load`, `form_class`, `perform`, `redirect_to`).

`StaffRequiredMixin` is the staff pages' gate: a visitor not signed in goes to the sign-in
page, anyone else `has_access` refuses gets a 404 (a staff page's existence is not told to
outsiders). By default `has_access` admits staff of an allowed role (the view's entry in its
app's permission map) and superusers; an app whose staff are not a role overrides it
(deliberation: whoever runs deliberation for at least one compound).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import redirect, resolve_url
from django.utils.translation import gettext as _
from django.views import View

from core.exceptions import ApplicationError
from core.types import signed_in_user

if TYPE_CHECKING:
    from accounts.models import User


def first_error(form: forms.Form) -> str:
    """The form's first error, after its field's label when it has one."""
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        return f"{label}：{errors[0]}" if label else str(errors[0])
    return _("输入有误，请检查后重试。")


def all_errors(form: forms.Form) -> str:
    """Every error of the form, without labels, in one line."""
    return "；".join(str(error) for field in form.errors.values() for error in field)


def error_text(error: ValidationError) -> str:
    return "；".join(str(message) for message in error.messages)


class ActionView(View):
    """POST: load → parse → one service → its refusal or success as a message → redirect."""

    form_class: type[forms.Form] | None = None
    success_message: Any = ""  # shown after `perform` unless `success_text` says otherwise

    def load(self, **kwargs: Any) -> Any:
        """The object the action is on, for this user (404 for outsiders); by default none."""
        return None

    def make_form(self, obj: Any) -> forms.Form | None:
        if self.form_class is None:
            return None
        return self.form_class(self.request.POST, self.request.FILES, **self.form_kwargs(obj))

    def form_kwargs(self, obj: Any) -> dict[str, Any]:
        return {}

    def form_error(self, form: forms.Form) -> str:
        return first_error(form)

    def perform(self, obj: Any, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def success_text(self, result: Any) -> str:
        return str(self.success_message)

    def redirect_to(self, obj: Any) -> str:
        raise NotImplementedError

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponseBase:
        obj = self.load(**kwargs)
        form = self.make_form(obj)
        if form is not None and not form.is_valid():
            messages.error(request, self.form_error(form))
            return redirect(self.redirect_to(obj))
        try:
            result = self.perform(obj, form.cleaned_data if form is not None else {})
        except ApplicationError as error:
            messages.error(request, error.message)
        except ValidationError as error:
            messages.error(request, error_text(error))
        else:
            text = self.success_text(result)
            if text:
                messages.success(request, text)
        return redirect(self.redirect_to(obj))


class StaffRequiredMixin:
    """Whom `has_access` admits only (by default staff of the allowed roles, a superuser always);
    not signed in: the sign-in page; anyone else: 404."""

    staff_roles: ClassVar[Collection[str] | None] = None  # None: every staff role
    denied_message: Any = ""

    def allowed_roles(self) -> Collection[str] | None:
        return self.staff_roles

    def has_access(self, user: User) -> bool:
        """Whether this signed-in user may see the page."""
        roles = self.allowed_roles()
        return user.is_superuser or (user.is_staff_role
                                     and (roles is None or user.role in roles))

    def handle_no_login(self, request: HttpRequest) -> HttpResponseBase:
        return redirect_to_login(request.get_full_path(), resolve_url(settings.LOGIN_URL))

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_login(request)
        if not self.has_access(signed_in_user(request.user)):
            raise Http404(str(self.denied_message))
        response: HttpResponseBase = super().dispatch(  # type: ignore[misc]
            request, *args, **kwargs)
        return response
