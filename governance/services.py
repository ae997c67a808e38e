"""Writes for the party organisation, its central households and the staff groups."""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from governance.models import CentralHousehold, OrgNode
from governance.resources import PartyMemberResource
from residents.models import Household
from residents.rules import Viewer
from residents.services import ImportReport, file_import
from territory.services import tree_kind_check

# --- the party organisation's tree -----------------------------------------------------------


def org_node_create(*, parent: OrgNode | None, name: str, kind: str,
                    **fields: Any) -> OrgNode:
    tree_kind_check(node_class=OrgNode, kind=kind, parent=parent)
    values = {"name": name, "kind": kind, **fields}
    with transaction.atomic():
        if parent is None:
            return OrgNode.objects.add_root(values)
        return OrgNode.objects.add_child(OrgNode.objects.get(pk=parent.pk), values)


def org_node_move(*, node: OrgNode, parent: OrgNode) -> OrgNode:
    with transaction.atomic():
        node = OrgNode.objects.select_for_update().get(pk=node.pk)
        parent = OrgNode.objects.get(pk=parent.pk)
        tree_kind_check(node_class=OrgNode, kind=node.kind, parent=parent)
        OrgNode.objects.move(node, parent, pos="sorted-child")
        return OrgNode.objects.get(pk=node.pk)


# --- central households (党员中心户带四邻) ------------------------------------------------------


def central_household_neighbours_check(*, household_id: int | None,
                                       neighbour_ids: Iterable[int]) -> None:
    """A central household looks after 1 to 9 other households (党员带四邻)."""
    neighbour_set = set(neighbour_ids)
    if household_id is not None and household_id in neighbour_set:
        raise ValidationError({"neighbours": _("中心户不能把自己列为联系的邻户。")})
    if not 1 <= len(neighbour_set) <= CentralHousehold.MAX_NEIGHBOURS:
        raise ValidationError({"neighbours": _(
            "每个党员中心户须联系 1 至 %(max)s 户邻户，现为 %(count)s 户。"
        ) % {"max": CentralHousehold.MAX_NEIGHBOURS, "count": len(neighbour_set)}})


def central_household_set(*, group: OrgNode, household: Household,
                          neighbours: Iterable[Household]) -> CentralHousehold:
    """Make `household` the central household of a building group, with its neighbours.

    1. check the group is a building group and the neighbour count (1–9, not itself);
    2. lock the group's existing central household row, if any, and update or create it;
    3. replace the neighbour set.
    """
    neighbour_ids = [neighbour.pk for neighbour in neighbours]
    if group.kind != OrgNode.Kind.BUILDING_GROUP:
        raise ValidationError({"group": _("只有楼栋党小组可以设党员中心户。")})
    central_household_neighbours_check(household_id=household.pk, neighbour_ids=neighbour_ids)
    with transaction.atomic():
        central = (CentralHousehold.objects.select_for_update().filter(group=group).first())
        if central is None:
            central = CentralHousehold.objects.create(group=group, household=household)
        elif central.household_id != household.pk:
            central.household = household
            central.save(update_fields=["household", "updated_at"])
        central.neighbours.set(neighbour_ids)
    return central


# --- party members --------------------------------------------------------------------------


def party_members_import(*, file: IO[bytes] | bytes, format: str,
                         actor: Viewer) -> ImportReport:
    """Party members by the resident's 手机号, or 姓名 + address (all or nothing, as
    residents.services.file_import)."""
    return file_import(PartyMemberResource, file=file, format=format, actor=actor)


# --- staff groups and permissions -----------------------------------------------------------

VIEW = ("view",)
EDIT = ("view", "add", "change")
ALL = ("view", "add", "change", "delete")
TERRITORY_MODELS = ("area", "compound", "building", "unit")
GOVERNANCE_MODELS = ("orgnode", "centralhousehold", "body", "bodymember", "staffpost")
RESIDENT_MODELS = ("household", "resident", "partymember")
MANAGED_APPS = ("territory", "governance", "residents")

