"""有事您说话: petitions under the 7135 clock.

Deadlines are stored on the row and indexed (Healthchecks' `alert_after`): the three tier deadlines
are computed once at acceptance (petitions/policy.py, where every clock rule lives), so the
escalation sweep moves a petition up a tier by copying a column — one set-based UPDATE whatever
the calendar rule.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel

MAX_PHOTOS = 3


class Category(models.Model):
    """A petition category (a simple two-level tree through `parent`), editable in the admin."""

    name = models.CharField(_("名称"), max_length=50)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="children", verbose_name=_("上级分类"))
    extra_questions = models.JSONField(
        _("补充问题"), default=list, blank=True,
        help_text=_('JSON 列表，例如 [{"key": "floor", "label": "楼层", "required": false}]'),
    )
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)
    # The database default keeps raw INSERTs (bench/) that predate the column working.
    requires_result_photo = models.BooleanField(
        _("办结须上传现场照片"), default=False, db_default=False,
        help_text=_("勾选后，该分类的诉求办结时须上传至少一张现场照片。"))

    class Meta:
        verbose_name = _("诉求分类")
        verbose_name_plural = _("诉求分类")
        ordering = ["sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="category_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not isinstance(self.extra_questions, list) or not all(
            isinstance(item, dict) and item.get("key") and item.get("label")
            for item in self.extra_questions
        ):
            raise ValidationError(
                {"extra_questions": _("补充问题须为列表，每项包含 key 和 label。")}
            )
        if self.parent_id and self.parent_id == self.pk:
            raise ValidationError({"parent": _("上级分类不能是自己。")})


class SlaPolicy(models.Model):
    """The 7135 durations: one row (pk=1), editable in the admin."""

    class Calendar(models.TextChoices):
        CALENDAR_DAYS = "calendar", _("自然日")
        WORKING_DAYS = "working", _("工作日（法定节假日顺延）")

    SINGLETON_ID = 1

    arrival = models.DurationField(_("到场时限"), default=timedelta(minutes=7))
    microgrid = models.DurationField(_("微网格办结时限"), default=timedelta(days=1))
    grid = models.DurationField(_("网格办结时限"), default=timedelta(days=3))
    street = models.DurationField(_("街道办结时限"), default=timedelta(days=5))
    rating_window = models.DurationField(
        _("评价期限"), default=timedelta(days=7),
        help_text=_("核实后留给居民评价的时间；居民未评价的，期满后工作人员方可关闭。"),
    )
    calendar = models.CharField(_("计算方式"), max_length=10, choices=Calendar.choices,
                                default=Calendar.CALENDAR_DAYS)
    reminder_share = models.DecimalField(
        _("催办提醒比例"), max_digits=3, decimal_places=2, default=Decimal("0.80"),
        help_text=_("每个时限（到场、各层级办结）用去该比例时提醒承办人一次，"
                    "如 0.80 表示时限用去五分之四时催办。"),
    )
    # 签收 (petitions/acceptance.py): the holder accepts within the limit of the tier holding it;
    # past it, the next person in the area is told and the delay counts against dispatch.
    accept_microgrid = models.DurationField(_("微网格签收时限"), default=timedelta(minutes=5))
    accept_grid = models.DurationField(_("网格签收时限"), default=timedelta(minutes=30))
    accept_street = models.DurationField(_("街道签收时限"), default=timedelta(hours=2))
    # 滞留提醒 (petitions/stalled.py): the digest's thresholds and how often it repeats.
    stalled_note_after = models.DurationField(
        _("签收后无办理记录提醒"), default=timedelta(hours=24),
        help_text=_("已签收的诉求超过该时长没有新的办理记录，列入滞留提醒。"))
    stalled_verify_after = models.DurationField(
        _("办结后未核查提醒"), default=timedelta(hours=24),
        help_text=_("已办结的诉求超过该时长仍未核查，列入滞留提醒。"))
    stalled_digest_interval = models.DurationField(
        _("滞留提醒间隔"), default=timedelta(days=1),
        help_text=_("滞留提醒汇总的发送间隔；同一间隔内每人只收到一次。"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("时限规则（7135）")
        verbose_name_plural = _("时限规则（7135）")

    def __str__(self) -> str:
        return str(_("7135 时限规则"))

    def clean(self) -> None:
        for name in ("arrival", "microgrid", "grid", "street", "rating_window"):
            value = getattr(self, name)
            if value is None or value <= timedelta(0):
                raise ValidationError({name: _("时限必须大于零。")})
        if not self.microgrid <= self.grid <= self.street:
            raise ValidationError(_("时限须满足：微网格 ≤ 网格 ≤ 街道。"))
        if self.reminder_share is None or not Decimal(0) < self.reminder_share < Decimal(1):
            raise ValidationError({"reminder_share": _("催办提醒比例须大于 0 且小于 1。")})
        self._clean_acceptance()

    def _clean_acceptance(self) -> None:
        for name in ("accept_microgrid", "accept_grid", "accept_street", "stalled_note_after",
                     "stalled_verify_after", "stalled_digest_interval"):
            value = getattr(self, name)
            if value is None or value <= timedelta(0):
                raise ValidationError({name: _("时限必须大于零。")})
        for name, tier_limit in (("accept_microgrid", self.microgrid), ("accept_grid", self.grid),
                                 ("accept_street", self.street)):
            if tier_limit is not None and getattr(self, name) >= tier_limit:
                raise ValidationError({name: _("签收时限须短于该层级的办结时限。")})
        if self.stalled_digest_interval < timedelta(hours=1):
            raise ValidationError({"stalled_digest_interval": _("滞留提醒间隔不能短于 1 小时。")})

    def accept_limit(self, tier: str) -> timedelta:
        """The 签收 limit of the tier holding a petition."""
        limits: dict[str, timedelta] = {"microgrid": self.accept_microgrid,
                                        "grid": self.accept_grid, "street": self.accept_street}
        return limits[tier]

    @classmethod
    def current(cls) -> SlaPolicy:
        policy, _created = cls.objects.get_or_create(pk=cls.SINGLETON_ID)
        return policy


class PetitionState(models.TextChoices):
    SUBMITTED = "submitted", _("已受理")
    DISPATCHED = "dispatched", _("已派单")
    ON_SITE = "on_site", _("已到场")
    RESOLVED = "resolved", _("已办结")
    VERIFIED = "verified", _("已核实")
    RATED = "rated", _("已评价")
    CLOSED = "closed", _("已关闭")
    RETURNED = "returned", _("已退回")
    REJECTED = "rejected", _("不予受理")
    REFERRED = "referred", _("转议事")
    REOPENED = "reopened", _("已重办")
    # A duplicate folded into another petition (petitions/duplicates.py): finished here, the
    # other one's result is its result (PetitionMerge links them).
    MERGED = "merged", _("已合并")


_S = PetitionState
# The workflow as data. Escalation changes the tier, never the state, so it is not in here.
# Any open petition may be merged into another (a duplicate); a merged one is finished.
PETITION_TRANSITIONS: dict[str, frozenset[str]] = {
    _S.SUBMITTED: frozenset({_S.DISPATCHED, _S.REJECTED, _S.REFERRED, _S.MERGED}),
    _S.DISPATCHED: frozenset({_S.ON_SITE, _S.RESOLVED, _S.RETURNED, _S.REFERRED, _S.MERGED}),
    _S.ON_SITE: frozenset({_S.RESOLVED, _S.RETURNED, _S.REFERRED, _S.MERGED}),
    _S.RESOLVED: frozenset({_S.VERIFIED, _S.DISPATCHED}),
    _S.VERIFIED: frozenset({_S.RATED, _S.CLOSED}),
    _S.RATED: frozenset({_S.CLOSED, _S.REOPENED}),
    _S.REOPENED: frozenset({_S.DISPATCHED, _S.MERGED}),
    _S.RETURNED: frozenset({_S.DISPATCHED, _S.REJECTED, _S.REFERRED, _S.MERGED}),
    _S.REFERRED: frozenset({_S.CLOSED}),
    _S.REJECTED: frozenset(),
    _S.MERGED: frozenset(),
    # Once in a petition's life, when the matter comes back (petition_reopen checks the rest).
    _S.CLOSED: frozenset({_S.REOPENED}),
}
# States in which the resolution clock runs and the sweep escalates.
OPEN_STATES: frozenset[str] = frozenset(
    {_S.SUBMITTED, _S.DISPATCHED, _S.ON_SITE, _S.RETURNED, _S.REOPENED}
)
FINISHED_STATES: frozenset[str] = frozenset({_S.CLOSED, _S.REJECTED, _S.MERGED})


class NoVisitReason(models.TextChoices):
    """Why a petition was resolved without a check-in. Such a petition counts as not arrived on
    time (the response rate), whenever it was resolved."""

    PHONE = "phone", _("电话办结")
    ONLINE = "online", _("线上办结")
    OTHER = "other", _("其他（须说明）")


class Tier(models.TextChoices):
    MICROGRID = "microgrid", _("微网格")
    GRID = "grid", _("网格")
    STREET = "street", _("街道")


class Placement(models.TextChoices):
    """How a petition found its building or micro-grid (the placement-quality report)."""

    GIVEN = "given", _("提交时指定")
    ADDRESS = "address", _("按地址自动定位")
    COORDINATES = "coordinates", _("按坐标自动定位")
    BOUNDARY = "boundary", _("按网格边界自动定位")
    HAND = "hand", _("人工定位")
    PENDING = "pending", _("待分派")


AUTO_PLACEMENTS: frozenset[str] = frozenset(
    {Placement.ADDRESS, Placement.COORDINATES, Placement.BOUNDARY})


def choice_label(choices: type[models.TextChoices], value: str) -> str:
    """What Model.get_FOO_display returns for a TextChoices field: the label in the active
    language, or the stored value itself when it is not one of the choices."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


