"""The party organisation, bodies and staff posts, on the territory (territory.models).

OrgNode is a tree (treebeard materialised paths): 社区党委 → (党总支) → 小区党支部 → 楼栋党小组.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node, MP_NodeManager, MP_NodeQuerySet

from core.models import TimeStampedModel
from territory.models import (
    Area,
    Building,
    Compound,
    KindRule,
    check_kind_rule,
    tree_parent_kind,
)


class OrgNodeQuerySet(MP_NodeQuerySet["OrgNode"]):
    def within(self, node: OrgNode) -> OrgNodeQuerySet:
        return self.filter(path__startswith=node.path)


class OrgNodeManager(MP_NodeManager["OrgNode"]):
    def get_queryset(self) -> OrgNodeQuerySet:
        return OrgNodeQuerySet(self.model, using=self._db).order_by("path")

    def within(self, node: OrgNode) -> OrgNodeQuerySet:
        return self.get_queryset().within(node)


class OrgNode(MP_Node):
    """The party organisation. The portal mirrors membership; it moves no one between branches."""

    class Kind(models.TextChoices):
        COMMUNITY_COMMITTEE = "committee", _("社区党委")
        GENERAL_BRANCH = "general_branch", _("党总支")
        COMPOUND_BRANCH = "branch", _("小区党支部")
        BUILDING_GROUP = "group", _("楼栋党小组")

    ALLOWED_PARENT: ClassVar[KindRule] = {
        Kind.COMMUNITY_COMMITTEE: None,
        Kind.GENERAL_BRANCH: Kind.COMMUNITY_COMMITTEE,
        Kind.COMPOUND_BRANCH: (Kind.COMMUNITY_COMMITTEE, Kind.GENERAL_BRANCH),
        Kind.BUILDING_GROUP: Kind.COMPOUND_BRANCH,
    }

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, db_index=True)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="org_nodes", verbose_name=_("所在社区/网格"))
    compound = models.ForeignKey(Compound, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="org_nodes", verbose_name=_("小区"))
    building = models.OneToOneField(Building, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="party_group", verbose_name=_("楼栋"))
    secretary = models.ForeignKey("residents.Resident", on_delete=models.SET_NULL, null=True,
                                  blank=True, related_name="+", verbose_name=_("书记/组长"))

    node_order_by = ["name"]
    steplen = 4
    objects: ClassVar[OrgNodeManager] = OrgNodeManager()
    # The parent a form or service is about to place the node under (territory's
    # tree_parent_kind): only declared here, set just before an add or a move.
    intended_parent: OrgNode | None

    class Meta:
        verbose_name = _("党组织")
        verbose_name_plural = _("党组织")

    def __str__(self) -> str:
        return self.name

    @classmethod
    def kind_labels(cls) -> dict[str, str | Promise]:
        return dict(cls.Kind.choices)

    def clean(self) -> None:
        check_kind_rule(self.ALLOWED_PARENT, self.kind, tree_parent_kind(self),
                        labels=self.kind_labels())


class CentralHousehold(TimeStampedModel):
    """党员中心户: one per building group, looking after 1–9 neighbour households (党员带四邻)."""

    MAX_NEIGHBOURS = 9

    group = models.OneToOneField(OrgNode, on_delete=models.CASCADE,
                                 related_name="central_household", verbose_name=_("楼栋党小组"),
                                 limit_choices_to={"kind": OrgNode.Kind.BUILDING_GROUP})
    household = models.ForeignKey("residents.Household", on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("中心户"))
    neighbours = models.ManyToManyField("residents.Household", related_name="central_households",
                                        verbose_name=_("联系的邻户"), blank=True)

    class Meta:
        verbose_name = _("党员中心户")
        verbose_name_plural = _("党员中心户")

    def __str__(self) -> str:
        return f"{self.group.name} · {self.household}"


class Body(TimeStampedModel):
    """业委会 / 物业 / 共建单位 / 职能部门: a body that takes part in compound governance; the
    property company, partner units and departments may be handed a part of a petition (协办,
    petitions/cohandling.py) at `contact_phone`."""

    class Kind(models.TextChoices):
        OWNERS_COMMITTEE = "owners_committee", _("业主委员会")
        PROPERTY_COMPANY = "property_company", _("物业公司")
        PARTNER_UNIT = "partner_unit", _("共建单位")
        SOCIAL_ORGANISATION = "social_org", _("社会组织")
        # 吹哨报到: the street's line departments (城管、市场监管…) a petition may summon.
        DEPARTMENT = "department", _("职能部门")

    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, db_index=True)
    name = models.CharField(_("名称"), max_length=100)
    compound = models.ForeignKey(Compound, on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="bodies", verbose_name=_("小区"))
    community = models.ForeignKey(Area, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="bodies", verbose_name=_("社区"))
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    offers = models.TextField(_("可提供的资源/服务"), blank=True)
    term_start = models.DateField(_("任期开始"), null=True, blank=True)
    term_end = models.DateField(_("任期结束"), null=True, blank=True)

    class Meta:
        verbose_name = _("议事主体")
        verbose_name_plural = _("议事主体（业委会/物业/共建单位）")

    def __str__(self) -> str:
        return self.name


class BodyMember(TimeStampedModel):
    class Role(models.TextChoices):
        CHAIR = "chair", _("主任")
        VICE_CHAIR = "vice_chair", _("副主任")
        MEMBER = "member", _("委员")
        MANAGER = "manager", _("负责人")
        STAFF = "staff", _("工作人员")

    body = models.ForeignKey(Body, on_delete=models.CASCADE, related_name="members",
                             verbose_name=_("主体"))
    resident = models.ForeignKey("residents.Resident", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="body_memberships",
                                 verbose_name=_("居民"))
    name = models.CharField(_("姓名"), max_length=50)
    role = models.CharField(_("职务"), max_length=12, choices=Role.choices, default=Role.MEMBER)
    note = models.CharField(_("备注"), max_length=100, blank=True)
    term_start = models.DateField(_("任期开始"), null=True, blank=True)
    term_end = models.DateField(_("任期结束"), null=True, blank=True)

    class Meta:
        verbose_name = _("主体成员")
        verbose_name_plural = _("主体成员")

    def __str__(self) -> str:
        return f"{self.body.name} · {self.name}（{self.get_role_display()}）"


class StaffPost(TimeStampedModel):
    """"2+7+N": a post held by a person for a scope of the territory tree, for a period."""

    class Kind(models.TextChoices):
        GRID_WORKER = "grid_worker", _("专职网格员")
        MICROGRID_WORKER = "microgrid_worker", _("微网格员")
        PUBLIC_WELFARE = "public_welfare", _("公益性岗位")
        BUILDING_HEAD = "building_head", _("楼栋长")
        COMMUNITY_POLICE = "community_police", _("社区民警")
        COMMUNITY_STAFF = "community_staff", _("社区工作人员")

    kind = models.CharField(_("岗位"), max_length=20, choices=Kind.choices, db_index=True)
    holder_name = models.CharField(_("姓名"), max_length=50)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="staff_posts", verbose_name=_("账户"))
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="staff_posts",
                             verbose_name=_("负责区域"))
    compound = models.ForeignKey(Compound, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="staff_posts", verbose_name=_("下沉小区"))
    building = models.ForeignKey(Building, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="staff_posts", verbose_name=_("楼栋"))
    phone = models.CharField(_("工作电话"), max_length=20, blank=True)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("工作岗位")
        verbose_name_plural = _("工作岗位（2+7+N）")
        indexes = [models.Index(fields=["area", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.holder_name}"

    def clean(self) -> None:
        if self.ends_on and self.starts_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("结束日期不能早于开始日期。")})