# role -> {(app_label, model): actions}. The admin itself narrows every list to the user's scope.
STAFF_GROUP_PERMISSIONS: dict[str, dict[tuple[str, str], tuple[str, ...]]] = {
    User.Role.STREET_ADMIN: {
        **{("territory", model): ALL for model in TERRITORY_MODELS},
        **{("governance", model): ALL for model in GOVERNANCE_MODELS},
        **{("residents", model): ALL for model in RESIDENT_MODELS},
        # The holiday table (core.workdays): street admins enter each year's notice.
        ("core", "calendaryear"): ALL,
        ("core", "calendarday"): ALL,
    },
    User.Role.COMMUNITY_STAFF: {
        ("territory", "area"): VIEW,
        ("territory", "compound"): EDIT,
        ("territory", "building"): EDIT,
        ("territory", "unit"): EDIT,
        ("governance", "orgnode"): EDIT,
        ("governance", "centralhousehold"): ALL,
        ("governance", "body"): EDIT,
        ("governance", "bodymember"): ALL,
        ("governance", "staffpost"): EDIT,
        **{("residents", model): EDIT for model in RESIDENT_MODELS},
    },
    User.Role.GRID_WORKER: {
        **{("territory", model): VIEW for model in TERRITORY_MODELS},
        **{("governance", model): VIEW for model in GOVERNANCE_MODELS},
        **{("residents", model): EDIT for model in ("household", "resident")},
        ("residents", "partymember"): VIEW,
    },
    User.Role.MICROGRID_WORKER: {
        **{("territory", model): VIEW for model in TERRITORY_MODELS},
        ("residents", "household"): VIEW,
        ("residents", "resident"): ("view", "change"),
        ("residents", "partymember"): VIEW,
    },
}

# Chinese group names, one per staff role.
STAFF_GROUP_NAMES: dict[str, str] = {
    User.Role.STREET_ADMIN: "街道管理员",
    User.Role.COMMUNITY_STAFF: "社区工作人员",
    User.Role.GRID_WORKER: "专职网格员",
    User.Role.MICROGRID_WORKER: "微网格员",
}


def staff_groups_ensure() -> dict[str, Group]:
    """Create or refresh one auth Group per staff role and put staff users in theirs.

    Django's admin shows a model to a non-superuser only with a model permission, so a
    community staff member (is_staff, not superuser) needs these groups to use the admin.
    The admin still narrows every list to the user's scope (core.scope); the groups only decide
    which models and actions are offered.

    1. for each role in STAFF_GROUP_PERMISSIONS, get or create the group named in
       STAFF_GROUP_NAMES (街道管理员, 社区工作人员, 专职网格员, 微网格员);
    2. set its territory/governance/residents permissions to exactly the listed ones (others
       are kept);
    3. add every active `is_staff` user of that role to the group.

    Idempotent; the demo loader calls it after creating the demo accounts. Other apps add their
    own models' permissions to the same groups by name. Returns {role: group}.
    """
    wanted = {(app, f"{action}_{model}") for table in STAFF_GROUP_PERMISSIONS.values()
              for (app, model), actions in table.items() for action in actions}
    permissions = {
        (permission.content_type.app_label, permission.codename): permission
        for permission in Permission.objects.select_related("content_type").filter(
            content_type__app_label__in={app for app, _codename in wanted})
    }
    groups: dict[str, Group] = {}
    with transaction.atomic():
        for role, table in STAFF_GROUP_PERMISSIONS.items():
            group, _created = Group.objects.get_or_create(name=STAFF_GROUP_NAMES[role])
            kept = list(group.permissions.exclude(content_type__app_label__in=MANAGED_APPS))
            group.permissions.set(kept + [
                permissions[(app, f"{action}_{model}")]
                for (app, model), actions in table.items() for action in actions
                if (app, f"{action}_{model}") in permissions
            ])
            staff_users = User.objects.filter(role=role, is_staff=True, is_active=True)
            group.user_set.add(*staff_users)
            groups[str(role)] = group
    return groups
