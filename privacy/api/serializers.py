from __future__ import annotations

from typing import Any

from rest_framework import serializers

from privacy.models import DeletionRequest


class DeletionRequestInputSerializer(serializers.Serializer[Any]):  # input only: no instance
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class DeletionRequestOutputSerializer(serializers.ModelSerializer[DeletionRequest]):
    class Meta:
        model = DeletionRequest
        fields = ("id", "status", "reason", "created_at")