class PetitionQuerySet(models.QuerySet["Petition"]):
    def open(self) -> PetitionQuerySet:
        return self.filter(state__in=OPEN_STATES)

    def overdue(self, now: datetime) -> PetitionQuerySet:
        from petitions.policy import overdue_q  # noqa: PLC0415 the policy reads these models

        return self.filter(overdue_q(now))


class Petition(TimeStampedModel):
    class Channel(models.TextChoices):
        MOBILE_WEB = "mobile_web", _("手机网页")
        WALK_IN = "walk_in", _("来访登记")
        PHONE = "phone", _("电话登记")
        HOTLINE_12345 = "hotline_12345", _("12345 热线")
        SUSUBAN = "susuban", _("诉速办")
        API = "api", _("其他系统")

    class Size(models.TextChoices):
        SMALL = "small", _("小事")
        BIG = "big", _("大事")
        HARD = "hard", _("难事")

    class Rating(models.TextChoices):
        SATISFIED = "satisfied", _("满意")
        BASICALLY_SATISFIED = "basic", _("基本满意")
        UNSATISFIED = "unsatisfied", _("不满意")

    class CallbackMethod(models.TextChoices):
        """How staff reached the person for a callback (回访) they record on their behalf."""

        PHONE = "phone", _("电话回访")
        VISIT = "visit", _("上门回访")

    State = PetitionState
    Tier = Tier
    NoVisitReason = NoVisitReason
    Placement = Placement
    TRANSITIONS = PETITION_TRANSITIONS
    MAX_PHOTOS = MAX_PHOTOS

    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices,
                               default=Channel.MOBILE_WEB, db_index=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="petitions",
                                 verbose_name=_("分类"))
    answers = models.JSONField(_("补充问题回答"), default=dict, blank=True)
    description = models.TextField(_("诉求内容"))
    # Where: a household, or a building, or free text; with optional coordinates.
    household = models.ForeignKey("residents.Household", on_delete=models.SET_NULL, null=True,
                                  blank=True, related_name="petitions", verbose_name=_("户"))
    building = models.ForeignKey("territory.Building", on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="petitions", verbose_name=_("楼栋"))
    # The flat, for the visit: from the household, the unit picked, or the address read.
    unit_number = models.CharField(_("单元"), max_length=10, blank=True, default="",
                                   db_default="")
    room = models.CharField(_("门牌号"), max_length=10, blank=True, default="", db_default="")
    location_text = models.CharField(_("位置描述"), max_length=200, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True,
                                   blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True,
                                    blank=True)
    # How it was placed (petitions/locating.py at acceptance, or by hand from 待分派), when, and
    # why it waits in 待分派 (an address that could not be read, no worker in the area…).
    placement = models.CharField(_("定位方式"), max_length=12, choices=Placement.choices,
                                 default=Placement.GIVEN)
    placed_at = models.DateTimeField(_("定位时间"), null=True, blank=True)
    placement_reason = models.CharField(_("待分派原因"), max_length=300, blank=True)

    size = models.CharField(_("事项大小"), max_length=8, choices=Size.choices,
                            default=Size.SMALL)
    tier = models.CharField(_("办理层级"), max_length=12, choices=Tier.choices,
                            default=Tier.MICROGRID, db_index=True)
    state = models.CharField(_("状态"), max_length=12, choices=PetitionState.choices,
                             default=PetitionState.SUBMITTED, db_index=True)
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                               blank=True, related_name="held_petitions",
                               verbose_name=_("承办人"))
    area = models.ForeignKey("territory.Area", on_delete=models.PROTECT,
                             related_name="petitions", verbose_name=_("承办区域"))
    # Denormalised paths for one-LIKE scope filters: the holding area, and the micro-grid (or the
    # narrowest area) where the matter is, so local staff still see it after escalation.
    area_path = models.CharField(_("承办区域路径"), max_length=255, db_index=True)
    origin_path = models.CharField(_("所在区域路径"), max_length=255, db_index=True)

    submitter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                  null=True, blank=True, related_name="submitted_petitions",
                                  verbose_name=_("提交人"))
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    is_public = models.BooleanField(_("同意公开"), default=False)
    is_anonymous = models.BooleanField(_("匿名"), default=False,
                                       help_text=_("对办理人员隐藏提交人姓名"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("登记人"))
    external_system = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                        null=True, blank=True, related_name="external_petitions",
                                        verbose_name=_("来源系统"))
    external_ref = models.CharField(_("外部编号"), max_length=64, null=True, blank=True)

    # The clock. `clock_started_at` is acceptance (restarted once by a reopen).
    submitted_at = models.DateTimeField(_("受理时间"), default=timezone.now, db_index=True)
    clock_started_at = models.DateTimeField(_("计时起点"), default=timezone.now)
    dispatched_at = models.DateTimeField(_("派单时间"), null=True, blank=True)
    arrival_due_at = models.DateTimeField(_("到场时限"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("到场时间"), null=True, blank=True)
    arrival_missed = models.BooleanField(_("超时未到场"), default=False)
    # 签收 (petitions/acceptance.py): each hand-over (dispatch, reroute, escalation) asks the new
    # holder to accept by `accept_due_at`; a timeout is stamped once per hand-over in
    # `accept_overdue_at` and counts against dispatch, not the worker. `last_progress_at`: the
    # holder's last sign of work (签收, check-in, a staff note), for the stalled-work digest.
    accept_due_at = models.DateTimeField(_("签收时限"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    accept_overdue_at = models.DateTimeField(_("签收超时时间"), null=True, blank=True)
    last_progress_at = models.DateTimeField(_("最近办理时间"), null=True, blank=True)
    microgrid_due_at = models.DateTimeField(_("微网格时限"))
    grid_due_at = models.DateTimeField(_("网格时限"))
    street_due_at = models.DateTimeField(_("街道时限"))
    due_at = models.DateTimeField(_("当前时限"))
    # 催办: when the holder is reminded of the arrival clock and of the current tier's deadline
    # (SlaPolicy.reminder_share of each); set with the deadlines, cleared by the reminder run
    # that claims the row (petitions/alerts.py).
    arrival_remind_at = models.DateTimeField(_("到场催办时间"), null=True, blank=True)
    due_remind_at = models.DateTimeField(_("办结催办时间"), null=True, blank=True)
    # Set when a working-day deadline ran past the holiday table's end (core.workdays). The
    # database default keeps raw INSERTs (bench/) that predate the column working.
    deadline_estimated = models.BooleanField(
        _("时限按周一至周五估算"), default=False, db_default=False,
        help_text=_("计算时限时节假日表尚未录入该年份，按周一至周五估算，请以实际放假安排为准。"))
    resolved_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    resolved_on_time = models.BooleanField(_("按时办结"), null=True, blank=True)
    resolved_tier = models.CharField(_("办结层级"), max_length=12, choices=Tier.choices,
                                     blank=True)
    # Who resolved the current round: verification is someone else's (petition_verify).
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("办结人"))
    # Resolved in this round without a check-in, and why (petition_resolve).
    no_visit_reason = models.CharField(_("未到场办结原因"), max_length=8,
                                       choices=NoVisitReason.choices, blank=True, default="",
                                       db_default="")
    no_visit_note = models.CharField(_("未到场办结说明"), max_length=200, blank=True, default="",
                                     db_default="")
    verified_at = models.DateTimeField(_("核实时间"), null=True, blank=True)
    # Set at verification (SlaPolicy.rating_window on): staff close an unrated petition after it.
    rating_due_at = models.DateTimeField(_("评价截止"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    supervised = models.BooleanField(_("督办"), default=False, db_index=True)
    supervised_at = models.DateTimeField(_("督办时间"), null=True, blank=True)
    # 黄牌/红牌 (petitions/cards.py): the first of each this round, stamped by the card sweep
    # only where NULL; `card_check_at` is when the sweep next looks at the row (now, whenever a
    # clock starts or moves; NULL once no clock runs). The database default keeps raw INSERTs
    # (bench/) looked at.
    yellow_card_at = models.DateTimeField(_("黄牌时间"), null=True, blank=True)
    red_card_at = models.DateTimeField(_("红牌时间"), null=True, blank=True)
    card_check_at = models.DateTimeField(_("亮牌检查时间"), null=True, blank=True,
                                         default=timezone.now, db_default=Now())
    reopened_count = models.PositiveSmallIntegerField(_("重办次数"), default=0)

    rating = models.CharField(_("评价"), max_length=12, choices=Rating.choices, blank=True)
    rating_comment = models.CharField(_("评价意见"), max_length=500, blank=True)
    rated_at = models.DateTimeField(_("评价时间"), null=True, blank=True)
    # A rating recorded by staff on a callback (回访) for someone who does not rate online:
    # who recorded it and how. Empty for the resident's (or the external system's) own rating.
    callback_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("回访人"))
    callback_method = models.CharField(_("回访方式"), max_length=8, choices=CallbackMethod.choices,
                                       blank=True)
    rejection_reason = models.CharField(_("不予受理原因"), max_length=300, blank=True)
    resolution = models.TextField(_("办理结果"), blank=True)
    # The deliberation app's topic (that app belongs to another team; an id keeps us decoupled).
    deliberation_topic_id = models.PositiveBigIntegerField(_("议题编号"), null=True, blank=True)
    # The volunteers app's care visit that found this need (petitions/care_referral.py); an id,
    # as for the topic: the visit's side keeps CareVisit.petition_id.
    care_visit_id = models.PositiveBigIntegerField(_("关爱走访编号"), null=True, blank=True)
    referred_at = models.DateTimeField(_("转议事时间"), null=True, blank=True)

    objects = PetitionQuerySet.as_manager()
    # Set by petition_submit: False when an external retry returned the first petition.
    was_created = False

    class Meta:
        verbose_name = _("诉求")
        verbose_name_plural = _("诉求")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_system", "external_ref"], name="petition_unique_external_ref",
                condition=models.Q(external_ref__isnull=False),
            ),
            models.CheckConstraint(condition=models.Q(reopened_count__lte=1),
                                   name="petition_reopened_once"),
        ]
        indexes = [
            # The sweep's claims: open rows by tier and deadline (most rows are finished).
            models.Index(fields=["tier", "due_at"], name="petition_open_due_idx",
                         condition=models.Q(state__in=sorted(OPEN_STATES))),
            models.Index(fields=["arrival_due_at"], name="petition_arrival_due_idx",
                         condition=models.Q(arrived_at__isnull=True, arrival_missed=False)),
            # The reminder run's claims: only rows with a reminder still to come.
            models.Index(fields=["arrival_remind_at"], name="petition_arrival_remind_idx",
                         condition=models.Q(arrival_remind_at__isnull=False)),
            models.Index(fields=["due_remind_at"], name="petition_due_remind_idx",
                         condition=models.Q(due_remind_at__isnull=False)),
            models.Index(fields=["holder", "due_at"], name="petition_holder_due_idx"),
            # 签收: the acceptance sweep's claims, and the stalled-work digest's three reads.
            models.Index(fields=["accept_due_at"], name="petition_accept_due_idx",
                         condition=models.Q(state__in=sorted(OPEN_STATES),
                                            accepted_at__isnull=True,
                                            accept_due_at__isnull=False)),
            models.Index(fields=["last_progress_at"], name="petition_progress_idx",
                         condition=models.Q(state__in=sorted(OPEN_STATES),
                                            accepted_at__isnull=False)),
            models.Index(fields=["resolved_at"], name="petition_unverified_idx",
                         condition=models.Q(state="resolved")),
            # The card sweep's claims: only rows with a clock still to watch.
            models.Index(fields=["card_check_at"], name="petition_card_check_idx",
                         condition=models.Q(card_check_at__isnull=False)),
            models.Index(fields=["category", "building", "state"],
                         name="petition_duplicate_idx"),
            # 待分派: accepted, nobody holds it yet (a small share of the rows at any time).
            models.Index(fields=["area_path", "submitted_at"], name="petition_dispatch_queue_idx",
                         condition=models.Q(state="submitted", holder__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.description[:20]}"

    # Django's generated get_FOO_display hashes every (value, lazy label) pair of the field's
    # choices on each call, one gettext per choice: 12 for the state. The staff dashboard calls
    # these ~100 times a page (≈ 1.5 ms of its CPU at 50 rows); one enum lookup does the same.
    # (django-stubs' plugin declares the generated methods, so mypy sees a redefinition.)
    def get_state_display(self) -> str:  # type: ignore[no-redef]
        return choice_label(PetitionState, self.state)

    def get_tier_display(self) -> str:  # type: ignore[no-redef]
        return choice_label(Tier, self.tier)

    def clean(self) -> None:
        if (self.household_id is None and self.building_id is None and not self.location_text
                and self.latitude is None):
            raise ValidationError(_("请选择房屋、楼栋，填写位置描述，或提供坐标。"))
        if (self.latitude is None) != (self.longitude is None):
            raise ValidationError(_("经纬度须同时填写。"))

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def is_overdue(self, now: datetime | None = None) -> bool:
        from petitions.policy import is_overdue  # noqa: PLC0415 the policy reads these models

        return is_overdue(self, now or timezone.now())


class PetitionEventQuerySet(models.QuerySet["PetitionEvent"]):
    def for_staff(self) -> PetitionEventQuerySet:
        return self.annotate(visible_note=models.F("note"))

    def for_residents(self) -> PetitionEventQuerySet:
        """What the resident (and an external system) reads: every step, an internal one by its
        name alone (`visible_note` is empty), and no internal event that is only a note."""
        return self.exclude(is_internal=True, kind__in=NOTE_ONLY_KINDS).annotate(
            visible_note=models.Case(models.When(is_internal=True, then=models.Value("")),
                                     default=models.F("note"), output_field=models.TextField()))


class PetitionEvent(models.Model):
    """The timeline and audit trail: every transition, escalation and note is a row.

    `is_internal`: the note (and its photos) was written for staff. The resident and external
    systems still see the step (its kind, time and tier) unless the event is nothing but its
    note (NOTE_ONLY_KINDS). Chosen when written: a staff note asks; every other event takes its
    kind's default (INTERNAL_KINDS), and the sweep's are for everyone.
    """

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("提交受理")
        TRIAGED = "triaged", _("分级")
        DISPATCHED = "dispatched", _("派单")
        PLACED = "placed", _("人工定位")
        CHECKED_IN = "checked_in", _("到场")
        ARRIVAL_MISSED = "arrival_missed", _("超时未到场")
        ACCEPTED = "accepted", _("签收")
        ACCEPT_OVERDUE = "accept_overdue", _("签收超时")
        NOTE = "note", _("办理记录")
        RESOLVED = "resolved", _("办结")
        VERIFY_FAILED = "verify_failed", _("核实未通过")
        VERIFIED = "verified", _("核实")
        RATED = "rated", _("评价")
        REOPENED = "reopened", _("重办")
        RETURNED = "returned", _("退回")
        REROUTED = "rerouted", _("改派")
        REJECTED = "rejected", _("不予受理")
        ESCALATED = "escalated", _("升级")
        SUPERVISED = "supervised", _("督办")
        REFERRED = "referred", _("转议事")
        CLOSED = "closed", _("关闭")
        MERGED = "merged", _("合并")
        YELLOW_CARD = "yellow_card", _("黄牌预警")
        RED_CARD = "red_card", _("红牌督办")
        EXTENSION_REQUESTED = "ext_requested", _("申请延期")
        EXTENSION_GRANTED = "ext_granted", _("批准延期")
        EXTENSION_REFUSED = "ext_refused", _("驳回延期")

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="events",
                                 verbose_name=_("诉求"))
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("操作人"))
    from_state = models.CharField(_("原状态"), max_length=12, blank=True)
    to_state = models.CharField(_("新状态"), max_length=12, blank=True)
    from_tier = models.CharField(_("原层级"), max_length=12, blank=True)
    to_tier = models.CharField(_("新层级"), max_length=12, blank=True)
    note = models.TextField(_("说明"), blank=True)
    is_internal = models.BooleanField(
        _("仅内部可见"), default=False,
        help_text=_("说明和照片仅工作人员可见；居民和外部系统只看到这一步（办理记录则整条不可见）。"))
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    objects = PetitionEventQuerySet.as_manager()
    # Set by petitions.presentation.timeline_rows for the timeline the pages print.
    to_tier_label: str | Promise = ""
    actor_label = ""

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        ordering = ["created_at", "id"]
        constraints = [
            # Tiers only go up, so a second "escalated to X" row can only be a double sweep.
            models.UniqueConstraint(fields=["petition", "to_tier"],
                                    condition=models.Q(kind="escalated"),
                                    name="petition_event_escalated_once"),
            models.UniqueConstraint(fields=["petition"], condition=models.Q(kind="supervised"),
                                    name="petition_event_supervised_once"),
        ]
        indexes = [models.Index(fields=["petition", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.petition_id}"

    @property
    def is_withheld(self) -> bool:
        """Not shown to the resident or an external system at all (for_residents)."""
        return self.is_internal and self.kind in NOTE_ONLY_KINDS

    @property
    def resident_note(self) -> str:
        return "" if self.is_internal else self.note


_K = PetitionEvent.Kind
# Staff-only actions whose note staff write to each other (routing, triage, checks, a referral's
# reasons): internal unless the writer says otherwise. The rest is for the resident: their own
# words, the result, a refusal's reason, a rating, a reopen, a close, the sweep's notices.
INTERNAL_KINDS: frozenset[str] = frozenset({
    _K.TRIAGED, _K.DISPATCHED, _K.PLACED, _K.CHECKED_IN, _K.ARRIVAL_MISSED, _K.VERIFY_FAILED,
    _K.VERIFIED, _K.RETURNED, _K.REROUTED, _K.ESCALATED, _K.REFERRED, _K.ACCEPTED,
    _K.ACCEPT_OVERDUE, _K.YELLOW_CARD, _K.RED_CARD,
})
# Events that are nothing but their note: an internal one is withheld from the resident whole.
NOTE_ONLY_KINDS: frozenset[str] = frozenset({_K.NOTE, _K.ARRIVAL_MISSED, _K.ACCEPT_OVERDUE})


def is_internal_by_default(kind: str) -> bool:
    return kind in INTERNAL_KINDS


class PetitionPhoto(models.Model):
    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="photos",
                                 verbose_name=_("诉求"))
    event = models.ForeignKey(PetitionEvent, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="photos", verbose_name=_("办理记录"))
    image = models.ImageField(_("照片"), upload_to="petitions/%Y/%m/")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("上传人"))
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("诉求照片")
        verbose_name_plural = _("诉求照片")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"照片 #{self.pk}"


class PendingPhoto(models.Model):
    """A photo a resident sent with a petition form that came back refused (a missing field…):
    kept, already re-encoded, for that resident alone, until the form goes through (the photo
    becomes a PetitionPhoto on the same file) or TTL passes (pending_photos_purge). The form
    carries the token; whoever sends it must be `uploaded_by`."""

    TTL = timedelta(days=1)

    token = models.CharField(_("凭据"), max_length=64, unique=True, editable=False)
    # SET_NULL: a deleted account's photo is claimed by nobody and purged with the rest.
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, related_name="+", verbose_name=_("上传人"))
    image = models.ImageField(_("照片"), upload_to="petitions/%Y/%m/")
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("待提交照片")
        verbose_name_plural = _("待提交照片")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"待提交照片 #{self.pk}"


