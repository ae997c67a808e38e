"""The street's kept reports: one workbook per street, kind (月报/季报) and period."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MonthlyReport(models.Model):
    class Kind(models.TextChoices):
        MONTH = "month", _("月报")
        QUARTER = "quarter", _("季报")

    scope = models.ForeignKey("territory.Area", on_delete=models.PROTECT, related_name="+",
                              limit_choices_to={"kind": "street"}, verbose_name=_("街道"))
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices, default=Kind.MONTH)
    period_start = models.DateField(_("起始日期"))
    file = models.FileField(_("文件"), upload_to="reports/%Y/")
    generated_at = models.DateTimeField(_("生成时间"))
    generated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("生成人"))

    class Meta:
        verbose_name = _("统计报表")
        verbose_name_plural = _("统计报表")
        ordering = ["-period_start", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["scope", "kind", "period_start"],
                                    name="report_unique_period"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.get_kind_display()} {self.period_start:%Y-%m}"
