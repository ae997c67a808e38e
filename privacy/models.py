"""Personal-data duties' own records: residents' requests to delete their account."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.models import TimeStampedModel


class DeletionRequest(TimeStampedModel):
    """A resident's request to delete their account (PIPL art. 47), decided by community staff.

    Approval anonymises the account and everything that must stay (privacy.services
    .account_anonymise); the request row stays as the record that it was done, holding nothing
    that identifies the person once approved.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已注销")
        REJECTED = "rejected", _("未通过")
        CANCELLED = "cancelled", _("已撤回")

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        Status.PENDING: frozenset({Status.APPROVED, Status.REJECTED, Status.CANCELLED}),
    }

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="deletion_requests",
                             verbose_name=_("账户"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices,
                              default=Status.PENDING, db_index=True)
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    # The micro-grid path of the resident's household when asked: the staff who decide are
    # those whose scope covers it ("" when the account has no household: street staff decide).
    household_path = models.CharField(_("区域路径"), max_length=255, blank=True, db_index=True)
    decided_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("审核人"))
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_note = models.CharField(_("审核意见"), max_length=200, blank=True)

    class Meta:
        # Its table from when it lived in accounts (privacy/migrations/0001 only takes it over).
        db_table = "accounts_deletionrequest"
        verbose_name = _("注销申请")
        verbose_name_plural = _("注销申请")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=models.Q(status="pending"),
                                    name="deletion_request_one_pending"),
        ]

    def __str__(self) -> str:
        return str(_("注销申请 #%(id)s") % {"id": self.pk})
