"""Schema post-processing: document the error answers every operation can give.

drf-spectacular documents only the success answer of an operation, but every endpoint can also
answer 401 (no credentials), 403 (no permission), 404 (outside the caller's scope, rule 5) and
429 (throttled), each with the one error shape of core.api.exception_handler; a read that takes
parameters, and every write, can answer 400 (bad input, or a domain rule: ApplicationError), and
a write can answer 409 (an illegal workflow transition), and one with a body 415 (unparseable).
A client (and schemathesis, tests/fuzz/) needs those answers in the schema to trust it.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django_filters.filterset import FilterSet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "description": "The API's one error shape (core.api.exception_handler).",
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        # Field errors (an object of lists) for validation; {} or a domain rule's extras otherwise.
        "errors": {},
    },
    "required": ["code", "message", "errors"],
}
ERRORS_EVERYWHERE = {
    "401": "Not signed in, or bad credentials (未登录或凭据无效).",
    "403": "Not allowed (无权进行此操作).",
    "404": "Not found, or outside your scope (不存在或不在你的范围内).",
    "429": "Too many requests (请求过于频繁).",
}
HTTP_METHODS = {"get", "put", "post", "delete", "patch"}


def _error_content() -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}}}


def _statuses(method: str, operation: dict[str, Any]) -> dict[str, Any]:
    statuses = dict(ERRORS_EVERYWHERE)
    if method != "get" or operation.get("parameters"):
        statuses["400"] = "Invalid input, or refused by a rule (输入有误)."
    if operation.get("requestBody"):
        # DRF's answer to a body it cannot parse as any of the view's parsers (e.g. a broken
        # multipart body, or text/plain).
        statuses["415"] = "Unsupported or unreadable request body (请求体格式不支持)."
    if method != "get":
        statuses["409"] = "Not allowed in the current state (当前状态下不能进行此操作)."
    return statuses


def add_error_responses(result: dict[str, Any], generator: Any, request: Any,
                        public: bool) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in _statuses(method, operation).items():
                # A view's own description of an error (extend_schema) stays; the body is ours.
                response = responses.setdefault(status, {"description": description})
                response.setdefault("content", _error_content())
    return result


def filterset_parameters(filterset_class: type[FilterSet]) -> list[OpenApiParameter]:
    """Document a FilterSet's query parameters (the selectors apply it, not a filter backend)."""
    parameters = []
    # django-filter's metaclass sets base_filters on each FilterSet class; mypy, reading the
    # untyped source, does not see it.
    base_filters = filterset_class.base_filters  # type: ignore[attr-defined]
    for name, filter_field in base_filters.items():
        choices = getattr(filter_field, "extra", {}).get("choices")
        numeric = (django_filters.NumberFilter, django_filters.ModelChoiceFilter)
        kind = OpenApiTypes.INT if isinstance(filter_field, numeric) else OpenApiTypes.STR
        parameters.append(OpenApiParameter(
            name, kind, OpenApiParameter.QUERY, required=False,
            description=str(filter_field.label or name),
            enum=[value for value, _label in choices] if choices else None))
    return parameters
