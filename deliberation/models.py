"""The deliberation day (every 15th), its topics through 提、议、决、做、评, and the three lists.

A compound holds one monthly session (议事会) per month, keyed by `period` so the scheduler can be
run twice or concurrently and still make one; joint meetings (联席会议) are called at any time.
Petitions are linked by id only (`petition_id`), so this app needs no migration of petitions'.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from datetime import date
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel


class InvitedBody(models.TextChoices):
    PARTY_BRANCH = "party_branch", _("小区党支部")
    OWNERS_COMMITTEE = "owners_committee", _("业主委员会")
    PROPERTY_COMPANY = "property_company", _("物业公司")
    GRID_WORKERS = "grid_workers", _("网格员")
    RESIDENT_REPRESENTATIVES = "resident_reps", _("居民代表")


class Session(TimeStampedModel):
    class Kind(models.TextChoices):
        MONTHLY = "monthly", _("月度议事日")
        JOINT = "joint", _("联席会议")

    class Mode(models.TextChoices):
        OFFLINE = "offline", _("线下")
        ONLINE = "online", _("线上")
        HYBRID = "hybrid", _("线上+线下")

    class Status(models.TextChoices):
        PLANNED = "planned", _("待召开")
        HELD = "held", _("已召开")
        CANCELLED = "cancelled", _("已取消")

    TRANSITIONS: ClassVar[Mapping[str, Set[str]]] = {
        Status.PLANNED: {Status.HELD, Status.CANCELLED},
        Status.HELD: set(),
        Status.CANCELLED: set(),
    }

    compound = models.ForeignKey("territory.Compound", on_delete=models.PROTECT,
                                 related_name="deliberation_sessions", verbose_name=_("小区"))
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.MONTHLY,
                            db_index=True)
    period = models.CharField(_("所属月份"), max_length=7, blank=True,
                              help_text=_("月度议事日的月份，如 2025-03"))
    title = models.CharField(_("名称"), max_length=100)
    starts_at = models.DateTimeField(_("开始时间"), db_index=True)
    ends_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    place = models.CharField(_("地点"), max_length=100, blank=True)
    mode = models.CharField(_("形式"), max_length=10, choices=Mode.choices, default=Mode.OFFLINE)
    online_link = models.CharField(_("线上会议链接"), max_length=300, blank=True)
    invited_bodies = models.JSONField(_("参会主体"), default=list, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices,
                              default=Status.PLANNED, db_index=True)
    sign_in_code = models.CharField(_("签到码"), max_length=8, blank=True)
    minutes = models.TextField(_("会议纪要"), blank=True)
    held_at = models.DateTimeField(_("召开时间"), null=True, blank=True)
    published_at = models.DateTimeField(_("公示时间"), null=True, blank=True, db_index=True)
    # Stamped by the claim that sends the residents' notice (sessions_notify_upcoming): once.
    notice_sent_at = models.DateTimeField(_("通知发送时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+", verbose_name=_("发起人"))

    class Meta:
        verbose_name = _("议事会")
        verbose_name_plural = _("议事会")
        ordering = ["-starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["compound", "period"], name="session_one_per_month",
                                    condition=models.Q(kind="monthly")),
        ]
        indexes = [
            models.Index(fields=["starts_at"], name="session_notice_due_idx",
                         condition=models.Q(notice_sent_at__isnull=True, status="planned")),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        unknown = [value for value in self.invited_bodies or [] if value not in InvitedBody.values]
        if unknown:
            raise ValidationError({"invited_bodies": _("未知的参会主体。")})
        if self.ends_at and self.ends_at < self.starts_at:
            raise ValidationError({"ends_at": _("结束时间不能早于开始时间。")})
        if self.online_link and not self.online_link.lower().startswith(("https://", "http://")):
            # Residents get it as a link: a javascript: URL would run in their session on a click.
            raise ValidationError({"online_link": _("线上会议链接须以 http:// 或 https:// 开头。")})

    @property
    def invited_labels(self) -> list[str]:
        labels = dict(InvitedBody.choices)
        return [str(labels.get(value, value)) for value in self.invited_bodies or []]


class AgendaItem(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="agenda_items",
                                verbose_name=_("议事会"))
    topic = models.ForeignKey("Topic", on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="agenda_items", verbose_name=_("议题"))
    title = models.CharField(_("议程"), max_length=200)
    starts_at = models.TimeField(_("开始"), null=True, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(_("时长(分钟)"), default=15)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("议程")
        verbose_name_plural = _("议程")
        ordering = ["session_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "topic"], name="agenda_topic_once"),
        ]

    def __str__(self) -> str:
        return self.title


class SessionAttendance(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendances",
                                verbose_name=_("议事会"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+", verbose_name=_("签到人"))
    signed_in_at = models.DateTimeField(_("签到时间"), auto_now_add=True)
    # Set when staff entered it from the paper sign-in list after the session (else self-signed).
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("补录人"))

    class Meta:
        verbose_name = _("签到")
        verbose_name_plural = _("签到")
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="attendance_once"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}:{self.user_id}"


class SessionSignUp(models.Model):
    """报名: a resident says they will come. One row a user and session; cancelling stamps it
    (and signing up again clears the stamp), so the row keeps when they first signed up."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="sign_ups",
                                verbose_name=_("议事会"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+", verbose_name=_("报名人"))
    household = models.ForeignKey("residents.Household", on_delete=models.SET_NULL, null=True,
                                  blank=True, related_name="+", verbose_name=_("户"))
    created_at = models.DateTimeField(_("报名时间"), auto_now_add=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("报名")
        verbose_name_plural = _("报名")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="sign_up_once"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}:{self.user_id}"


class NoticePreference(models.Model):
    """A resident's opt-in to deliberation SMS (the inbox always gets the notice). Consent is
    dated (PIPL): withdrawing keeps the date it was given."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="deliberation_notice_preference",
                                verbose_name=_("用户"))
    sms_opt_in = models.BooleanField(_("短信通知"), default=False)
    sms_consent_at = models.DateTimeField(_("同意短信时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("议事通知设置")
        verbose_name_plural = _("议事通知设置")

    def __str__(self) -> str:
        return str(self.user_id)


# The proposer of every referred topic: stored as data in the source language, whatever the
# language of the staff member who referred it (the topic is read by the compound's residents).
REFERRAL_PROPOSER = "居民"


class Topic(TimeStampedModel):
    class Status(models.TextChoices):
        PROPOSED = "proposed", _("提：征集附议")
        DELIBERATING = "deliberating", _("议：上会协商")
        DECIDED = "decided", _("决：已决议")
        EXECUTING = "executing", _("做：落实中")
        EVALUATING = "evaluating", _("评：评议中")
        CLOSED = "closed", _("已办结")
        REJECTED = "rejected", _("未通过")

    TRANSITIONS: ClassVar[Mapping[str, Set[str]]] = {
        Status.PROPOSED: {Status.DELIBERATING, Status.REJECTED},
        Status.DELIBERATING: {Status.DECIDED, Status.REJECTED},
        Status.DECIDED: {Status.EXECUTING, Status.EVALUATING},
        Status.EXECUTING: {Status.EVALUATING},
        Status.EVALUATING: {Status.CLOSED},
        Status.CLOSED: set(),
        Status.REJECTED: set(),
    }
    STEP_ORDER = [Status.PROPOSED, Status.DELIBERATING, Status.DECIDED, Status.EXECUTING,
                  Status.EVALUATING, Status.CLOSED]

    class Channel(models.TextChoices):
        ONLINE = "online", _("线上提议")
        OFFLINE = "offline", _("线下代录")
        PETITION = "petition", _("诉求转议")

    class Scale(models.TextChoices):
        SMALL = "small", _("小事（现场议定）")
        BIG = "big", _("大事（联席会议）")

    class DecisionMode(models.TextChoices):
        CONSENSUS = "consensus", _("协商一致")
        VOTE = "vote", _("表决")

    compound = models.ForeignKey("territory.Compound", on_delete=models.PROTECT,
                                 related_name="deliberation_topics", verbose_name=_("小区"))
    title = models.CharField(_("议题"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    channel = models.CharField(_("来源"), max_length=10, choices=Channel.choices,
                               default=Channel.ONLINE)
    scale = models.CharField(_("事项大小"), max_length=8, choices=Scale.choices,
                             default=Scale.SMALL)
    status = models.CharField(_("阶段"), max_length=14, choices=Status.choices,
                              default=Status.PROPOSED, db_index=True)
    proposer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="+", verbose_name=_("提议人账户"))
    proposer_name = models.CharField(_("提议人"), max_length=50, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("代录人"))
    petition_id = models.PositiveBigIntegerField(_("来源诉求编号"), null=True, blank=True,
                                                 db_index=True)
    support_count = models.PositiveIntegerField(_("附议数"), default=0)
    session = models.ForeignKey(Session, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="topics", verbose_name=_("上会议事会"))
    decision_text = models.TextField(_("决议"), blank=True)
    decision_mode = models.CharField(_("决议方式"), max_length=10,
                                     choices=DecisionMode.choices, blank=True)
    eligible_voters = models.PositiveIntegerField(_("应到人数"), null=True, blank=True)
    votes_for = models.PositiveIntegerField(_("赞成"), default=0)
    votes_against = models.PositiveIntegerField(_("反对"), default=0)
    votes_abstain = models.PositiveIntegerField(_("弃权"), default=0)
    decided_at = models.DateTimeField(_("决议时间"), null=True, blank=True)
    review_on = models.DateField(_("评议日期"), null=True, blank=True, db_index=True)
    # Stamped by the claim that reminds staff and the proposer on `review_on` (once).
    review_reminded_at = models.DateTimeField(_("评议提醒时间"), null=True, blank=True)
    # Set when the topic reaches 评: residents rate until then, and it cannot be closed before.
    evaluation_ends_at = models.DateTimeField(_("评议截止"), null=True, blank=True)
    evaluation_note = models.TextField(
        _("线下评议记录"), blank=True,
        help_text=_("没有居民在线评议时，记录评议会或入户回访的人数和意见"))
    outcome = models.TextField(_("办理结果"), blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    published_at = models.DateTimeField(_("公示时间"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("议题")
        verbose_name_plural = _("议题")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["compound", "status"])]

    def __str__(self) -> str:
        return self.title

    @property
    def votes_cast(self) -> int:
        return self.votes_for + self.votes_against + self.votes_abstain

    @property
    def step_index(self) -> int:
        if self.status == self.Status.REJECTED:
            return len(self.STEP_ORDER) - 1
        return self.STEP_ORDER.index(self.Status(self.status))


class TopicStatusChange(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="status_changes",
                              verbose_name=_("议题"))
    old_status = models.CharField(_("原阶段"), max_length=14, blank=True)
    new_status = models.CharField(_("新阶段"), max_length=14)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("操作人"))
    reason = models.CharField(_("说明"), max_length=300, blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("议题进程")
        verbose_name_plural = _("议题进程")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.old_status} → {self.new_status}"

    @property
    def new_label(self) -> str:
        return str(dict(Topic.Status.choices).get(self.new_status, self.new_status))


class TopicSupport(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="supports",
                              verbose_name=_("议题"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+", verbose_name=_("附议人"))
    # One support a household. Null only on rows from before the rule whose user had no
    # household, or whose household had already supported (kept and still counted: see 0003).
    household = models.ForeignKey("residents.Household", on_delete=models.SET_NULL, null=True,
                                  blank=True, related_name="+", verbose_name=_("户"))
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("附议")
        verbose_name_plural = _("附议")
        constraints = [
            models.UniqueConstraint(fields=["topic", "user"], name="support_once"),
            models.UniqueConstraint(fields=["topic", "household"],
                                    name="support_once_per_household",
                                    condition=models.Q(household__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.topic_id}:{self.user_id}"


class TopicOpinion(models.Model):
    class Stance(models.TextChoices):
        FOR = "for", _("支持")
        AGAINST = "against", _("反对")
        NEUTRAL = "neutral", _("建议")

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="opinions",
                              verbose_name=_("议题"))
    speaker = models.CharField(_("发言人"), max_length=50)
    stance = models.CharField(_("态度"), max_length=10, choices=Stance.choices,
                              default=Stance.NEUTRAL)
    body = models.TextField(_("意见"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, related_name="+", verbose_name=_("记录人"))
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("议事意见")
        verbose_name_plural = _("议事意见")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.speaker}：{self.body[:20]}"


class TopicComment(models.Model):
    """A resident's or staff member's comment in the topic's one thread.

    `author_label` is the masked name shown to everyone else (张* · 3栋), fixed when written.
    Staff hide a comment with a recorded reason (it stays, greyed, for the record); its author
    may edit it only until someone comments after it.
    """

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="comments",
                              verbose_name=_("议题"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                               related_name="+", verbose_name=_("发言人"))
    author_label = models.CharField(_("署名"), max_length=60)
    body = models.TextField(_("内容"), max_length=1000)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    edited_at = models.DateTimeField(_("修改时间"), null=True, blank=True)
    hidden_at = models.DateTimeField(_("屏蔽时间"), null=True, blank=True)
    hidden_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                  blank=True, related_name="+", verbose_name=_("屏蔽人"))
    hidden_reason = models.CharField(_("屏蔽理由"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("议题讨论")
        verbose_name_plural = _("议题讨论")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hidden_at__isnull=True) | ~models.Q(hidden_reason=""),
                name="comment_hidden_needs_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.author_label}：{self.body[:20]}"

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class ActionItemQuerySet(models.QuerySet["ActionItem"]):
    def open_first(self) -> ActionItemQuerySet:
        """Open items by deadline (the most urgent on top), then the ticked-off, latest first."""
        is_done = models.Case(models.When(status=ActionItem.Status.OPEN, then=0), default=1,
                              output_field=models.IntegerField())
        return self.order_by(is_done, "deadline", models.F("done_at").desc(nulls_last=True),
                             "id")


class ActionItem(TimeStampedModel):
    class Status(models.TextChoices):
        OPEN = "open", _("落实中")
        DONE = "done", _("已销号")

    TRANSITIONS: ClassVar[Mapping[str, Set[str]]] = {Status.OPEN: {Status.DONE}, Status.DONE: set()}

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="action_items",
                              verbose_name=_("议题"))
    title = models.CharField(_("事项"), max_length=200)
    owner_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="deliberation_action_items",
                                   verbose_name=_("责任人账户"))
    owner_body = models.ForeignKey("governance.Body", on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="deliberation_action_items",
                                   verbose_name=_("责任主体"))
    owner_name = models.CharField(_("责任人"), max_length=100)
    deadline = models.DateField(_("完成时限"), db_index=True)
    progress = models.PositiveSmallIntegerField(_("进度(%)"), default=0)
    progress_note = models.TextField(_("进展说明"), blank=True)
    status = models.CharField(_("状态"), max_length=6, choices=Status.choices,
                              default=Status.OPEN, db_index=True)
    done_at = models.DateTimeField(_("销号时间"), null=True, blank=True)
    reminded_before_at = models.DateTimeField(_("到期前提醒"), null=True, blank=True)
    reminded_after_at = models.DateTimeField(_("逾期提醒"), null=True, blank=True)

    objects = ActionItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("落实事项")
        verbose_name_plural = _("落实事项")
        ordering = ["deadline", "id"]
        indexes = [
            models.Index(fields=["deadline"], name="action_open_deadline_idx",
                         condition=models.Q(status="open")),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100),
                                   name="action_progress_max_100"),
        ]

    def __str__(self) -> str:
        return self.title


class ActionEvidence(models.Model):
    action_item = models.ForeignKey(ActionItem, on_delete=models.CASCADE,
                                    related_name="evidence", verbose_name=_("落实事项"))
    photo = models.ImageField(_("照片"), upload_to="deliberation/evidence/%Y/%m/")
    caption = models.CharField(_("说明"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, related_name="+", verbose_name=_("上传人"))
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("佐证照片")
        verbose_name_plural = _("佐证照片")

    def __str__(self) -> str:
        return self.caption or f"#{self.pk}"


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASICALLY = "basically", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")


class TopicRating(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="ratings",
                              verbose_name=_("议题"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+", verbose_name=_("评议人"))
    # One rating a household (null only on rows from before the rule, as TopicSupport).
    household = models.ForeignKey("residents.Household", on_delete=models.SET_NULL, null=True,
                                  blank=True, related_name="+", verbose_name=_("户"))
    score = models.CharField(_("评价"), max_length=12, choices=Satisfaction.choices)
    comment = models.CharField(_("意见"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("议题评议")
        verbose_name_plural = _("议题评议")
        constraints = [
            models.UniqueConstraint(fields=["topic", "user"], name="rating_once"),
            models.UniqueConstraint(fields=["topic", "household"],
                                    name="rating_once_per_household",
                                    condition=models.Q(household__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.get_score_display()


class Survey(TimeStampedModel):
    """A questionnaire for one compound: built by staff as a draft, opened for a window of days
    (`opened_at` set, questions frozen), answered once a household, its results published to the
    residents after `closes_on`. The quarterly satisfaction survey is one of these, with one
    single-choice question (`SurveyQuestion.Code.SATISFACTION`) and its year and quarter."""

    class Kind(models.TextChoices):
        QUARTERLY = "quarterly", _("季度满意度测评")
        QUESTIONNAIRE = "questionnaire", _("问卷")

    compound = models.ForeignKey("territory.Compound", on_delete=models.PROTECT,
                                 related_name="deliberation_surveys", verbose_name=_("小区"))
    kind = models.CharField(_("类型"), max_length=14, choices=Kind.choices,
                            default=Kind.QUESTIONNAIRE, db_index=True)
    year = models.PositiveSmallIntegerField(_("年度"), null=True, blank=True)
    quarter = models.PositiveSmallIntegerField(_("季度"), null=True, blank=True)
    title = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    opens_on = models.DateField(_("开始日期"))
    closes_on = models.DateField(_("截止日期"), db_index=True)
    # Null while staff build it (a draft residents never see); set when it is opened.
    opened_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("创建人"))

    class Meta:
        verbose_name = _("问卷测评")
        verbose_name_plural = _("问卷测评")
        ordering = ["-closes_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["compound", "year", "quarter"],
                                    name="survey_one_per_quarter"),
            models.CheckConstraint(condition=models.Q(quarter__gte=1, quarter__lte=4),
                                   name="survey_quarter_1_4"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_draft(self) -> bool:
        return self.opened_at is None

    def is_open_on(self, day: date) -> bool:
        return not self.is_draft and self.opens_on <= day <= self.closes_on

    def is_closed_on(self, day: date) -> bool:
        """Closed and so published: its results are the residents' from the next day on."""
        return not self.is_draft and day > self.closes_on


class SurveyQuestion(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", _("单选")
        MULTIPLE = "multiple", _("多选")
        SCALE = "scale", _("1–5 分")
        TEXT = "text", _("简答")

    class Code(models.TextChoices):
        """The quarterly survey's questions, which the satisfaction trend and the needs list
        read; a built questionnaire's questions have none."""

        SATISFACTION = "satisfaction", _("总体评价")
        COMMENT = "comment", _("意见建议")
        NEED = "need", _("希望解决的一件事")

    CHOICE_KINDS: ClassVar[Set[str]] = {Kind.SINGLE, Kind.MULTIPLE}
    SCALE_MIN: ClassVar[int] = 1
    SCALE_MAX: ClassVar[int] = 5

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions",
                               verbose_name=_("问卷"))
    position = models.PositiveSmallIntegerField(_("顺序"), default=1)
    kind = models.CharField(_("题型"), max_length=10, choices=Kind.choices)
    text = models.CharField(_("题目"), max_length=200)
    is_required = models.BooleanField(_("必答"), default=True)
    code = models.CharField(_("用途"), max_length=14, choices=Code.choices, blank=True)

    class Meta:
        verbose_name = _("问卷题目")
        verbose_name_plural = _("问卷题目")
        ordering = ["survey_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "position"],
                                    name="survey_question_position_once"),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def is_choice(self) -> bool:
        return self.kind in self.CHOICE_KINDS


class SurveyOption(models.Model):
    question = models.ForeignKey(SurveyQuestion, on_delete=models.CASCADE,
                                 related_name="options", verbose_name=_("题目"))
    position = models.PositiveSmallIntegerField(_("顺序"), default=1)
    label = models.CharField(_("选项"), max_length=100)
    # The quarterly survey's options carry the Satisfaction value they stand for.
    code = models.CharField(_("取值"), max_length=14, blank=True)

    class Meta:
        verbose_name = _("选项")
        verbose_name_plural = _("选项")
        ordering = ["question_id", "position", "id"]

    def __str__(self) -> str:
        return self.label


class SurveyAnswer(models.Model):
    """One household's filled-in questionnaire (its answers are `responses`)."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="answers",
                               verbose_name=_("测评"))
    household = models.ForeignKey("residents.Household", on_delete=models.CASCADE,
                                  related_name="+", verbose_name=_("户"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                             related_name="+", verbose_name=_("答卷人"))
    # The quarterly survey's two answers, kept on the row for its trend and the API;
    # the same answers are also responses to its questions.
    satisfaction = models.CharField(_("总体评价"), max_length=12, choices=Satisfaction.choices,
                                    blank=True)
    comment = models.CharField(_("意见建议"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("测评答卷")
        verbose_name_plural = _("测评答卷")
        constraints = [
            models.UniqueConstraint(fields=["survey", "household"],
                                    name="survey_answer_one_per_household"),
        ]

    def __str__(self) -> str:
        return self.get_satisfaction_display() or f"#{self.pk}"


class SurveyResponse(models.Model):
    """One answer to one question: a chosen option (one row per option of a multiple choice),
    a 1–5 score, or a short text."""

    answer = models.ForeignKey(SurveyAnswer, on_delete=models.CASCADE, related_name="responses",
                               verbose_name=_("答卷"))
    question = models.ForeignKey(SurveyQuestion, on_delete=models.CASCADE,
                                 related_name="responses", verbose_name=_("题目"))
    option = models.ForeignKey(SurveyOption, on_delete=models.CASCADE, null=True, blank=True,
                               related_name="responses", verbose_name=_("选项"))
    scale = models.PositiveSmallIntegerField(_("分数"), null=True, blank=True)
    text = models.CharField(_("回答"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("答题")
        verbose_name_plural = _("答题")
        ordering = ["answer_id", "question_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["answer", "option"], name="survey_option_once",
                                    condition=models.Q(option__isnull=False)),
            models.CheckConstraint(condition=models.Q(scale__gte=1, scale__lte=5),
                                   name="survey_scale_1_5"),
        ]

    def __str__(self) -> str:
        return f"{self.answer_id}:{self.question_id}"


class Need(TimeStampedModel):
    """需求清单."""

    class Source(models.TextChoices):
        SURVEY = "survey", _("满意度测评")
        TOPIC = "topic", _("议题")
        PETITION = "petition", _("诉求")
        HOTLINE = "hotline", _("12345/诉速办")
        VISIT = "visit", _("走访")

    class Status(models.TextChoices):
        OPEN = "open", _("待认领")
        MATCHED = "matched", _("已对接")
        RESOLVED = "resolved", _("已解决")

    TRANSITIONS: ClassVar[Mapping[str, Set[str]]] = {
        Status.OPEN: {Status.MATCHED, Status.RESOLVED},
        Status.MATCHED: {Status.RESOLVED},
        Status.RESOLVED: set(),
    }

    compound = models.ForeignKey("territory.Compound", on_delete=models.PROTECT,
                                 related_name="deliberation_needs", verbose_name=_("小区"))
    title = models.CharField(_("需求"), max_length=200)
    detail = models.TextField(_("说明"), blank=True)
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices, db_index=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices,
                              default=Status.OPEN, db_index=True)
    topic = models.ForeignKey(Topic, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="needs", verbose_name=_("关联议题"))
    petition_id = models.PositiveBigIntegerField(_("关联诉求编号"), null=True, blank=True,
                                                 db_index=True)
    survey_answer = models.ForeignKey(SurveyAnswer, on_delete=models.SET_NULL, null=True,
                                      blank=True, related_name="needs",
                                      verbose_name=_("来源答卷"))
    resolution = models.CharField(_("解决情况"), max_length=300, blank=True)
    resolved_at = models.DateTimeField(_("解决时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("需求清单")
        verbose_name_plural = _("需求清单")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class Resource(TimeStampedModel):
    """资源清单."""

    class Kind(models.TextChoices):
        PARTNER_UNIT = "partner_unit", _("共建单位")
        IN_SERVICE_MEMBER = "in_service_member", _("在职党员")
        ORGANISATION = "organisation", _("社会组织")

    compound = models.ForeignKey("territory.Compound", on_delete=models.PROTECT,
                                 related_name="deliberation_resources", verbose_name=_("小区"))
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, db_index=True)
    name = models.CharField(_("名称"), max_length=100)
    body = models.ForeignKey("governance.Body", on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+", verbose_name=_("对应主体"))
    party_member = models.ForeignKey("residents.PartyMember", on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("对应党员"))
    offers = models.TextField(_("可提供"))
    contact = models.CharField(_("联系人"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("资源清单")
        verbose_name_plural = _("资源清单")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class Project(TimeStampedModel):
    """项目清单: each project is ticked off (销号) when done."""

    class Kind(models.TextChoices):
        LIVELIHOOD = "livelihood", _("民生项目")
        CO_BUILDING = "co_building", _("共建项目")

    class Status(models.TextChoices):
        PLANNED = "planned", _("谋划中")
        IN_PROGRESS = "in_progress", _("实施中")
        TICKED_OFF = "ticked_off", _("已销号")

    TRANSITIONS: ClassVar[Mapping[str, Set[str]]] = {
        Status.PLANNED: {Status.IN_PROGRESS, Status.TICKED_OFF},
        Status.IN_PROGRESS: {Status.TICKED_OFF},
        Status.TICKED_OFF: set(),
    }

    compound = models.ForeignKey("territory.Compound", on_delete=models.PROTECT,
                                 related_name="deliberation_projects", verbose_name=_("小区"))
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices, db_index=True)
    title = models.CharField(_("项目"), max_length=200)
    owner_name = models.CharField(_("牵头人/单位"), max_length=100)
    owner_body = models.ForeignKey("governance.Body", on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+", verbose_name=_("牵头主体"))
    budget = models.DecimalField(_("预算(元)"), max_digits=12, decimal_places=2, default=0)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices,
                              default=Status.PLANNED, db_index=True)
    topic = models.ForeignKey(Topic, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="projects", verbose_name=_("关联议题"))
    needs = models.ManyToManyField(Need, blank=True, related_name="projects",
                                   verbose_name=_("对应需求"))
    resources = models.ManyToManyField(Resource, blank=True, related_name="projects",
                                       verbose_name=_("对接资源"))
    ticked_off_at = models.DateTimeField(_("销号时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("项目清单")
        verbose_name_plural = _("项目清单")
        ordering = ["kind", "id"]

    def __str__(self) -> str:
        return self.title


class Milestone(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones",
                                verbose_name=_("项目"))
    title = models.CharField(_("节点"), max_length=200)
    due_on = models.DateField(_("计划日期"))
    done_on = models.DateField(_("完成日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("项目节点")
        verbose_name_plural = _("项目节点")
        ordering = ["project_id", "due_on", "id"]

    def __str__(self) -> str:
        return self.title


class ListReview(models.Model):
    """The quarterly review of the three lists; the row is the reminder and its tick."""

    compound = models.ForeignKey("territory.Compound", on_delete=models.CASCADE,
                                 related_name="+", verbose_name=_("小区"))
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"))
    created_at = models.DateTimeField(_("提醒时间"), auto_now_add=True)
    reviewed_at = models.DateTimeField(_("复盘时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("复盘人"))

    class Meta:
        verbose_name = _("三张清单季度复盘")
        verbose_name_plural = _("三张清单季度复盘")
        constraints = [
            models.UniqueConstraint(fields=["compound", "year", "quarter"],
                                    name="list_review_one_per_quarter"),
        ]

    def __str__(self) -> str:
        return f"{self.year}年第{self.quarter}季度"
