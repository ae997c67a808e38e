"""The territory: the ground everything else stands on.

Area is the territory tree (treebeard materialised paths, so a subtree or the ancestors are one
query each): 街道 Street → 社区 Community → 网格 Grid → 微网格 MicroGrid.
Beside it: Compound → Building → Unit (→ residents.Household).
The tables keep their governance_* names: the models moved here from governance, the data did not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar, Protocol

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node, MP_NodeManager, MP_NodeQuerySet

from core.fields import NaturalSortKeyField
from core.models import TimeStampedModel
from territory.geo import boundary_parse

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise  # a development dependency: annotations only

# A tree's kind rule: which kind (or kinds) may sit directly above each kind; None is the root.
KindRule = Mapping[str, str | tuple[str, ...] | None]


class KindTreeNode(Protocol):
    """A node of a tree with a kind rule: Area, or governance's OrgNode (which this app cannot
    name: it sits above)."""

    ALLOWED_PARENT: ClassVar[KindRule]

    @property
    def kind(self) -> str: ...

    @classmethod
    def kind_labels(cls) -> dict[str, str | Promise]: ...


class AreaQuerySet(MP_NodeQuerySet["Area"]):
    def within(self, scope: Area) -> AreaQuerySet:
        """The scope and everything under it: one `path LIKE` query."""
        return self.filter(path__startswith=scope.path)


class AreaManager(MP_NodeManager["Area"]):
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
    ALLOWED_PARENT: ClassVar[KindRule] = {
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
    objects: ClassVar[AreaManager] = AreaManager()
    # The parent a form or service is about to place the node under (tree_parent_kind): only
    # declared here, set just before an add or a move.
    intended_parent: Area | None

    class Meta:
        verbose_name = _("区域/网格")
        verbose_name_plural = _("区域/网格")
        db_table = "governance_area"

    def __str__(self) -> str:
        return f"{self.get_kind_display()}·{self.name}"

    @classmethod
    def kind_labels(cls) -> dict[str, str | Promise]:
        return dict(cls.Kind.choices)

    def clean(self) -> None:
        check_kind_rule(self.ALLOWED_PARENT, self.kind, tree_parent_kind(self),
                        labels=self.kind_labels())
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
    allowed: KindRule,
    kind: str,
    parent_kind: str | None,
    *,
    labels: Mapping[str, str | Promise],
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


OUTLINE_HELP = _('轮廓，用于“一张图”：GeoJSON Polygon 或 MultiPolygon，坐标为 [经度, 纬度]'
                 '（与经纬度同一坐标系），环须首尾闭合。例如 {"type": "Polygon", "coordinates": '
                 '[[[120.1860, 35.9675], [120.1867, 35.9675], [120.1867, 35.9676], '
                 '[120.1860, 35.9676], [120.1860, 35.9675]]]}。留空则地图上画作一个点。')


def outline_field(verbose_name: StrOrPromise) -> models.JSONField[object]:
    return models.JSONField(verbose_name, null=True, blank=True, help_text=OUTLINE_HELP)


def check_outline(outline: object) -> None:
    """The outline a map draws: a GeoJSON (Multi)Polygon (territory.geo), errors in Chinese."""
    if outline is not None:
        try:
            boundary_parse(outline)
        except ValidationError as error:
            raise ValidationError({"outline": error.messages}) from None


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
    outline = outline_field(_("小区轮廓（GeoJSON）"))

    class Meta:
        verbose_name = _("小区")
        verbose_name_plural = _("小区")
        db_table = "governance_compound"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.community_id and self.community.kind != Area.Kind.COMMUNITY:
            raise ValidationError({"community": _("小区必须属于一个社区。")})
        check_coordinates(self.latitude, self.longitude)
        check_outline(self.outline)


class CompoundAlias(models.Model):
    """Another name an address may use for a compound: an old name, a 门牌号 (富春江路88号)."""

    compound = models.ForeignKey(Compound, on_delete=models.CASCADE, related_name="aliases",
                                 verbose_name=_("小区"))
    alias = models.CharField(_("别名"), max_length=100,
                             help_text=_("旧名、俗称或门牌号，例如“富春江路88号”"))

    class Meta:
        verbose_name = _("小区别名")
        verbose_name_plural = _("小区别名")
        db_table = "governance_compoundalias"
        ordering = ["compound_id", "alias"]
        constraints = [
            models.UniqueConstraint(fields=["compound", "alias"], name="compound_alias_unique"),
        ]

    def __str__(self) -> str:
        return self.alias


def building_label(*, compound_name: str, number: str, number_format: str | None = None) -> str:
    """How a building is named on every page (Building.__str__): 长江瑞城 1号楼. For lists read
    with values(), which build no Building; such a list passes `number_format` (gettext of
    "%(number)s号楼", looked up once) rather than translating it again for each row."""
    return f"{compound_name} " + (number_format or gettext("%(number)s号楼")) % {"number": number}


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
    outline = outline_field(_("楼栋轮廓（GeoJSON）"))

    class Meta:
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")
        db_table = "governance_building"
        ordering = ["compound_id", "number_sort", "number"]
        constraints = [
            models.UniqueConstraint(fields=["compound", "number"], name="building_unique_number"),
        ]

    def __str__(self) -> str:
        return building_label(compound_name=self.compound.name, number=self.number)

    def clean(self) -> None:
        if self.micro_grid_id and self.micro_grid.kind != Area.Kind.MICROGRID:
            raise ValidationError({"micro_grid": _("楼栋必须划入一个微网格。")})
        check_coordinates(self.latitude, self.longitude)
        check_outline(self.outline)


class Unit(models.Model):
    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="units",
                                 verbose_name=_("楼栋"))
    number = models.CharField(_("单元号"), max_length=10)
    number_sort = NaturalSortKeyField(source="number")

    class Meta:
        verbose_name = _("单元")
        verbose_name_plural = _("单元")
        db_table = "governance_unit"
        ordering = ["building_id", "number_sort", "number"]
        constraints = [
            models.UniqueConstraint(fields=["building", "number"], name="unit_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.building} " + gettext("%(unit)s单元") % {"unit": self.number}
