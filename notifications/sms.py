"""Pluggable SMS backends. settings.SMS_BACKEND names the class; console is the default."""

from __future__ import annotations

import logging
from typing import ClassVar

from django.conf import settings
from django.utils.module_loading import import_string

from core.masking import mask_phone

logger = logging.getLogger(__name__)


class BaseSmsBackend:
    """`template` names the kind of message for gateways that send approved templates only
    (notifications.sms_aliyun): "code" for a sign-in code (`params={"code": …}`), "notice" for the
    rest. Backends that send free text use `message` alone."""

    def send(self, *, phone: str, message: str, template: str = "notice",
             params: dict[str, str] | None = None) -> None:
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    """Prints the message (the demo and development). The phone is masked in the log line."""

    def send(self, *, phone: str, message: str, template: str = "notice",
             params: dict[str, str] | None = None) -> None:
        print(f"[SMS to {mask_phone(phone)}] {message}", flush=True)


class LocmemSmsBackend(BaseSmsBackend):
    """Keeps messages in memory for tests, like Django's locmem mail backend."""

    outbox: ClassVar[list[dict[str, str]]] = []

    def send(self, *, phone: str, message: str, template: str = "notice",
             params: dict[str, str] | None = None) -> None:
        self.outbox.append({"phone": phone, "message": message})


def send_sms(*, phone: str, message: str, template: str = "notice",
             params: dict[str, str] | None = None) -> None:
    backend: BaseSmsBackend = import_string(settings.SMS_BACKEND)()
    backend.send(phone=phone, message=message, template=template, params=params)
