from __future__ import annotations

from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import View, defaults
from rest_framework.exceptions import NotFound

from core.audit import audit_event_record, object_type_of
from core.media import media_file_response, media_grant_for
from core.models import AuditEvent


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


class MediaView(View):
    """/media/<name>: an uploaded file, for those the owning row's rule admits (core.media).
    A view by someone the data is not about is written to the audit log, as a reveal is."""

    def get(self, request: HttpRequest, name: str) -> HttpResponseBase:
        grant = media_grant_for(user=request.user, name=name)
        if grant is None:
            raise Http404(_("照片不存在。"))
        response = media_file_response(name)
        if grant.is_audited:
            audit_event_record(action=AuditEvent.Action.MEDIA_VIEW,
                               object_type=object_type_of(grant.obj), object_id=grant.obj.pk,
                               object_repr=str(grant.obj),
                               fields=[grant.field], request=request)
        return response
