"""Open311 GeoReport v2, mounted at /open311/v2/ (config/urls.py); the extension is the format."""

from __future__ import annotations

from django.urls import re_path

from petitions.api import open311

FMT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    re_path(rf"^discovery{FMT}", open311.discovery, name="open311-discovery"),
    re_path(rf"^services{FMT}", open311.service_list, name="open311-services"),
    re_path(
        rf"^services/(?P<code>[^/]+?){FMT}", open311.service_definition, name="open311-service"
    ),
    re_path(rf"^requests{FMT}", open311.requests_endpoint, name="open311-requests"),
    re_path(
        rf"^requests/(?P<request_id>[0-9]+){FMT}", open311.request_detail, name="open311-request"
    ),
    re_path(rf"^tokens/(?P<token>[0-9A-Za-z-]+){FMT}", open311.token_detail, name="open311-token"),
    re_path(rf"^servicerequestupdates{FMT}", open311.update_list, name="open311-updates"),
    re_path(r"^(?P<path>.*)$", open311.not_found, name="open311-not-found"),
]
