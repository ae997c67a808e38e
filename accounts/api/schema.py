"""OpenAPI descriptions of this app's authentication classes (imported in AccountsConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.api.authentication.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "外部系统：`Authorization: Api-Key <密钥>`"}


class CsrfSessionScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.api.views.CsrfAlwaysSessionAuthentication"
    name = "cookieAuthCsrf"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}