class WebhookDelivery(models.Model):
    """The signed-webhook outbox for external systems (12345, 诉速办)."""

    MAX_ATTEMPTS = 8

    external_system = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                        related_name="webhook_deliveries",
                                        verbose_name=_("外部系统"))
    petition = models.ForeignKey(Petition, on_delete=models.CASCADE,
                                 related_name="webhook_deliveries", verbose_name=_("诉求"))
    event = models.OneToOneField(PetitionEvent, on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="webhook_delivery", verbose_name=_("办理记录"))
    url = models.URLField(_("回调地址"))
    payload = models.JSONField(_("内容"))
    signature = models.CharField(_("签名"), max_length=100)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("下次尝试"), default=timezone.now)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    given_up_at = models.DateTimeField(_("放弃时间"), null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(_("最近状态码"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("回调投递")
        verbose_name_plural = _("回调投递")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="webhook_pending_idx",
                         condition=models.Q(delivered_at__isnull=True,
                                            given_up_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"回调 #{self.pk} → {self.url}"


class BuildingPlaque(models.Model):
    """The QR plaque (楼栋码) on a building: residents start a petition there, and a worker who
    scans it on site is checked in. The token is random, so a plaque's URL cannot be derived
    from the building's id (a check-in by plaque proves someone stood in front of it); deleting
    the row in the admin retires a photographed or stolen plaque, and the next print makes a
    new one."""

    building = models.OneToOneField("territory.Building", on_delete=models.CASCADE,
                                    related_name="plaque", verbose_name=_("楼栋"))
    token = models.CharField(_("码"), max_length=32, unique=True, editable=False)
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("楼栋码")
        verbose_name_plural = _("楼栋码")

    def __str__(self) -> str:
        return str(self.building)


class AssessmentExclusion(models.Model):
    """申诉剔除: a petition left out of the assessment figures (the rankings), because it was
    misrouted, a duplicate, or beyond the street's remit. Asked for with a reason by any staff
    covering the petition, decided by a street admin other than the one who asked
    (petitions/assessment.py); only an approved one changes the figures. At most one request
    per petition is pending or approved at a time; a refused one may be asked for again."""

    class Reason(models.TextChoices):
        MISROUTED = "misrouted", _("错派")
        DUPLICATE = "duplicate", _("重复诉求")
        BEYOND_REMIT = "beyond_remit", _("超出街道职责范围")

    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REFUSED = "refused", _("已驳回")

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE,
                                 related_name="assessment_exclusions", verbose_name=_("诉求"))
    reason = models.CharField(_("剔除原因"), max_length=16, choices=Reason.choices)
    note = models.CharField(_("情况说明"), max_length=500)
    status = models.CharField(_("审批状态"), max_length=10, choices=Status.choices,
                              default=Status.PENDING, db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, related_name="+", verbose_name=_("申请人"))
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("审批人"))
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("剔除考核申请")
        verbose_name_plural = _("剔除考核申请")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["petition"],
                                    condition=models.Q(status__in=["pending", "approved"]),
                                    name="assessment_exclusion_one_live"),
        ]

    def __str__(self) -> str:
        return f"剔除考核 #{self.petition_id}"


