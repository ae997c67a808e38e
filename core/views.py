from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View, defaults
from rest_framework.exceptions import AuthenticationFailed, NotFound
from rest_framework.request import Request
from rest_framework.settings import api_settings

from core.audit import audit_event_record, object_type_of
from core.media import media_file_response, media_grant_for
from core.models import AuditEvent
from core.types import AnyUser


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The API answers a URL that matches no route in its own JSON error shape, not in HTML."""
    if request.path.startswith("/api/"):
        body = {"code": NotFound.default_code, "message": str(NotFound.default_detail),
                "errors": {}}
        return JsonResponse(body, status=404)
    return defaults.page_not_found(request, exception)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form posted without its page's security token (CSRF_FAILURE_VIEW): the page was open
    too long, or the browser keeps no cookies. Django's own answer is an English page for
    developers; a resident or a property company's clerk on a phone gets this one, in their
    language, with the way back to the form. The API answers in its JSON error shape."""
    if request.path.startswith("/api/"):
        body = {"code": "csrf_failed", "message": _("请求缺少有效的安全标记，请刷新页面后重试。"),
                "errors": {}}
        return JsonResponse(body, status=403)
    response = render(request, "core/csrf_failure.html",
                      {"retry_url": _form_page(request)}, status=403)
    # The form's address may carry a one-time link's token (协办): no Referer leaves this page.
    response["Referrer-Policy"] = "no-referrer"
    return response


def _form_page(request: HttpRequest) -> str:
    """Where the form that failed can be opened again: the page it was posted from (the
    Referer, on this site), else the form's own address when it answers a GET, else the home
    page. A Referer of the bare origin (a 协办 link's page sends no more) names no page."""
    referer = str(request.META.get("HTTP_REFERER", ""))
    if urlsplit(referer).path not in ("", "/") and url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return referer
    try:
        view_class = getattr(resolve(request.path_info).func, "view_class", None)
    except Resolver404:
        return "/"
    if view_class is None or ("get" in view_class.http_method_names
                              and hasattr(view_class, "get")):
        return request.get_full_path()
    return "/"


class MediaView(View):
    """/media/<name>: an uploaded file, for those the owning row's rule admits (core.media).
    A view by someone the data is not about is written to the audit log, as a reveal is."""

    def get(self, request: HttpRequest, name: str) -> HttpResponseBase:
        grant = media_grant_for(user=self._viewer(request), name=name)
        if grant is None:
            raise Http404(_("照片不存在。"))
        response = media_file_response(name)
        if grant.is_audited:
            audit_event_record(action=AuditEvent.Action.MEDIA_VIEW,
                               object_type=object_type_of(grant.obj), object_id=grant.obj.pk,
                               object_repr=str(grant.obj),
                               fields=[grant.field], request=request)
        return response

    @staticmethod
    def _viewer(request: HttpRequest) -> AnyUser:
        """The session's user, else whoever the API's own authentication admits (an external
        system's `Authorization: Api-Key`: the API hands it /media/ URLs in its JSON). A wrong
        key opens nothing (404), as an anonymous visitor."""
        if request.user.is_authenticated:
            return request.user
        # The stubs type the setting as the dotted names it is written with; api_settings
        # hands back the imported classes.
        api_request = Request(request, authenticators=[
            authenticator()  # type: ignore[operator]
            for authenticator in api_settings.DEFAULT_AUTHENTICATION_CLASSES])
        try:
            return api_request.user
        except AuthenticationFailed:
            return AnonymousUser()
