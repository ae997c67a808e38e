"""The typing vocabulary for requests and users, shared by every app.

Which one to write:

- `AuthenticatedHttpRequest`: a Django view (or admin view) that only a signed-in user reaches
  (behind `login_required`, a staff-only admin, a permission mixin). `request.user` is our `User`,
  so `request.user.role` or `request.user.scope_area` type-check without a guard.
- `AuthenticatedRequest`: the same for a DRF view whose permission classes refuse anonymous
  callers (`IsAuthenticated` or stricter).
- `AnyUser`: a function that may be handed a signed-out visitor (`AnonymousUser`), such as the
  scope rules (core.scope) asked about `request.user` on a public page. Check
  `user.is_authenticated` before reading `User`-only fields: mypy narrows on it.
- Plain `HttpRequest` / `Request` where the view serves signed-out visitors too; `request.user` is
  then `AnyUser` already.
- `signed_in_user(request.user)`: the `User` behind a sign-in gate where the request itself is
  typed plainly (a mixin's method, an admin action, a DRF handler).

`AppHttpRequest` declares what our own middleware and audit log add to every request (the request
id, the leak scan's `pii_revealed` mark); `app_request` gives that view of a request.

These classes are annotations only: Django and DRF build their own request objects, and nothing
here is instantiated. accounts sits above core in the layers, so `User` is imported for type
checking only, and `AnyUser` is a string at run time: write it freely in annotations, but quote
it inside a module-level alias (`Rule = Callable[["AnyUser | None"], Q]`), where `|` would run.

A registered hook that is handed `request.user` (a scope rule, a reveal rule, a media rule)
takes `AnyUser`, not `User`, even when only staff reach it in practice: the caller's request is
a plain `HttpRequest`.

Elsewhere in core, for classes the stubs make generic but Django's run time cannot subscript
(django_stubs_ext is a development dependency only): `core.admin.GenericModelAdmin[Model]` and
`GenericTabularInline[Model, Parent]` for admins, `core.admin_scope.ModelAdminMixin` as the base
of a ModelAdmin mixin, `core.fields.GenericCharField` / `GenericTextField` for custom fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias, cast

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from rest_framework.request import Request

if TYPE_CHECKING:
    # Neither is imported at run time: accounts is a layer above, and auth's models need the
    # app registry, while this module may be imported before it is ready.
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User

AnyUser: TypeAlias = "User | AnonymousUser"


class AppHttpRequest(HttpRequest):
    """A request as our middleware leaves it."""

    # Set by core.middleware.RequestIdMiddleware on every request; echoed as X-Request-ID.
    request_id: str
    # Set by core.audit when a response may carry unmasked personal data (a reveal, an export);
    # read by the test suite's leak scan. Absent until then.
    pii_revealed: bool


class AuthenticatedHttpRequest(AppHttpRequest):
    """A Django request from a signed-in user."""

    user: User


class AuthenticatedRequest(Request):
    """A DRF request from a signed-in user."""

    user: User


def app_request(request: HttpRequest) -> AppHttpRequest:
    """The same request, typed with the attributes our middleware and audit log declare."""
    # A cast, not a conversion: Django builds WSGIRequest/ASGIRequest, never our subclass, and
    # the attributes it declares are plain instance attributes set on that object.
    return cast("AppHttpRequest", request)


def signed_in_user(user: AnyUser) -> User:
    """The user of a request behind a sign-in gate (a login mixin, DRF's IsAuthenticated, the
    staff-only admin), typed as `User`. The gate has refused the signed-out already, so this
    refusal is never reached in practice; it is a 403, as DRF's and Django's gates answer."""
    if not user.is_authenticated:
        raise PermissionDenied
    return user
