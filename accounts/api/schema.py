"""OpenAPI descriptions of this app's authentication classes (imported in AccountsConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension

# The type: ignores below: drf-spectacular's __init_subclass__, which registers each extension
# as it is defined, has no annotations (drf_spectacular/plumbing.py), so subclassing calls an
# untyped function.


class ApiKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "accounts.api.authentication.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "外部系统：`Authorization: Api-Key <密钥>`"}


class CsrfSessionScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "accounts.api.views.CsrfAlwaysSessionAuthentication"
    name = "cookieAuthCsrf"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}
