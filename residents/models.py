"""Households, residents and party-member records (personal data: see core.masking)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.crypto import blind_index
from core.fields import BlindIndexField, EncryptedTextField, NaturalSortKeyField
from core.models import TimeStampedModel
from core.phones import MobilePhoneField


class HouseholdQuerySet(models.QuerySet["Household"]):
    def within_path(self, path: str) -> HouseholdQuerySet:
        return self.filter(building__micro_grid__path__startswith=path)


class Household(TimeStampedModel):
    building = models.ForeignKey("territory.Building", on_delete=models.PROTECT,
                                 related_name="households", verbose_name=_("楼栋"))
    unit = models.ForeignKey("territory.Unit", on_delete=models.PROTECT,
                             related_name="households", verbose_name=_("单元"))
    room = models.CharField(_("门牌号"), max_length=10)
    room_sort = NaturalSortKeyField(source="room")
    is_occupied = models.BooleanField(_("常住"), default=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    # The scope path every scope check needs: the building's micro-grid.
    SCOPE_PATH = "building__micro_grid__path"
    objects = HouseholdQuerySet.as_manager()

    class Meta:
        verbose_name = _("户")
        verbose_name_plural = _("户")
        ordering = ["building_id", "unit_id", "room_sort", "room"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "room"], name="household_unique_room"),
        ]

    def __str__(self) -> str:
        return f"{self.building.number}-{self.unit.number}-{self.room}"

    def clean(self) -> None:
        if self.unit_id and self.building_id and self.unit.building_id != self.building_id:
            raise ValidationError({"unit": _("单元不属于所选楼栋。")})


class Resident(TimeStampedModel):
    class Gender(models.TextChoices):
        MALE = "M", _("男")
        FEMALE = "F", _("女")

    class Tag(models.TextChoices):
        ELDER_ALONE = "elder_alone", _("独居老人")
        EMPTY_NEST = "empty_nest", _("空巢老人")
        DISABLED = "disabled", _("残疾人")
        LOW_INCOME = "low_income", _("低保户")
        VETERAN = "veteran", _("退役军人")

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="residents",
                                  verbose_name=_("户"))
    name = models.CharField(_("姓名"), max_length=50, db_index=True)
    phone = MobilePhoneField(_("手机号"), max_length=20, blank=True, db_index=True)
    # Encrypted at rest (PIPL); found by exact value through its keyed digest.
    id_number = EncryptedTextField(_("身份证号"), max_length=18, blank=True)
    id_number_digest = BlindIndexField(source="id_number", db_index=True)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("出生年份"), null=True, blank=True)
    tags = models.JSONField(_("标签"), default=list, blank=True)
    is_household_head = models.BooleanField(_("户主"), default=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="residents", verbose_name=_("账户"))

    SCOPE_PATH = "household__building__micro_grid__path"

    class Meta:
        verbose_name = _("居民")
        verbose_name_plural = _("居民")

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Storage, not a business rule: the digest must follow the number it indexes.
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "id_number" in update_fields:
            kwargs["update_fields"] = {*update_fields, "id_number_digest"}
        super().save(*args, **kwargs)

    def validate_unique(self, exclude: Any = None) -> None:
        """An ID number belongs to one resident: checked through its digest (the column
        itself is encrypted, so no database constraint can compare it). Existing duplicates
        are left alone; the admin form and the importers refuse a new one."""
        super().validate_unique(exclude=exclude)
        if exclude and "id_number" in exclude:
            return
        digest = blind_index(self.id_number or "")
        if digest and (Resident.objects.filter(id_number_digest=digest)
                       .exclude(pk=self.pk).exists()):
            raise ValidationError({"id_number": _("该身份证号已登记在其他居民名下。")})

    def clean(self) -> None:
        valid = set(self.Tag.values)
        unknown = [tag for tag in (self.tags or []) if tag not in valid]
        if unknown:
            raise ValidationError({"tags": _("未知标签：%s") % "、".join(unknown)})

    @property
    def tag_labels(self) -> list[str]:
        labels = dict(self.Tag.choices)
        return [str(labels.get(tag, tag)) for tag in self.tags or []]


class PartyMember(TimeStampedModel):
    class Kind(models.TextChoices):
        SELF_MANAGED = "self_managed", _("自管党员")
        IN_SERVICE = "in_service", _("在职党员")
        MOBILE = "mobile", _("流动党员")

    class Category(models.TextChoices):
        """Graded management (分级分类管理) by how much the member can take on."""

        CORE = "core", _("骨干型")
        ACTIVE = "active", _("活跃型")
        GENERAL = "general", _("一般型")
        CARE = "care", _("关怀型")

    resident = models.OneToOneField(Resident, on_delete=models.CASCADE,
                                    related_name="party_member", verbose_name=_("居民"))
    kind = models.CharField(_("党员类型"), max_length=16, choices=Kind.choices, db_index=True)
    org_node = models.ForeignKey("governance.OrgNode", on_delete=models.PROTECT,
                                 related_name="members", verbose_name=_("所在党组织"))
    occupation = models.CharField(_("职业"), max_length=100, blank=True)
    workplace = models.CharField(_("工作单位"), max_length=100, blank=True)
    skills = models.CharField(_("特长"), max_length=200, blank=True)
    interests = models.CharField(_("兴趣"), max_length=200, blank=True)
    category = models.CharField(_("分类管理"), max_length=10, choices=Category.choices,
                                default=Category.GENERAL)
    joined_on = models.DateField(_("入党日期"), null=True, blank=True)
    # Opt-in (PIPL): a member is shown on the 亮身份 board only with their consent, whose date is
    # kept; withdrawing consent hides the member and keeps the date of the consent given.
    is_public = models.BooleanField(_("亮身份（挂牌公示）"), default=False)
    public_consent_on = models.DateField(
        _("亮身份同意日期"), null=True, blank=True,
        help_text=_("党员本人同意在公示栏亮明身份的日期；未填写不能亮身份。"))
    duties = models.TextField(_("定责任"), blank=True)
    pledges = models.TextField(_("践承诺"), blank=True)

    class Meta:
        verbose_name = _("党员")
        verbose_name_plural = _("党员")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_public=False) | models.Q(public_consent_on__isnull=False),
                name="party_member_public_needs_consent",
                violation_error_message=_("亮身份须登记党员本人的同意日期。")),
        ]

    def __str__(self) -> str:
        return self.resident.name