EXCLUSION_TRANSITIONS: dict[str, frozenset[str]] = {
    AssessmentExclusion.Status.PENDING: frozenset({AssessmentExclusion.Status.APPROVED,
                                                   AssessmentExclusion.Status.REFUSED}),
    AssessmentExclusion.Status.APPROVED: frozenset(),
    AssessmentExclusion.Status.REFUSED: frozenset(),
}


class RecurrenceSuggestion(models.Model):
    """未诉先办: petitions of one category recur in one building (RECURRENCE_MIN_COUNT within
    RECURRENCE_WINDOW_DAYS), so staff are asked to act before the next complaint — open a
    deliberation topic or add a needs-list entry (through core.recurrence), or dismiss it with a
    reason. Never acted on automatically (petitions/recurrence.py). At most one open suggestion
    per building and category: two detection runs at once cannot both raise one."""

    class Status(models.TextChoices):
        OPEN = "open", _("待处理")
        ACCEPTED = "accepted", _("已采纳")
        DISMISSED = "dismissed", _("不予采纳")

    class Outcome(models.TextChoices):
        TOPIC = "topic", _("发起议题")
        NEED = "need", _("列入需求清单")

    building = models.ForeignKey("territory.Building", on_delete=models.CASCADE,
                                 related_name="recurrence_suggestions", verbose_name=_("楼栋"))
    category = models.ForeignKey(Category, on_delete=models.PROTECT,
                                 related_name="recurrence_suggestions", verbose_name=_("分类"))
    # The building's micro-grid path: one LIKE for the staff whose scope covers it.
    area_path = models.CharField(_("所在区域路径"), max_length=255, db_index=True)
    petitions = models.ManyToManyField(Petition, related_name="recurrence_suggestions",
                                       verbose_name=_("相关诉求"))
    petition_count = models.PositiveIntegerField(_("诉求数"))
    window_days = models.PositiveSmallIntegerField(_("统计天数"))
    first_submitted_at = models.DateTimeField(_("最早受理"))
    last_submitted_at = models.DateTimeField(_("最近受理"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices,
                              default=Status.OPEN, db_index=True)
    raised_at = models.DateTimeField(_("提出时间"), default=timezone.now, db_index=True)
    outcome = models.CharField(_("处理方式"), max_length=8, choices=Outcome.choices, blank=True)
    topic_id = models.PositiveBigIntegerField(_("议题编号"), null=True, blank=True)
    need_id = models.PositiveBigIntegerField(_("需求编号"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("处理人"))
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    decision_note = models.CharField(_("处理说明"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("未诉先办建议")
        verbose_name_plural = _("未诉先办建议")
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["building", "category"],
                                    condition=models.Q(status="open"),
                                    name="recurrence_suggestion_one_open"),
        ]
        indexes = [models.Index(fields=["building", "category", "decided_at"],
                                name="recurrence_group_decided_idx")]

    def __str__(self) -> str:
        return f"未诉先办 #{self.pk}"


RECURRENCE_TRANSITIONS: dict[str, frozenset[str]] = {
    RecurrenceSuggestion.Status.OPEN: frozenset({RecurrenceSuggestion.Status.ACCEPTED,
                                                 RecurrenceSuggestion.Status.DISMISSED}),
    RecurrenceSuggestion.Status.ACCEPTED: frozenset(),
    RecurrenceSuggestion.Status.DISMISSED: frozenset(),
}


class StalledDigestRun(models.Model):
    """One sending of the stalled-work digest (petitions/stalled.py): the claim of its interval.
    The unique `slot_start` lets one run per interval send, however many beats fire (a second
    run finds the slot taken and sends nothing)."""

    slot_start = models.DateTimeField(_("提醒周期起点"), unique=True)
    created_at = models.DateTimeField(_("发送时间"), default=timezone.now)
    recipients = models.PositiveIntegerField(_("接收人数"), default=0)
    petitions = models.PositiveIntegerField(_("滞留诉求数"), default=0)

    class Meta:
        verbose_name = _("滞留提醒记录")
        verbose_name_plural = _("滞留提醒记录")
        ordering = ["-slot_start"]

    def __str__(self) -> str:
        return f"滞留提醒 {self.slot_start:%Y-%m-%d %H:%M}"


class PetitionMerge(models.Model):
    """A duplicate (`petition`, finished as 已合并) folded into the petition that is kept
    (`into`), by staff (petitions/duplicates.py `petition_merge`) or by its own submitter who
    chose to follow a similar petition at submission (`petition_join`). Nothing of the
    duplicate is moved or deleted: its photos and timeline stay on its own rows, read from the
    kept petition through this link.

    The duplicate's submitter rates the kept petition's result here, once it is verified: one
    rating per linked submitter, on this row. 满意率 stays one figure per handled petition (the
    kept petition's own rating); a merged petition has no rating of its own and is out of it,
    so a result is never counted twice nor a duplicate counted as unrated."""

    class How(models.TextChoices):
        MERGED = "merged", _("工作人员合并")
        JOINED = "joined", _("居民关注同类诉求")

    petition = models.OneToOneField(Petition, on_delete=models.CASCADE, related_name="merge",
                                    verbose_name=_("被合并的诉求"))
    into = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="merged_in",
                             verbose_name=_("保留的诉求"))
    how = models.CharField(_("方式"), max_length=8, choices=How.choices, default=How.MERGED)
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                  null=True, blank=True, related_name="+",
                                  verbose_name=_("操作人"))
    merged_at = models.DateTimeField(_("合并时间"), default=timezone.now)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    # Set when the duplicate's submitter was asked to rate the kept petition's result.
    invited_at = models.DateTimeField(_("邀请评价时间"), null=True, blank=True)
    rating = models.CharField(_("评价"), max_length=12, choices=Petition.Rating.choices,
                              blank=True)
    rating_comment = models.CharField(_("评价意见"), max_length=500, blank=True)
    rated_at = models.DateTimeField(_("评价时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("合并的诉求")
        verbose_name_plural = _("合并的诉求")
        ordering = ["merged_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(petition=models.F("into")),
                                   name="petition_merge_not_itself"),
        ]

    def __str__(self) -> str:
        return f"#{self.petition_id} → #{self.into_id}"


class CoHandlingRequest(models.Model):
    """协办 / 吹哨报到: the holder hands a part of a petition to a body (物业公司,
    共建单位, 职能部门) with a task and a due date (petitions/cohandling.py). The body answers
    through a one-time link sent by SMS, with no account: only the SHA-256 of the link's token
    is kept, so neither the database nor a log can give the link back. The link works until it
    is used (`used_at`), it expires (`expires_at`) or the petition is finished; the holder
    stays responsible and closes. `open_count` / `refused_count` count what the link was used
    for (each an audit row); the answer's photos hang on its timeline event
    (`answer_event.photos`)."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE,
                                 related_name="cohandling_requests", verbose_name=_("诉求"))
    body = models.ForeignKey("governance.Body", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("协办单位"))
    task = models.TextField(_("协办事项"), max_length=500)
    due_at = models.DateTimeField(_("答复期限"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("发起人"))
    created_at = models.DateTimeField(_("发起时间"), default=timezone.now, db_index=True)
    token_hash = models.CharField(_("链接凭据摘要"), max_length=64, unique=True, editable=False)
    sent_at = models.DateTimeField(_("短信发出时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("链接失效时间"), db_index=True)
    opened_at = models.DateTimeField(_("首次打开时间"), null=True, blank=True)
    open_count = models.PositiveIntegerField(_("打开次数"), default=0)
    refused_count = models.PositiveIntegerField(_("拒绝次数"), default=0)
    used_at = models.DateTimeField(_("链接使用时间"), null=True, blank=True)
    answer_note = models.TextField(_("答复内容"), blank=True)
    answer_event = models.ForeignKey(PetitionEvent, on_delete=models.SET_NULL, null=True,
                                     blank=True, related_name="+", verbose_name=_("答复记录"))
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("协办请求")
        verbose_name_plural = _("协办请求")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"协办 #{self.pk}"


# --- 黄牌/红牌 and 延期 (petitions/cards.py, petitions/extensions.py) -----------------------------


class CardStep(models.TextChoices):
    """The clocks a card watches. A new step (签收…) is a value here and a clock in
    petitions/cards.py STEP_CLOCKS."""

    ARRIVAL = "arrival", _("到场")
    RESOLVE = "resolve", _("办结")


class CardRule(models.Model):
    """When a step's clock shows a yellow card (before its deadline) and a red one (after it),
    per tier and, optionally, per category (a rule without a category is the tier's default).
    Yellow: a share of the clock, or hours, or days before the deadline; red: hours or days
    after it. Days are working days when SlaPolicy.calendar counts working days."""

    class Unit(models.TextChoices):
        PERCENT = "percent", _("时限的百分比")
        HOURS = "hours", _("小时")
        DAYS = "days", _("天（按时限规则的计算方式）")

    step = models.CharField(_("环节"), max_length=12, choices=CardStep.choices)
    tier = models.CharField(_("办理层级"), max_length=12, choices=Tier.choices)
    category = models.ForeignKey(Category, on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="card_rules", verbose_name=_("分类"),
                                 help_text=_("留空为该层级的默认规则。"))
    yellow_unit = models.CharField(_("黄牌单位"), max_length=8, choices=Unit.choices,
                                   default=Unit.PERCENT)
    yellow_before = models.PositiveIntegerField(
        _("黄牌提前量"), default=20,
        help_text=_("时限前多少亮黄牌，如 20（%）、4（小时）、1（天）；0 表示不亮黄牌。"))
    red_unit = models.CharField(_("红牌单位"), max_length=8, choices=Unit.choices,
                                default=Unit.HOURS)
    red_after = models.PositiveIntegerField(
        _("红牌延后量"), default=0, help_text=_("超过时限多少后亮红牌并列入督办；0 表示到时即亮。"))
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("黄牌红牌规则")
        verbose_name_plural = _("黄牌红牌规则")
        ordering = ["step", "tier", "category_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["step", "tier", "category"],
                                    condition=models.Q(category__isnull=False),
                                    name="card_rule_unique_category"),
            models.UniqueConstraint(fields=["step", "tier"],
                                    condition=models.Q(category__isnull=True),
                                    name="card_rule_unique_default"),
        ]

    def __str__(self) -> str:
        category = self.category.name if self.category is not None else str(_("默认"))
        return f"{choice_label(CardStep, self.step)} · {choice_label(Tier, self.tier)} · {category}"

    def clean(self) -> None:
        if self.yellow_unit == self.Unit.PERCENT and not 0 <= (self.yellow_before or 0) < 100:
            raise ValidationError({"yellow_before": _("黄牌百分比须在 0 到 99 之间。")})
        if self.red_unit == self.Unit.PERCENT:
            raise ValidationError({"red_unit": _("红牌按超过时限的小时或天数计，不能用百分比。")})
        if self.yellow_unit == self.Unit.DAYS and (self.yellow_before or 0) > 30:
            raise ValidationError({"yellow_before": _("黄牌提前量不能超过 30 天。")})
        if self.red_unit == self.Unit.DAYS and (self.red_after or 0) > 30:
            raise ValidationError({"red_after": _("红牌延后量不能超过 30 天。")})
        if self.yellow_unit == self.Unit.HOURS and (self.yellow_before or 0) > 24 * 30:
            raise ValidationError({"yellow_before": _("黄牌提前量不能超过 720 小时。")})
        if self.red_unit == self.Unit.HOURS and (self.red_after or 0) > 24 * 30:
            raise ValidationError({"red_after": _("红牌延后量不能超过 720 小时。")})


class PetitionCard(models.Model):
    """One card issued by the sweep: for a step's clock, at a tier, against one deadline (a
    moved deadline — a new round, an extension — is a new clock). The unique constraint is what
    makes two sweeps issue one card."""

    class Color(models.TextChoices):
        YELLOW = "yellow", _("黄牌")
        RED = "red", _("红牌")

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="cards",
                                 verbose_name=_("诉求"))
    step = models.CharField(_("环节"), max_length=12, choices=CardStep.choices)
    tier = models.CharField(_("办理层级"), max_length=12, choices=Tier.choices)
    color = models.CharField(_("颜色"), max_length=8, choices=Color.choices)
    deadline = models.DateTimeField(_("对应时限"))
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                               blank=True, related_name="+", verbose_name=_("承办人"))
    area_path = models.CharField(_("承办区域路径"), max_length=255, db_index=True)
    # The card's moment ran past the holiday table's end: counted Monday to Friday.
    is_estimated = models.BooleanField(_("按周一至周五估算"), default=False)
    issued_at = models.DateTimeField(_("亮牌时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("黄牌红牌")
        verbose_name_plural = _("黄牌红牌")
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["petition", "step", "tier", "color", "deadline"],
                                    name="petition_card_once"),
        ]

    def __str__(self) -> str:
        return f"{choice_label(self.Color, self.color)} #{self.petition_id}"


class PetitionExtension(models.Model):
    """延期: the holder asks for N working days of the current tier's resolution clock, with a
    reason; the level above (petitions/rules.py may_decide_extension) grants M ≤ N or refuses,
    with a note. Only granted days move the clock (petitions/extensions.py). One pending
    request per petition at a time."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        GRANTED = "granted", _("已批准")
        REFUSED = "refused", _("已驳回")

    MAX_DAYS = 30

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="extensions",
                                 verbose_name=_("诉求"))
    tier = models.CharField(_("办理层级"), max_length=12, choices=Tier.choices)
    # The petition's round (reopened_count) the extension belongs to: a reopen starts afresh.
    round = models.PositiveSmallIntegerField(_("办理轮次"), default=0)
    days_requested = models.PositiveSmallIntegerField(_("申请天数"))
    reason = models.CharField(_("申请理由"), max_length=500)
    status = models.CharField(_("审批状态"), max_length=10, choices=Status.choices,
                              default=Status.PENDING, db_index=True)
    days_granted = models.PositiveSmallIntegerField(_("批准天数"), default=0)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, related_name="+", verbose_name=_("申请人"))
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now, db_index=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("审批人"))
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=500, blank=True)
    due_before = models.DateTimeField(_("原时限"))
    due_after = models.DateTimeField(_("延期后时限"), null=True, blank=True)
    # The grid the petition lies in (its origin cut to the grid): counted per grid.
    grid_path = models.CharField(_("所在网格路径"), max_length=255, db_index=True)

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["petition"], condition=models.Q(status="pending"),
                                    name="petition_extension_one_pending"),
            models.CheckConstraint(condition=models.Q(days_granted__lte=models.F("days_requested")),
                                   name="petition_extension_granted_le_requested"),
        ]

    def __str__(self) -> str:
        return f"延期 #{self.petition_id}"


EXTENSION_TRANSITIONS: dict[str, frozenset[str]] = {
    PetitionExtension.Status.PENDING: frozenset({PetitionExtension.Status.GRANTED,
                                                 PetitionExtension.Status.REFUSED}),
    PetitionExtension.Status.GRANTED: frozenset(),
    PetitionExtension.Status.REFUSED: frozenset(),
}
