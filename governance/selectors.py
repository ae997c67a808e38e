"""Reads of the territory tree, buildings and a compound's governance (a constant query count)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.http import Http404

from core.filters import filterset_apply
from governance.filters import AreaFilterSet, BuildingFilterSet
from governance.models import Area, Body, BodyMember, Building, Compound, OrgNode
from residents.models import PartyMember
from residents.selectors import party_member_public_list, party_member_public_name

ROLE_ORDER = Case(
    *(When(role=role, then=Value(index)) for index, role in enumerate(BodyMember.Role.values)),
    default=Value(99), output_field=IntegerField(),
)


def area_list(*, filters: dict[str, Any] | None = None) -> QuerySet[Area]:
    return filterset_apply(AreaFilterSet, filters, Area.objects.all())


def street_name() -> str:
    """The name of the street (街道) the portal serves: the first street at the top of the
    territory; "" before the territory is set up."""
    return (Area.objects.filter(kind=Area.Kind.STREET).order_by("path")
            .values_list("name", flat=True).first() or "")


def area_get(*, area_id: int) -> Area:
    area = Area.objects.filter(pk=area_id).first()
    if area is None:
        raise Http404
    return area


def area_ancestors(*, area: Area) -> list[Area]:
    """From the root down to the area's parent: one query whatever the depth."""
    return list(Area.objects.get_ancestors(area))


def building_list(*, filters: dict[str, Any] | None = None) -> QuerySet[Building]:
    queryset = Building.objects.select_related("compound", "micro_grid")
    return filterset_apply(BuildingFilterSet, filters, queryset)


def compound_list() -> QuerySet[Compound]:
    return Compound.objects.select_related("community").order_by("name")


def compound_get(*, compound_id: int) -> Compound:
    compound = compound_list().filter(pk=compound_id).first()
    if compound is None:
        raise Http404
    return compound


@dataclass
class OrgTreeNode:
    node: OrgNode
    children: list[OrgTreeNode] = field(default_factory=list)


@dataclass
class PublicMember:
    name: str
    org_node: str
    kind: str
    duties: str
    pledges: str


@dataclass
class CompoundGovernance:
    compound: Compound
    roots: list[OrgTreeNode]
    owners_committees: list[Body]
    public_members: list[PublicMember]


def compound_org_tree(*, compound: Compound) -> list[OrgTreeNode]:
    """The compound's branches with their ancestors and subtrees, as nested nodes.

    Two queries: the compound's own nodes (for their paths), then every node on the way
    to the root or below one of them, with building, secretary and central household joined.
    """
    own_paths = list(OrgNode.objects.filter(compound=compound).values_list("path", flat=True))
    if not own_paths:
        return []
    step = OrgNode.steplen
    ancestor_paths = {path[:end] for path in own_paths for end in range(step, len(path), step)}
    wanted = Q(path__in=ancestor_paths)
    for path in own_paths:
        wanted |= Q(path__startswith=path)
    nodes = list(
        OrgNode.objects.filter(wanted)
        .select_related("building", "secretary", "central_household__household__unit",
                        "central_household__household__building")
        .annotate(neighbour_count=Count("central_household__neighbours"))
        .order_by("path")
    )
    by_path: dict[str, OrgTreeNode] = {}
    roots: list[OrgTreeNode] = []
    for node in nodes:
        tree_node = OrgTreeNode(node=node)
        by_path[node.path] = tree_node
        parent = by_path.get(node.path[:-step])
        (parent.children if parent else roots).append(tree_node)
    return roots


def compound_governance(*, compound_id: int, viewer: Any) -> CompoundGovernance:
    """Everything the public governance page shows for one compound."""
    compound = compound_get(compound_id=compound_id)
    committees = list(
        Body.objects.filter(compound=compound, kind=Body.Kind.OWNERS_COMMITTEE)
        .prefetch_related(Prefetch("members", queryset=BodyMember.objects.order_by(
            ROLE_ORDER, "id")))
    )
    members: list[PartyMember] = list(
        party_member_public_list(filters={"compound": compound.pk}).order_by("org_node__path", "id")
    )
    public_members = [
        PublicMember(name=party_member_public_name(member, viewer=viewer),
                     org_node=member.org_node.name, kind=member.get_kind_display(),
                     duties=member.duties, pledges=member.pledges)
        for member in members
    ]
    return CompoundGovernance(compound=compound, roots=compound_org_tree(compound=compound),
                              owners_committees=committees, public_members=public_members)
