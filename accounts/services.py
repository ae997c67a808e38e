"""Account writes: resident phone sign-in with a one-time code, and API keys for other systems."""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from axes.utils import reset as axes_reset
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApiKey, PhoneCode, User
from accounts.rules import is_resident
from accounts.signals import phone_verified
from core import metrics, phones
from core.exceptions import ApplicationError, RateLimited
from core.masking import mask_phone
from notifications.sms import send_sms

if TYPE_CHECKING:
    from territory.models import Area

logger = logging.getLogger(__name__)

SIX_DIGITS = re.compile(r"\d{6}")
RATE_WINDOW = timedelta(hours=1)
# pg_advisory_xact_lock key that serialises code requests (any constant unique in this database).
CODE_REQUEST_LOCK = 0x0AC0_0001


def _code_requests_serialise() -> None:
    """Make count-then-insert exact under concurrency.

    SQLite already serialises writers (transactions start IMMEDIATE); on PostgreSQL two requests
    could both count below a limit and both insert, so they queue on one advisory lock, held
    until the transaction ends. The work inside is one aggregate and one insert.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CODE_REQUEST_LOCK])


def phone_normalize(raw_phone: str) -> str:
    """core.phones.phone_normalize, refusing as the services do (ApplicationError)."""
    try:
        return phones.phone_normalize(raw_phone)
    except ValidationError as error:
        raise ApplicationError(error.messages[0]) from None


def _phone_code_check_limits(*, phone: str, ip: str | None, now: datetime) -> None:
    """Refuse when this phone, this IP or everyone together asked too often in the last hour.

    One aggregate over the last hour's rows: the global ceiling needs that scan anyway, and
    counting rows (rather than cache counters) is exact on any cache backend.
    """
    recent = PhoneCode.objects.filter(created_at__gt=now - RATE_WINDOW)
    figures = recent.aggregate(
        total=Count("id"),
        for_phone=Count("id", filter=Q(phone=phone)),
        # No address (a unix-socket test server) must not pool every such request together.
        for_ip=Count("id", filter=Q(requested_ip=ip, requested_ip__isnull=False)),
        last_for_phone=Max("created_at", filter=Q(phone=phone)),
    )
    last_sent = figures["last_for_phone"]
    if last_sent is not None and now - last_sent < settings.OTP_RESEND_INTERVAL:
        wait = int((settings.OTP_RESEND_INTERVAL - (now - last_sent)).total_seconds()) + 1
        raise RateLimited(_("验证码已发送，请 %(seconds)d 秒后再重新获取。") % {"seconds": wait})
    if figures["for_phone"] >= settings.OTP_MAX_PER_PHONE_PER_HOUR:
        raise RateLimited(_("该手机号获取验证码过于频繁，请一小时后再试。"))
    if figures["for_ip"] >= settings.OTP_MAX_PER_IP_PER_HOUR:
        raise RateLimited(_("当前网络获取验证码过于频繁，请稍后再试。"))
    if figures["total"] >= settings.OTP_MAX_GLOBAL_PER_HOUR:
        raise RateLimited(_("系统繁忙，请稍后再试。"))


def phone_code_request(*, phone: str, ip: str | None) -> None:
    """Send a sign-in code to `phone`.

    The answer never depends on whether the phone belongs to anyone: every valid number within
    the limits gets a code, and the first correct code creates the resident's account.
    """
    phone = phone_normalize(phone)
    now = timezone.now()
    code = f"{secrets.randbelow(1_000_000):06d}"
    with transaction.atomic():
        _code_requests_serialise()
        try:
            _phone_code_check_limits(phone=phone, ip=ip, now=now)
        except RateLimited:
            metrics.SIGNIN_CODE_REQUESTS.labels(outcome="rate_limited").inc()
            raise
        PhoneCode.objects.create(
            phone=phone, code_hash=PhoneCode.hash_code(phone, code),
            expires_at=now + settings.OTP_TTL, requested_ip=ip,
        )
    minutes = int(settings.OTP_TTL.total_seconds() // 60)
    message = _("【社区治理门户】您的登录验证码是 %(code)s，%(minutes)d 分钟内有效。"
                "如非本人操作，请忽略本短信。") % {"code": code, "minutes": minutes}
    try:
        send_sms(phone=phone, message=message, template="code", params={"code": code})
    except Exception:
        metrics.SIGNIN_CODE_REQUESTS.labels(outcome="send_failed").inc()
        logger.exception("Sign-in code to %s could not be sent", mask_phone(phone))
        raise ApplicationError(_("短信发送失败，请稍后再试。")) from None
    metrics.SIGNIN_CODE_REQUESTS.labels(outcome="sent").inc()


def _phone_code_check(phone_code: PhoneCode | None, *, code: str, now: datetime) -> str | None:
    """Why this code is refused, or None. Counts a wrong try on the (locked) row."""
    if phone_code is None or phone_code.used_at is not None or phone_code.expires_at <= now:
        return _("验证码已失效，请重新获取。")
    if phone_code.attempts >= settings.OTP_MAX_ATTEMPTS:
        return _("验证码错误次数过多，请重新获取。")
    if hmac.compare_digest(phone_code.code_hash, PhoneCode.hash_code(phone_code.phone, code)):
        return None
    phone_code.attempts += 1
    phone_code.save(update_fields=["attempts", "updated_at"])
    remaining = settings.OTP_MAX_ATTEMPTS - phone_code.attempts
    if remaining <= 0:
        return _("验证码错误次数过多，请重新获取。")
    return _("验证码错误，还可以再试 %(remaining)d 次。") % {"remaining": remaining}


def _resident_user_for_phone(phone: str) -> tuple[User, bool]:
    """The resident account for `phone`, created on the first sign-in (then True)."""
    user = User.objects.filter(phone=phone).first()
    if user is not None:
        if not is_resident(user):
            raise ApplicationError(_("该手机号属于工作人员账户，请使用账号密码登录。"))
        if not user.is_active:
            raise ApplicationError(_("该账户已停用，请联系社区工作人员。"))
        return user, False
    # Not the phone itself: usernames are shown in the admin and the audit log (PIPL); the
    # last four digits help staff tell accounts apart, like a masked phone does.
    username = f"m{phone[-4:]}-{secrets.token_hex(4)}"
    # Its display name is the household record's, set by residents (phone_verified).
    user = User(username=username, phone=phone, role=User.Role.RESIDENT)
    user.set_unusable_password()
    user.save()
    return user, True


def phone_code_verify(*, phone: str, code: str, ip: str | None) -> User:
    """Check a sign-in code and return the resident's account.

    1. Only the newest code for the phone counts; it is locked so it can be used once.
    2. A wrong code counts one try, committed even though the call fails.
    3. A right code is stamped used; the account is created on first sign-in.
    4. phone_verified is sent: residents links the household records with this phone and no
       account to it, so the resident sees their household (also records added after the
       first sign-in), and names a new account after them.
    """
    phone = phone_normalize(phone)
    code = (code or "").strip()
    if not SIX_DIGITS.fullmatch(code):
        raise ApplicationError(_("请输入6位数字验证码。"))
    now = timezone.now()
    with transaction.atomic():
        phone_code = (PhoneCode.objects.select_for_update().filter(phone=phone)
                      .order_by("-created_at", "-pk").first())
        refusal = _phone_code_check(phone_code, code=code, now=now)
        user: User | None = None
        if refusal is None and phone_code is not None:
            user, created = _resident_user_for_phone(phone)
            phone_code.used_at = now
            phone_code.save(update_fields=["used_at", "updated_at"])
            phone_verified.send(sender=User, user=user, phone=phone, created=created)
    if user is None:
        logger.info("Refused sign-in code for %s from %s", mask_phone(phone), ip)
        raise ApplicationError(refusal or _("验证码已失效，请重新获取。"))
    return user


def api_key_create(*, name: str, scope_area: Area | None = None) -> tuple[ApiKey, str]:
    """A system account and its key. The raw key is returned once and never stored."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError(_("请填写系统名称。"))
    prefix, raw_key = ApiKey.generate()
    with transaction.atomic():
        user = User(username=f"api-{prefix}", role=User.Role.EXTERNAL_SYSTEM, display_name=name,
                    scope_area=scope_area)
        user.set_unusable_password()
        user.save()
        api_key = ApiKey.objects.create(name=name, prefix=prefix,
                                        key_hash=ApiKey.hash_key(raw_key), user=user)
    return api_key, raw_key


def api_key_deactivate(*, api_key: ApiKey) -> ApiKey:
    with transaction.atomic():
        api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
        if api_key.is_active:
            api_key.is_active = False
            api_key.save(update_fields=["is_active", "updated_at"])
    return api_key


def login_lockout_clear(*, username: str | None, ip_address: str | None) -> int:
    """Lift a staff sign-in lockout for one username + IP pair; returns the records removed."""
    return int(axes_reset(ip=ip_address, username=username))
