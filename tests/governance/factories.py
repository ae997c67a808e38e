from __future__ import annotations

import factory

from governance.models import OrgNode
from territory.models import Area, Building, Compound, Unit


def area_root(*, name: str = "长江路街道") -> Area:
    return Area.objects.add_root({"name": name, "kind": Area.Kind.STREET})


def area_child(parent: Area, *, name: str, kind: str) -> Area:
    return Area.objects.add_child(parent, {"name": name, "kind": kind})


def org_root(*, name: str = "富春江路社区党委", area: Area | None = None) -> OrgNode:
    return OrgNode.objects.add_root(
        {"name": name, "kind": OrgNode.Kind.COMMUNITY_COMMITTEE, "area": area}
    )


class CompoundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Compound

    name = factory.Sequence(lambda n: f"小区{n}")
    community = None  # pass a community Area


class BuildingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Building

    compound = None  # pass a Compound
    micro_grid = None  # pass a micro-grid Area
    number = factory.Sequence(lambda n: str(n + 1))


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    building = None
    number = factory.Sequence(lambda n: str(n % 4 + 1))


def org_child(parent: OrgNode, *, name: str, kind: str, **fields: object) -> OrgNode:
    return OrgNode.objects.add_child(parent, {"name": name, "kind": kind, **fields})
