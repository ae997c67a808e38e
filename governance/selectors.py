"""Reads of a compound's governance: its party organisation, committees and 亮身份 board."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, IntegerField, Prefetch, Q, Value, When

from governance.models import Body, BodyMember, OrgNode
from residents.models import PartyMember
from residents.selectors import party_member_public_list, party_member_public_name
from territory.models import Compound
from territory.selectors import compound_get

ROLE_ORDER = Case(
    *(When(role=role, then=Value(index)) for index, role in enumerate(BodyMember.Role.values)),
    default=Value(99), output_field=IntegerField(),
)


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
