from __future__ import annotations

from rest_framework import serializers

from privacy.models import DeletionRequest


class DeletionRequestInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class DeletionRequestOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeletionRequest
        fields = ("id", "status", "reason", "created_at")
