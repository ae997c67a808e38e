"""Volunteers: teams, zones and service posts with duty rosters, activities and hours,
micro-wishes, proxy services, and care files for elders (sensitive personal data).

Workflows keep their transition tables next to their TextChoices; every status change is a row.
Deadlines the beat jobs look for are indexed columns (`remind_at`, `claim_expires_at`,
`next_visit_due`, `second_miss_on`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.fields import EncryptedTextField
from core.models import StatusChange, TimeStampedModel

# Every volunteer-side row reaches the territory tree through its compound's community.
COMPOUND_SCOPE = "compound__community__path"


class Team(TimeStampedModel):
    class Kind(models.TextChoices):
        SERVICE = "service", _("志愿服务队")
        CARING = "caring", _("关爱团队")
        CULTURE = "culture", _("文艺团队")
        SPORTS = "sports", _("体育团队")

    compound = models.ForeignKey("territory.Compound", on_delete=models.PROTECT,
                                 related_name="volunteer_teams", verbose_name=_("小区"))
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, db_index=True)
    description = models.TextField(_("简介"), blank=True)
    is_active = models.BooleanField(_("在册"), default=True)

    SCOPE_PATH = COMPOUND_SCOPE

    class Meta:
        verbose_name = _("志愿团队")
        verbose_name_plural = _("志愿团队")
        ordering = ["compound_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["compound", "name"], name="team_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Volunteer(TimeStampedModel):
    """Anyone may volunteer; residents link their record, and party members are marked."""

    class Identity(models.TextChoices):
        RESIDENT = "resident", _("居民")
        PARTY_MEMBER = "party_member", _("党员")
        GRID_WORKER = "grid_worker", _("网格员")
        BUILDING_HEAD = "building_head", _("楼栋长")
        POLICE = "police", _("社区民警")
        STAFF = "staff", _("社区工作者")

    compound = models.ForeignKey("territory.Compound", on_delete=models.PROTECT,
                                 related_name="volunteers", verbose_name=_("小区"))
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="volunteer", verbose_name=_("账户"))
    resident = models.OneToOneField("residents.Resident", on_delete=models.SET_NULL, null=True,
                                    blank=True, related_name="volunteer",
                                    verbose_name=_("居民档案"))
    party_member = models.ForeignKey("residents.PartyMember", on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="volunteer_profiles",
                                     verbose_name=_("党员"))
    name = models.CharField(_("姓名"), max_length=50)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    identity = models.CharField(_("身份"), max_length=16, choices=Identity.choices,
                                default=Identity.RESIDENT, db_index=True)
    skills = models.CharField(_("特长"), max_length=200, blank=True)
    # The secret of the volunteer's private calendar feed URL; rotating it revokes the old one.
    calendar_token = models.CharField(_("日历订阅令牌"), max_length=64, null=True, blank=True,
                                      unique=True, editable=False)
    is_active = models.BooleanField(_("在册"), default=True)
    teams = models.ManyToManyField(Team, through="TeamMembership", related_name="volunteers",
                                   verbose_name=_("所属团队"), blank=True)

    SCOPE_PATH = COMPOUND_SCOPE

    class Meta:
        verbose_name = _("志愿者")
        verbose_name_plural = _("志愿者")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_party_member(self) -> bool:
        return self.party_member_id is not None


class QualificationKind(models.TextChoices):
    """What a duty may require of its volunteer (Helfertool's prerequisites)."""

    FIRST_AID = "first_aid", _("急救证书")
    HEALTH_CHECK = "health_check", _("健康体检（助老服务）")
    ELDER_CARE_TRAINING = "elder_care", _("养老护理培训")
    FIRE_SAFETY = "fire_safety", _("消防安全培训")


def requirement_labels(kinds: list[str]) -> list[str]:
    labels = dict(QualificationKind.choices)
    return [str(labels.get(kind, kind)) for kind in kinds]


class Qualification(TimeStampedModel):
    """A volunteer's certificate or check, valid until `expires_on` (inclusive; none: no end)."""

    volunteer = models.ForeignKey("Volunteer", on_delete=models.CASCADE,
                                  related_name="qualifications", verbose_name=_("志愿者"))
    kind = models.CharField(_("资质类型"), max_length=16, choices=QualificationKind.choices)
    obtained_on = models.DateField(_("取得日期"))
    expires_on = models.DateField(_("有效期至"), null=True, blank=True, db_index=True)
    reference = models.CharField(_("证书编号"), max_length=50, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("登记人"))

    class Meta:
        verbose_name = _("志愿者资质")
        verbose_name_plural = _("志愿者资质")
        ordering = ["volunteer_id", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["volunteer", "kind"], name="qualification_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} · {self.get_kind_display()}"

    def clean(self) -> None:
        if self.expires_on and self.obtained_on and self.expires_on < self.obtained_on:
            raise ValidationError({"expires_on": _("有效期不能早于取得日期。")})

    def is_valid_on(self, day: date) -> bool:
        return self.obtained_on <= day and (self.expires_on is None or day <= self.expires_on)


def _requirements_field() -> models.JSONField[list[str]]:
    return models.JSONField(_("所需资质"), default=list, blank=True,
                            help_text=_("可选：first_aid、health_check、elder_care、fire_safety"))


class ProxyConsent(models.Model):
    """代录: staff recorded this on an elder's behalf, with the elder's consent noted (who agreed,
    how and when). Blank `recorded_by`: the resident filed it themself."""

    class ConsentMethod(models.TextChoices):
        IN_PERSON = "in_person", _("当面口头同意")
        PHONE = "phone", _("电话同意")
        WRITTEN = "written", _("书面签字")
        GUARDIAN = "guardian", _("监护人或家属同意")

    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("代录人"))
    consent_by = models.CharField(_("同意人"), max_length=50, blank=True)
    consent_method = models.CharField(_("同意方式"), max_length=10,
                                      choices=ConsentMethod.choices, blank=True)
    consent_at = models.DateTimeField(_("同意时间"), null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_recorded_by_staff(self) -> bool:
        return self.recorded_by_id is not None


class TeamMembership(models.Model):
    class Role(models.TextChoices):
        LEADER = "leader", _("队长")
        MEMBER = "member", _("队员")

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships",
                             verbose_name=_("团队"))
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE,
                                  related_name="memberships", verbose_name=_("志愿者"))
    role = models.CharField(_("角色"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_on = models.DateField(_("加入日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("团队成员")
        verbose_name_plural = _("团队成员")
        constraints = [
            models.UniqueConstraint(fields=["team", "volunteer"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.team} · {self.volunteer}"


class ResponsibilityZone(TimeStampedModel):
    """党员责任区: a party member answers for some buildings and households."""

    compound = models.ForeignKey("territory.Compound", on_delete=models.PROTECT,
                                 related_name="responsibility_zones", verbose_name=_("小区"))
    number = models.PositiveSmallIntegerField(_("编号"))
    name = models.CharField(_("名称"), max_length=100)
    party_member = models.ForeignKey("residents.PartyMember", on_delete=models.PROTECT,
                                     related_name="responsibility_zones",
                                     verbose_name=_("责任党员"))
    buildings = models.ManyToManyField("territory.Building", related_name="responsibility_zones",
                                       verbose_name=_("楼栋"), blank=True)
    households = models.ManyToManyField("residents.Household",
                                        related_name="responsibility_zones",
                                        verbose_name=_("联系户"), blank=True)
    duties = models.TextField(_("责任内容"), blank=True)

    SCOPE_PATH = COMPOUND_SCOPE

    class Meta:
        verbose_name = _("党员责任区")
        verbose_name_plural = _("党员责任区")
        ordering = ["compound_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["compound", "number"], name="zone_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.number}号责任区 · {self.name}"


class ServicePost(TimeStampedModel):
    """党员服务岗, staffed by a duty roster of recurring shifts."""

    class Kind(models.TextChoices):
        POLICY_PUBLICITY = "policy_publicity", _("政策宣传岗")
        DISPUTE_MEDIATION = "dispute_mediation", _("矛盾调解岗")
        ENVIRONMENT = "environment", _("环境整治岗")
        SAFETY_PATROL = "safety_patrol", _("安全巡查岗")
        ELDERLY_CARE = "elderly_care", _("敬老助老岗")
        CIVILITY = "civility", _("文明引导岗")
        OPINION = "opinion", _("民情收集岗")
        YOUTH = "youth", _("关爱青少年岗")

    compound = models.ForeignKey("territory.Compound", on_delete=models.PROTECT,
                                 related_name="service_posts", verbose_name=_("小区"))
    kind = models.CharField(_("岗位类型"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=100)
    location = models.CharField(_("地点"), max_length=100, blank=True)
    description = models.TextField(_("职责"), blank=True)
    required_qualifications = _requirements_field()

    SCOPE_PATH = COMPOUND_SCOPE

    class Meta:
        verbose_name = _("党员服务岗")
        verbose_name_plural = _("党员服务岗")
        ordering = ["compound_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["compound", "kind"], name="post_unique_kind"),
        ]

    def __str__(self) -> str:
        return self.name


class RosterSlot(models.Model):
    """A recurring weekly duty: who stands at a post on which weekday and hours."""

    post = models.ForeignKey(ServicePost, on_delete=models.CASCADE, related_name="slots",
                             verbose_name=_("服务岗"))
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="slots",
                                  verbose_name=_("值班人"))
    weekday = models.PositiveSmallIntegerField(
        _("星期"), choices=[(0, _("周一")), (1, _("周二")), (2, _("周三")), (3, _("周四")),
                            (4, _("周五")), (5, _("周六")), (6, _("周日"))])
    start_time = models.TimeField(_("开始时间"))
    end_time = models.TimeField(_("结束时间"))
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("排班规则")
        verbose_name_plural = _("排班规则")
        ordering = ["post_id", "weekday", "start_time"]
        constraints = [
            models.UniqueConstraint(fields=["post", "volunteer", "weekday", "start_time"],
                                    name="slot_unique"),
            models.CheckConstraint(condition=models.Q(end_time__gt=models.F("start_time")),
                                   name="slot_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.post} {self.get_weekday_display()} {self.start_time:%H:%M}"


class Shift(TimeStampedModel):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("待值班")
        CHECKED_IN = "checked_in", _("已签到")
        CANCELLED = "cancelled", _("已取消")
        NO_SHOW = "no_show", _("缺勤")

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        Status.SCHEDULED: frozenset({Status.CHECKED_IN, Status.CANCELLED, Status.NO_SHOW}),
    }
    # The shifts that hold a volunteer's time: two of these may not overlap.
    HOLDING_STATES = (Status.SCHEDULED, Status.CHECKED_IN)

    REMIND_BEFORE = timedelta(hours=12)

    post = models.ForeignKey(ServicePost, on_delete=models.CASCADE, related_name="shifts",
                             verbose_name=_("服务岗"))
    slot = models.ForeignKey(RosterSlot, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="shifts", verbose_name=_("排班规则"))
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="shifts",
                                  verbose_name=_("值班人"))
    starts_at = models.DateTimeField(_("开始"))
    ends_at = models.DateTimeField(_("结束"))
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices,
                              default=Status.SCHEDULED)
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    remind_at = models.DateTimeField(_("提醒时间"), db_index=True)
    reminded_at = models.DateTimeField(_("已提醒"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                  null=True, blank=True, related_name="+",
                                  verbose_name=_("取消或记缺勤人"))
    closed_at = models.DateTimeField(_("取消或记缺勤时间"), null=True, blank=True)
    close_reason = models.CharField(_("取消或缺勤说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("值班")
        verbose_name_plural = _("值班表")
        ordering = ["starts_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["slot", "starts_at"], name="shift_unique_occurrence"),
        ]
        indexes = [
            models.Index(fields=["remind_at"], name="shift_unreminded_idx",
                         condition=models.Q(reminded_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.post} {self.starts_at:%Y-%m-%d %H:%M} {self.volunteer}"

    @property
    def planned_hours(self) -> Decimal:
        return Decimal((self.ends_at - self.starts_at).total_seconds() / 3600).quantize(
            Decimal("0.1"))


class ShiftSwap(TimeStampedModel):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("待对方确认")
        ACCEPTED = "accepted", _("已换班")
        DECLINED = "declined", _("已拒绝")
        CANCELLED = "cancelled", _("已撤回")

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        Status.REQUESTED: frozenset({Status.ACCEPTED, Status.DECLINED, Status.CANCELLED}),
    }

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="swaps",
                              verbose_name=_("值班"))
    from_volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="+",
                                       verbose_name=_("申请人"))
    to_volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE,
                                     related_name="swap_requests", verbose_name=_("替班人"))
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices,
                              default=Status.REQUESTED)
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("换班申请")
        verbose_name_plural = _("换班申请")
        constraints = [
            models.UniqueConstraint(fields=["shift"], condition=models.Q(status="requested"),
                                    name="swap_one_open_per_shift"),
        ]

    def __str__(self) -> str:
        return f"{self.shift} → {self.to_volunteer}"


class Activity(TimeStampedModel):
    class Kind(models.TextChoices):
        SNOW_CLEARING = "snow", _("清雪除冰")
        FLOOD_PREVENTION = "flood", _("防汛")
        CLEANING = "cleaning", _("洁净家园")
        FREE_CLINIC = "clinic", _("义诊")
        CHARITY_MARKET = "market", _("公益市集")
        FIRE_DRILL = "fire_drill", _("消防演练")
        OTHER = "other", _("其他")

    class Status(models.TextChoices):
        OPEN = "open", _("报名中")
        CLOSED = "closed", _("已截止")
        CANCELLED = "cancelled", _("已取消")

    compound = models.ForeignKey("territory.Compound", on_delete=models.PROTECT,
                                 related_name="volunteer_activities", verbose_name=_("小区"))
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="activities", verbose_name=_("组织团队"))
    title = models.CharField(_("活动名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices, db_index=True)
    description = models.TextField(_("说明"), blank=True)
    location = models.CharField(_("地点"), max_length=100, blank=True)
    starts_at = models.DateTimeField(_("开始"), db_index=True)
    ends_at = models.DateTimeField(_("结束"))
    capacity = models.PositiveIntegerField(_("名额"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices,
                              default=Status.OPEN, db_index=True)
    checkin_code = models.CharField(_("签到码"), max_length=6)
    required_qualifications = _requirements_field()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("发布人"))

    SCOPE_PATH = COMPOUND_SCOPE

    class Meta:
        verbose_name = _("志愿活动")
        verbose_name_plural = _("志愿活动")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")),
                                   name="activity_end_after_start"),
            models.CheckConstraint(condition=models.Q(capacity__gt=0),
                                   name="activity_capacity_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("结束时间必须晚于开始时间。")})

    @property
    def planned_hours(self) -> Decimal:
        return Decimal((self.ends_at - self.starts_at).total_seconds() / 3600).quantize(
            Decimal("0.1"))

    def accepts_signups(self, now: datetime) -> bool:
        """Open for sign-up: not closed or cancelled by staff, and not over yet."""
        return self.status == self.Status.OPEN and self.ends_at > now


class ActivitySignup(TimeStampedModel):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("已报名")
        WAITLISTED = "waitlisted", _("候补")
        CANCELLED = "cancelled", _("已取消")

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="signups",
                                 verbose_name=_("活动"))
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE,
                                  related_name="signups", verbose_name=_("志愿者"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, db_index=True)
    signed_up_at = models.DateTimeField(_("报名时间"))
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("签退时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("活动报名")
        verbose_name_plural = _("活动报名")
        ordering = ["signed_up_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "volunteer"], name="signup_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.activity} · {self.volunteer}"


class HoursEntry(TimeStampedModel):
    """The hours ledger. App-recorded hours (check-in/out) and staff-added hours stay apart."""

    class Source(models.TextChoices):
        APP = "app", _("签到记录")
        STAFF = "staff", _("工作人员补录")
        SHIFT = "shift", _("值班签到")
        CARE = "care", _("关爱走访")

    # Recorded by the portal itself (a check-in, a logged visit), as opposed to added by staff.
    RECORDED_SOURCES = (Source.APP, Source.SHIFT, Source.CARE)

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已认定")
        REJECTED = "rejected", _("未认定")

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        Status.PENDING: frozenset({Status.APPROVED, Status.REJECTED}),
    }

    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT,
                                  related_name="hours_entries", verbose_name=_("志愿者"))
    activity = models.ForeignKey(Activity, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="hours_entries", verbose_name=_("活动"))
    signup = models.OneToOneField(ActivitySignup, on_delete=models.SET_NULL, null=True,
                                  blank=True, related_name="hours_entry",
                                  verbose_name=_("报名"))
    shift = models.OneToOneField("Shift", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="hours_entry", verbose_name=_("值班"))
    care_visit = models.OneToOneField("CareVisit", on_delete=models.SET_NULL, null=True,
                                      blank=True, related_name="hours_entry",
                                      verbose_name=_("关爱走访"))
    source = models.CharField(_("来源"), max_length=6, choices=Source.choices, db_index=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices,
                              default=Status.PENDING, db_index=True)
    hours = models.DecimalField(_("时长(小时)"), max_digits=5, decimal_places=1)
    served_on = models.DateField(_("服务日期"), db_index=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("录入人"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("审核人"))
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("志愿时长")
        verbose_name_plural = _("志愿时长台账")
        ordering = ["-served_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(hours__gte=0), name="hours_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} {self.hours}h"


class MicroWish(ProxyConsent, TimeStampedModel):
    """微心愿: a resident's small wish, verified by staff, claimed and fulfilled by a member."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("待审核")
        PUBLISHED = "published", _("待认领")
        CLAIMED = "claimed", _("已认领")
        FULFILLED = "fulfilled", _("待确认")
        CONFIRMED = "confirmed", _("已实现")
        REJECTED = "rejected", _("未通过")
        WITHDRAWN = "withdrawn", _("已撤回")

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        Status.SUBMITTED: frozenset({Status.PUBLISHED, Status.REJECTED, Status.WITHDRAWN}),
        Status.PUBLISHED: frozenset({Status.CLAIMED, Status.WITHDRAWN}),
        # Back to PUBLISHED when the claim expires untouched.
        Status.CLAIMED: frozenset({Status.FULFILLED, Status.PUBLISHED}),
        Status.FULFILLED: frozenset({Status.CONFIRMED}),
    }
    FULFILLED_STATES = (Status.FULFILLED, Status.CONFIRMED)

    compound = models.ForeignKey("territory.Compound", on_delete=models.PROTECT,
                                 related_name="micro_wishes", verbose_name=_("小区"))
    resident = models.ForeignKey("residents.Resident", on_delete=models.PROTECT,
                                 related_name="micro_wishes", verbose_name=_("许愿居民"))
    title = models.CharField(_("心愿"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices,
                              default=Status.SUBMITTED, db_index=True)
    claimed_by = models.ForeignKey("residents.PartyMember", on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="claimed_wishes",
                                   verbose_name=_("认领党员"))
    claimed_at = models.DateTimeField(_("认领时间"), null=True, blank=True)
    claim_expires_at = models.DateTimeField(_("认领失效时间"), null=True, blank=True,
                                            db_index=True)
    fulfilled_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    fulfilment_note = models.TextField(_("完成说明"), blank=True)
    fulfilment_photo = models.ImageField(_("完成照片"), upload_to="wishes/%Y/%m/", blank=True)
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)

    SCOPE_PATH = COMPOUND_SCOPE

    class Meta:
        verbose_name = _("微心愿")
        verbose_name_plural = _("微心愿")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class MicroWishEvent(StatusChange):
    wish = models.ForeignKey(MicroWish, on_delete=models.CASCADE, related_name="events",
                             verbose_name=_("微心愿"))

    class Meta(StatusChange.Meta):
        verbose_name = _("微心愿记录")
        verbose_name_plural = _("微心愿记录")

    @property
    def new_label(self) -> str:
        return str(dict(MicroWish.Status.choices).get(self.new_status, self.new_status))


class ProxyService(ProxyConsent, TimeStampedModel):
    """帮办代办: an errand done for a resident (often an elder)."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", _("代缴费用")
        MEDICINE = "medicine", _("代购药品")
        PAPERWORK = "paperwork", _("代办证件")
        DELIVERY = "delivery", _("代取快递")
        OTHER = "other", _("其他")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("待派单")
        ASSIGNED = "assigned", _("办理中")
        DONE = "done", _("已办结")
        CONFIRMED = "confirmed", _("已确认")
        CANCELLED = "cancelled", _("已取消")

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        Status.REQUESTED: frozenset({Status.ASSIGNED, Status.CANCELLED}),
        Status.ASSIGNED: frozenset({Status.DONE, Status.CANCELLED}),
        Status.DONE: frozenset({Status.CONFIRMED}),
    }

    compound = models.ForeignKey("territory.Compound", on_delete=models.PROTECT,
                                 related_name="proxy_services", verbose_name=_("小区"))
    resident = models.ForeignKey("residents.Resident", on_delete=models.PROTECT,
                                 related_name="proxy_services", verbose_name=_("委托居民"))
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("事项"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices,
                              default=Status.REQUESTED, db_index=True)
    assignee = models.ForeignKey(Volunteer, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="proxy_services", verbose_name=_("代办人"))
    assigned_at = models.DateTimeField(_("派单时间"), null=True, blank=True)
    done_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    result_note = models.TextField(_("办理结果"), blank=True)
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)

    SCOPE_PATH = COMPOUND_SCOPE

    class Meta:
        verbose_name = _("帮办代办")
        verbose_name_plural = _("帮办代办")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class ProxyServiceEvent(StatusChange):
    service = models.ForeignKey(ProxyService, on_delete=models.CASCADE, related_name="events",
                                verbose_name=_("帮办代办"))

    class Meta(StatusChange.Meta):
        verbose_name = _("帮办代办记录")
        verbose_name_plural = _("帮办代办记录")

    @property
    def new_label(self) -> str:
        return str(dict(ProxyService.Status.choices).get(self.new_status, self.new_status))


class CareFile(TimeStampedModel):
    """关爱档案 (sensitive): seen only by its assigned caretaker and community staff in scope."""

    class Category(models.TextChoices):
        ELDER_ALONE = "elder_alone", _("独居老人")
        EMPTY_NEST = "empty_nest", _("空巢老人")

    class Risk(models.TextChoices):
        HIGH = "high", _("高")
        MEDIUM = "medium", _("中")
        LOW = "low", _("低")

    class Frequency(models.TextChoices):
        WEEKLY = "weekly", _("每周")
        MONTHLY = "monthly", _("每月")
        QUARTERLY = "quarterly", _("每季度")

    INTERVAL_DAYS = {Frequency.WEEKLY: 7, Frequency.MONTHLY: 30, Frequency.QUARTERLY: 91}
    FREQUENCY_BY_RISK = {Risk.HIGH: Frequency.WEEKLY, Risk.MEDIUM: Frequency.MONTHLY,
                         Risk.LOW: Frequency.QUARTERLY}

    resident = models.OneToOneField("residents.Resident", on_delete=models.PROTECT,
                                    related_name="care_file", verbose_name=_("老人"))
    category = models.CharField(_("类别"), max_length=12, choices=Category.choices,
                                db_index=True)
    risk = models.CharField(_("风险等级"), max_length=6, choices=Risk.choices,
                            default=Risk.MEDIUM)
    frequency = models.CharField(_("走访频次"), max_length=10, choices=Frequency.choices)
    caretaker = models.ForeignKey(Volunteer, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="care_files", verbose_name=_("爱心管家"))
    # The notes are encrypted at rest (PIPL: health data is sensitive personal information).
    health_notes = EncryptedTextField(_("健康状况"), blank=True)
    living_notes = EncryptedTextField(_("生活情况"), blank=True)
    emergency_contact = models.CharField(_("紧急联系人"), max_length=50, blank=True)
    emergency_phone = models.CharField(_("紧急联系电话"), max_length=20, blank=True)
    is_active = models.BooleanField(_("在册"), default=True)
    next_visit_due = models.DateField(_("下次走访截止"), db_index=True)
    second_miss_on = models.DateField(_("二次逾期日"), db_index=True)
    missed_count = models.PositiveSmallIntegerField(_("连续逾期次数"), default=0)
    flagged_at = models.DateTimeField(_("逾期标记时间"), null=True, blank=True)
    alerted_at = models.DateTimeField(_("上报社区时间"), null=True, blank=True)
    required_qualifications = _requirements_field()

    SCOPE_PATH = "resident__household__building__micro_grid__path"

    class Meta:
        verbose_name = _("关爱档案")
        verbose_name_plural = _("关爱档案")
        ordering = ["next_visit_due", "id"]

    def __str__(self) -> str:
        return str(_("关爱档案 #%(id)s") % {"id": self.pk})

    @property
    def interval_days(self) -> int:
        return self.INTERVAL_DAYS[self.Frequency(self.frequency)]


class CareVisit(TimeStampedModel):
    class Condition(models.TextChoices):
        GOOD = "good", _("良好")
        ATTENTION = "attention", _("需关注")
        URGENT = "urgent", _("需紧急处置")

    care_file = models.ForeignKey(CareFile, on_delete=models.CASCADE, related_name="visits",
                                  verbose_name=_("关爱档案"))
    visitor = models.ForeignKey(Volunteer, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="care_visits", verbose_name=_("走访人"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("记录人"))
    visited_on = models.DateField(_("走访日期"))
    condition = models.CharField(_("状况"), max_length=10, choices=Condition.choices,
                                 default=Condition.GOOD)
    notes = EncryptedTextField(_("走访记录"), blank=True)
    minutes = models.PositiveSmallIntegerField(_("走访时长（分钟）"), default=0)
    # What the elder needs, in staff's words: it may open a proxy service or a petition.
    need = models.CharField(_("发现需求"), max_length=200, blank=True)
    proxy_service = models.OneToOneField(ProxyService, on_delete=models.SET_NULL, null=True,
                                         blank=True, related_name="care_visit",
                                         verbose_name=_("转帮办代办"))
    # petitions is a sibling app: linked by id (its side notes the visit on its timeline).
    petition_id = models.PositiveBigIntegerField(_("转诉求编号"), null=True, blank=True)

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        ordering = ["-visited_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(minutes__lte=24 * 60),
                                   name="visit_minutes_within_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.care_file} {self.visited_on}"

    @property
    def has_follow_up(self) -> bool:
        return self.proxy_service_id is not None or self.petition_id is not None


class CareFileAccessLog(models.Model):
    """Who looked at which care file, when and through which door (PIPL audit)."""

    class Channel(models.TextChoices):
        PAGE = "page", _("页面")
        API = "api", _("接口")
        ADMIN = "admin", _("管理后台")

    care_file = models.ForeignKey(CareFile, on_delete=models.CASCADE,
                                  related_name="access_logs", verbose_name=_("关爱档案"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                             related_name="+", verbose_name=_("查看人"))
    channel = models.CharField(_("途径"), max_length=6, choices=Channel.choices)
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("关爱档案查看记录")
        verbose_name_plural = _("关爱档案查看记录")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.care_file_id} {self.at}"
