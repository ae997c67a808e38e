"""The production URLs plus /bench/bare/: the floor every scenario is compared with.

Only bench/load/settings.py points here; config/urls.py does not know this view.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path

from config.urls import urlpatterns as production_urlpatterns


def bare(request: HttpRequest) -> JsonResponse:
    """A JSON view that does nothing: what Django + gunicorn cost through the same middleware."""
    return JsonResponse({"status": "ok"})


urlpatterns = [path("bench/bare/", bare, name="bench-bare"), *production_urlpatterns]
