"""The in-portal inbox and the outbox of outbound messages (SMS).

Services write rows; a task delivers outbox rows and stamps `processed_at` (Healthchecks' Flip).
A unique `dedupe_key` makes a second writer of the same event harmless.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from notifications.messages import message_render


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notifications", verbose_name=_("接收人"))
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(_("链接"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    # The untranslated msgids of title and body and their parameters (notifications.messages):
    # the inbox shows them in the reader's language. Empty: the stored text is shown as it is.
    # Database defaults too: rows written by raw SQL that predates the keys (and any outside
    # writer) stay valid, and read as their stored text.
    title_key = models.TextField(blank=True, default="", db_default="")
    body_key = models.TextField(blank=True, default="", db_default="")
    params = models.JSONField(blank=True, default=dict, db_default={})

    class Meta:
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def display_title(self) -> str:
        """The title in the active language (the stored text for a row without a msgid)."""
        return self._display(self.title_key, self.title)

    @property
    def display_body(self) -> str:
        return self._display(self.body_key, self.body)

    def _display(self, key: str, text: str) -> str:
        if not key:
            return text
        return message_render(key, self.params or {}, fallback=text)


class OutboundMessage(models.Model):
    class Channel(models.TextChoices):
        SMS = "sms", _("短信")

    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices,
                               default=Channel.SMS)
    recipient = models.CharField(_("接收方"), max_length=100)
    body = models.TextField(_("内容"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    processed_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.CharField(_("最近错误"), max_length=300, blank=True)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    # Past the per-recipient limit (sms_enqueue): kept, with the reason in last_error, never sent.
    suppressed_at = models.DateTimeField(_("拦截时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("外发消息")
        verbose_name_plural = _("外发消息")
        indexes = [
            models.Index(fields=["created_at"], name="outbox_pending_idx",
                         condition=models.Q(processed_at__isnull=True,
                                            suppressed_at__isnull=True)),
            # The per-recipient limit counts a number's last day of messages.
            models.Index(fields=["recipient", "created_at"], name="outbox_recipient_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} #{self.pk}"
