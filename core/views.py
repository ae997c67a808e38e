from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults
from rest_framework.exceptions import NotFound


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
