"""Territory and grid, the party organisation, bodies and staff posts.

Two trees (treebeard materialised paths, so a subtree or the ancestors are one query each):
- Area: 街道 Street → 社区 Community → 网格 Grid → 微网格 MicroGrid.
- OrgNode: 社区党委 → (党总支) → 小区党支部 → 楼栋党小组.
Beside the territory tree: Compound → Building → Unit (→ residents.Household).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node, MP_NodeManager, MP_NodeQuerySet

from core.fields import NaturalSortKeyField
from core.models import TimeStampedModel
from governance.geo import boundary_parse


class AreaQuerySet(MP_NodeQuerySet):
    def within(self, scope: Area) -> AreaQuerySet:
        """The scope and everything under it: one `path LIKE` query."""
        return self.filter(path__startswith=scope.path)


class AreaManager(MP_NodeManager):
    def get_queryset(self) -> AreaQuerySet:
        return AreaQuerySet(self.model, using=self._db).order_by("path")

    def within(self, node: Area) -> AreaQuerySet:
        return self.get_queryset().within(node)


class Area(MP_Node):
    class Kind(models.TextChoices):
        STREET = "street", _("街道")
        COMMUNITY = "community", _("社区")
        GRID = "grid", _("网格")
        MICROGRID = "microgrid", _("微网格")

    # Which kind may sit directly under which; None is the root.
    ALLOWED_PARENT = {
        Kind.STREET: None,
        Kind.COMMUNITY: Kind.STREET,
        Kind.GRID: Kind.COMMUNITY,
        Kind.MICROGRID: Kind.GRID,
    }

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices, db_index=True)
    code = models.CharField(_("编码"), max_length=32, blank=True, db_index=True)
    # A micro-grid's boundary for placing petitions that come with coordinates only.
    boundary = models.JSONField(
        _("边界（GeoJSON）"), null=True, blank=True,
        help_text=_('GeoJSON Polygon 或 MultiPolygon，坐标为 [经度, 纬度]，例如 {"type": '
                    '"Polygon", "coordinates": [[[120.18, 35.96], [120.19, 35.96], '
                    '[120.19, 35.97], [120.18, 35.96]]]}'))

    node_order_by = ["name"]
    steplen = 4
    objects = AreaManager()

    class Meta:
        verbose_name = _("区域/网格")
        verbose_name_plural = _("区域/网格")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}·{self.name}"

    def clean(self) -> None:
        check_kind_rule(self.ALLOWED_PARENT, self.kind, tree_parent_kind(self),
                        labels=dict(self.Kind.choices))
        if self.boundary is not None:
            try:
                boundary_parse(self.boundary)
            except ValidationError as error:
                raise ValidationError({"boundary": error.messages}) from None


def tree_parent_kind(node: MP_Node) -> str | None:
    """The kind of the node's parent for the kind rule.

    A form or service that adds or moves a node sets `intended_parent` first (treebeard places the
    node only on save, so the database still holds the old parent, or none for a new node).
    """
    if hasattr(node, "intended_parent"):
        parent = node.intended_parent
    elif node.depth in (None, 1):
        parent = None
    else:
        parent = type(node).objects.get_parent(node)
    return parent.kind if parent is not None else None


def check_kind_rule(
    allowed: dict[str, str | tuple[str, ...] | None],
    kind: str,
    parent_kind: str | None,
    *,
    labels: dict[str, str],
) -> None:
    expected = allowed.get(kind)
    expected_set = expected if isinstance(expected, tuple) else (expected,)
    if parent_kind not in expected_set:
        parent_label = labels.get(parent_kind or "", _("顶层"))
        raise ValidationError(
            _("“%(kind)s”不能直接设在“%(parent)s”之下。")
            % {"kind": labels.get(kind, kind), "parent": parent_label}
        )


LATITUDE_RANGE = [MinValueValidator(-90), MaxValueValidator(90)]
LONGITUDE_RANGE = [MinValueValidator(-180), MaxValueValidator(180)]


def check_coordinates(latitude: object, longitude: object) -> None:
    if (latitude is None) != (longitude is None):
        raise ValidationError(_("经纬度须同时填写。"))


class Compound(TimeStampedModel):
    name = models.CharField(_("小区名称"), max_length=100)
    community = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="compounds",
                                  verbose_name=_("所属社区"),
                                  limit_choices_to={"kind": Area.Kind.COMMUNITY})
    address = models.CharField(_("地址"), max_length=200, blank=True)
    built_year = models.PositiveSmallIntegerField(_("建成年份"), null=True, blank=True)
    area_sqm = models.PositiveIntegerField(_("占地面积(平方米)"), null=True, blank=True)
    latitude = models.DecimalField(_("中心纬度"), max_digits=9, decimal_places=6, null=True,
                                   blank=True, validators=LATITUDE_RANGE)
    longitude = models.DecimalField(_("中心经度"), max_digits=9, decimal_places=6, null=True,
                                    blank=True, validators=LONGITUDE_RANGE)

    class Meta:
        verbose_name = _("小区")
        verbose_name_plural = _("小区")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.community_id and self.community.kind != Area.Kind.COMMUNITY:
            raise ValidationError({"community": _("小区必须属于一个社区。")})
        check_coordinates(self.latitude, self.longitude)


class CompoundAlias(models.Model):
    """Another name an address may use for a compound: an old name, a 门牌号 (富春江路88号)."""

    compound = models.ForeignKey(Compound, on_delete=models.CASCADE, related_name="aliases",
                                 verbose_name=_("小区"))
    alias = models.CharField(_("别名"), max_length=100,
                             help_text=_("旧名、俗称或门牌号，例如“富春江路88号”"))

    class Meta:
        verbose_name = _("小区别名")
        verbose_name_plural = _("小区别名")
        ordering = ["compound_id", "alias"]
        constraints = [
            models.UniqueConstraint(fields=["compound", "alias"], name="compound_alias_unique"),
        ]

    def __str__(self) -> str:
        return self.alias


class Building(TimeStampedModel):
    """Every building is in exactly one compound and one micro-grid."""

    compound = models.ForeignKey(Compound, on_delete=models.PROTECT, related_name="buildings",
                                 verbose_name=_("小区"))
    micro_grid = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="buildings",
                                   verbose_name=_("微网格"),
                                   limit_choices_to={"kind": Area.Kind.MICROGRID})
    number = models.CharField(_("楼号"), max_length=20)
    number_sort = NaturalSortKeyField(source="number")
    floors = models.PositiveSmallIntegerField(_("层数"), default=18)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True,
                                   blank=True, validators=LATITUDE_RANGE)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True,
                                    blank=True, validators=LONGITUDE_RANGE)

    class Meta:
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")
        ordering = ["compound_id", "number_sort", "number"]
        constraints = [
            models.UniqueConstraint(fields=["compound", "number"], name="building_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.compound.name} " + gettext("%(number)s号楼") % {"number": self.number}

    def clean(self) -> None:
        if self.micro_grid_id and self.micro_grid.kind != Area.Kind.MICROGRID:
            raise ValidationError({"micro_grid": _("楼栋必须划入一个微网格。")})
        check_coordinates(self.latitude, self.longitude)


class Unit(models.Model):
    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="units",
                                 verbose_name=_("楼栋"))
    number = models.CharField(_("单元号"), max_length=10)
    number_sort = NaturalSortKeyField(source="number")

    class Meta:
        verbose_name = _("单元")
        verbose_name_plural = _("单元")
        ordering = ["building_id", "number_sort", "number"]
        constraints = [
            models.UniqueConstraint(fields=["building", "number"], name="unit_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.building} " + gettext("%(unit)s单元") % {"unit": self.number}


class OrgNodeQuerySet(MP_NodeQuerySet):
    def within(self, node: OrgNode) -> OrgNodeQuerySet:
        return self.filter(path__startswith=node.path)


class OrgNodeManager(MP_NodeManager):
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

    ALLOWED_PARENT = {
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
    objects = OrgNodeManager()

    class Meta:
        verbose_name = _("党组织")
        verbose_name_plural = _("党组织")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        check_kind_rule(self.ALLOWED_PARENT, self.kind, tree_parent_kind(self),
                        labels=dict(self.Kind.choices))


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
    """业委会 / 物业 / 共建单位: a body that takes part in compound governance."""

    class Kind(models.TextChoices):
        OWNERS_COMMITTEE = "owners_committee", _("业主委员会")
        PROPERTY_COMPANY = "property_company", _("物业公司")
        PARTNER_UNIT = "partner_unit", _("共建单位")
        SOCIAL_ORGANISATION = "social_org", _("社会组织")

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
