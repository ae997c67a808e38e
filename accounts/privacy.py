"""The account's part of personal-data handling (run by the privacy app): its sections of a
resident's data download, the WeChat binding's removal on deletion, and the retention of
sign-in codes and WeChat messages."""

from __future__ import annotations

from typing import Any

from accounts.models import PhoneCode, User, WechatBinding, WechatMessage
from accounts.personal_data import Identifiers, export_row
from core.retention import RetentionStep, rows_older_than


def account_export(*, user: User) -> dict[str, Any]:
    return export_row(user, ("username", "display_name", "phone", "role", "date_joined",
                             "last_login"))


def wechat_export(*, user: User) -> dict[str, Any] | None:
    """The binding, its openid shown by its first and last characters only: the download is
    a file people forward, and the whole openid would let anyone message them through the
    account's API. The messages are listed without their text (the petitions section has it),
    also after unbinding, which keeps them (wechat_unbind): then the binding's fields are null."""
    binding = WechatBinding.objects.filter(user=user).first()
    messages = list(WechatMessage.objects.filter(user=user).order_by("created_at"))
    if binding is None and not messages:
        return None
    return {
        "openid": mask_openid(binding.openid) if binding else None,
        "bound_at": binding.created_at.isoformat() if binding else None,
        "channel": binding.get_channel_display() if binding else None,
        "messages": [{"created_at": message.created_at.isoformat(),
                      "outcome": message.get_outcome_display()} for message in messages],
    }


def mask_openid(openid: str) -> str:
    return f"{openid[:3]}***{openid[-2:]}" if len(openid) > 8 else "***"


def anonymise(*, user: User, identifiers: Identifiers) -> None:
    """A deleted account is no longer bound to WeChat, and its WeChat messages go."""
    WechatBinding.objects.filter(user=user).delete()
    WechatMessage.objects.filter(user=user).delete()


EXPORT_SECTIONS = {"account": account_export, "wechat": wechat_export}

# PIPL retention: sign-in codes go after settings.RETENTION["phone_code"] days.
RETENTION_STEPS: dict[str, RetentionStep] = {
    "phone_codes": rows_older_than(PhoneCode, "created_at", "phone_code"),
    # Kept as long as the SMS outbox (RETENTION["outbox"]).
    "wechat_messages": rows_older_than(WechatMessage, "created_at", "outbox"),
}
