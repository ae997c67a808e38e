"""The reveal API's shapes: one whole value of one field of one object, audited (core.audit)."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from core.audit import audit_reveal


# For the schema only: reveal_response writes the body itself. (A comment, not a docstring:
# drf-spectacular would print a docstring into the schema.)
class RevealOutputSerializer(serializers.Serializer[dict[str, str]]):

    field = serializers.CharField(help_text="字段名")
    value = serializers.CharField(help_text="完整值（本次查看已记入审计日志）")


def reveal_response(*, request: Request, obj: Model, field: str, value: Any) -> Response:
    audit_reveal(request=request._request, obj=obj, fields=[field])
    return Response({"field": field, "value": str(value or "")})
