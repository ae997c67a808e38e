from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

WEEKEND_START = 5  # date.weekday(): Saturday


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class StatusChange(models.Model):
    """A workflow's status-change row (old, new, actor, note, at): the timeline and the audit."""

    old_status = models.CharField(_("原状态"), max_length=10, blank=True)
    new_status = models.CharField(_("新状态"), max_length=10)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("操作人"))
    note = models.CharField(_("备注"), max_length=200, blank=True)
    at = models.DateTimeField(_("时间"))

    class Meta:
        abstract = True
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.old_status}→{self.new_status}"


class AuditEvent(models.Model):
    """One row per admin change, per reveal or export of masked personal data, and per view of
    a photo by someone it is not about (PIPL).

    Append-only: the admin shows it read-only and nothing in the code updates or deletes a row.
    `fields` names the fields touched or revealed, never their values.
    """

    class Action(models.TextChoices):
        ADD = "add", _("新增")
        CHANGE = "change", _("修改")
        DELETE = "delete", _("删除")
        REVEAL = "reveal", _("查看完整信息")
        EXPORT = "export", _("导出")
        MEDIA_VIEW = "media_view", _("查看照片")

    at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("操作人"))
    actor_label = models.CharField(_("操作人账号"), max_length=150, blank=True)
    action = models.CharField(_("动作"), max_length=10, choices=Action.choices)
    object_type = models.CharField(_("对象类型"), max_length=100)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    fields = models.JSONField(_("字段"), default=list, blank=True)
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    request_id = models.CharField(_("请求编号"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.object_type}#{self.object_id}"


class CalendarYear(models.Model):
    """A year of the statutory calendar (法定节假日), entered from the State Council's notice.

    The holiday table covers a year only when its row says it is complete: a year with no row,
    or one still being entered, is unknown (working days over it are counted Monday to Friday
    and the result is flagged), which is not the same as a year that has no holidays.
    """

    year = models.PositiveSmallIntegerField(
        _("年份"), primary_key=True, validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    is_complete = models.BooleanField(
        _("已录入完整"), default=False,
        help_text=_("录入当年全部放假和调休上班日期后再勾选；未勾选的年份按周一至周五估算工作日。"))
    source = models.CharField(_("依据"), max_length=200, blank=True,
                              help_text=_("如：国务院办公厅关于2027年部分节假日安排的通知"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("节假日年度")
        verbose_name_plural = _("节假日年度")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(_("%(year)s年") % {"year": self.year})


class CalendarDay(models.Model):
    """One day that differs from the Monday-to-Friday week: a day off, or a weekend day made a
    working day (调休上班). Every other day of a covered year is an ordinary one."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("放假")
        WORKDAY = "workday", _("调休上班")

    year = models.ForeignKey(CalendarYear, on_delete=models.CASCADE, related_name="days",
                             verbose_name=_("年份"))
    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("节日"), max_length=60, help_text=_("如：春节、国庆节"))

    class Meta:
        verbose_name = _("放假调休日期")
        verbose_name_plural = _("放假调休日期")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}（{self.get_kind_display()}）"

    def clean(self) -> None:
        if self.date is None:
            return
        if self.year_id is not None and self.date.year != self.year_id:
            raise ValidationError({"date": _("日期须在所选年份内。")})
        if self.kind == self.Kind.WORKDAY and self.date.weekday() < WEEKEND_START:
            raise ValidationError({"kind": _("调休上班日应为周六或周日。")})
