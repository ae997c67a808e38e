"""Output serializers for the territory tree and buildings (read-only API)."""

from __future__ import annotations

from django.db.models import Model
from rest_framework import serializers

from territory.models import Area, Building


class AreaOutputSerializer(serializers.ModelSerializer[Area]):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Area
        fields = ("id", "name", "kind", "kind_label", "code", "depth", "path")
        read_only_fields = fields


class NamedRefSerializer(serializers.Serializer[Model]):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class BuildingOutputSerializer(serializers.ModelSerializer[Building]):
    compound = NamedRefSerializer(read_only=True)
    micro_grid = NamedRefSerializer(read_only=True)

    class Meta:
        model = Building
        fields = ("id", "number", "floors", "compound", "micro_grid")
        read_only_fields = fields
