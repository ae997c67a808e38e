from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import ClassVar, Self

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.fields import EncryptedTextField
from core.masking import mask_phone
from core.models import TimeStampedModel
from core.phones import MobilePhoneField


class User(AbstractUser):
    """Every person or system that signs in. Staff sign in with a password, residents by phone."""

    class Role(models.TextChoices):
        RESIDENT = "resident", _("居民")
        MICROGRID_WORKER = "microgrid_worker", _("微网格员")
        GRID_WORKER = "grid_worker", _("专职网格员")
        COMMUNITY_STAFF = "community_staff", _("社区工作人员")
        STREET_ADMIN = "street_admin", _("街道管理员")
        EXTERNAL_SYSTEM = "external_system", _("外部系统")

    STAFF_ROLES = frozenset(
        {Role.MICROGRID_WORKER, Role.GRID_WORKER, Role.COMMUNITY_STAFF, Role.STREET_ADMIN}
    )

    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.RESIDENT,
                            db_index=True)
    phone = MobilePhoneField(_("手机号"), max_length=20, unique=True, null=True, blank=True)
    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    scope_area = models.ForeignKey(
        "territory.Area", verbose_name=_("管辖范围"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="scoped_users",
        help_text=_("工作人员可见的区域（含下级）"),
    )

    objects: ClassVar[UserManager[Self]] = UserManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_staff_role(self) -> bool:
        return self.role in self.STAFF_ROLES


class PhoneCode(TimeStampedModel):
    """A one-time sign-in code. Only its hash is stored."""

    phone = models.CharField(_("手机号"), max_length=20, db_index=True)
    code_hash = models.CharField(_("验证码摘要"), max_length=64)
    expires_at = models.DateTimeField(_("过期时间"))
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    requested_ip = models.GenericIPAddressField(_("请求IP"), null=True, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        indexes = [
            models.Index(fields=["phone", "-created_at"]),
            # The per-IP rate limit counts recent rows (created_at alone serves the global one).
            models.Index(fields=["requested_ip", "created_at"], name="phonecode_ip_created"),
        ]

    def __str__(self) -> str:
        return mask_phone(self.phone)

    @staticmethod
    def hash_code(phone: str, code: str) -> str:
        # Keyed with SECRET_KEY: a leaked table alone cannot be brute-forced over 10^6 codes.
        message = f"{phone}:{code}".encode()
        return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


class ApiKey(TimeStampedModel):
    """A key for an external system (the 12345 hotline, 诉速办). Only a hash is stored."""

    name = models.CharField(_("名称"), max_length=100)
    prefix = models.CharField(_("前缀"), max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="api_key",
                                verbose_name=_("系统账户"))
    webhook_url = models.URLField(_("回调地址"), blank=True)
    webhook_secret = models.CharField(_("回调签名密钥"), max_length=64, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("API 密钥")
        verbose_name_plural = _("API 密钥")

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def hash_key(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @staticmethod
    def generate() -> tuple[str, str]:
        """Return (prefix, raw key). The raw key is shown once and never stored."""
        prefix = secrets.token_hex(4)
        return prefix, f"{prefix}.{secrets.token_urlsafe(32)}"


class LoginAttempt(AccessAttempt):
    """django-axes' failed staff sign-ins, shown in Chinese in the admin (a proxy, no table)."""

    class Meta:
        proxy = True
        verbose_name = _("登录失败记录")
        verbose_name_plural = _("登录失败记录")


class WechatBinding(TimeStampedModel):
    """The WeChat account (its openid in our Official Account) that signs a resident in.

    One openid, one account: the digest column is unique. The openid itself is encrypted at
    rest (core.fields) and never shown, logged or exported whole; it is found by its digest
    (accounts.wechat.openid_digest: HMAC under the blind-index key, case kept).
    """

    class Channel(models.TextChoices):
        WECHAT = "wechat", _("微信消息（发送失败时改发短信）")
        BOTH = "both", _("微信消息和短信都发")
        SMS = "sms", _("只发短信")

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="wechat_binding",
                                verbose_name=_("用户"))
    openid = EncryptedTextField(_("openid"))
    openid_digest = models.CharField(max_length=64, unique=True, editable=False)
    channel = models.CharField(_("消息渠道"), max_length=10, choices=Channel.choices,
                               default=Channel.WECHAT)

    class Meta:
        verbose_name = _("微信绑定")
        verbose_name_plural = _("微信绑定")

    def __str__(self) -> str:
        return f"{self.user} · {_('微信')}"


class WechatMessage(models.Model):
    """The outbox of WeChat template messages (like notifications.OutboundMessage for SMS).

    A service writes the row inside its transaction; `wechat_outbox_deliver` sends it after
    commit, retrying with backoff (`next_attempt_at`). When WeChat refuses it for good (the
    resident unfollowed the account, …) or every attempt failed, the SMS text kept beside it
    goes to the account's phone instead (`outcome` says which happened).
    """

    class Outcome(models.TextChoices):
        SENT = "sent", _("已通过微信送达")
        FELL_BACK = "sms", _("已改发短信")
        DROPPED = "dropped", _("未发送")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="wechat_messages",
                             verbose_name=_("接收人"))
    template = models.CharField(_("模板"), max_length=40)
    data = models.JSONField(_("内容"), default=dict)
    link = models.CharField(_("链接"), max_length=300, blank=True)
    sms_body = models.TextField(_("短信内容（改发时）"), blank=True)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    next_attempt_at = models.DateTimeField(_("下次尝试"))
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.CharField(_("最近错误"), max_length=200, blank=True)
    processed_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    outcome = models.CharField(_("结果"), max_length=10, choices=Outcome.choices, blank=True)

    class Meta:
        verbose_name = _("微信消息")
        verbose_name_plural = _("微信消息")
        indexes = [
            models.Index(fields=["next_attempt_at"], name="wechat_outbox_pending_idx",
                         condition=models.Q(processed_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{_('微信消息')} #{self.pk}"
