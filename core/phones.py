"""Mainland mobile numbers: the one rule for every place a phone number is entered.

`\\d` in a Python pattern matches the digits of every script, so "13" and nine Arabic-Indic digits
passed for a mobile number: each variant of one number got its own sign-in code limit and its
own look-alike account. Here a number is read once, as 11 ASCII digits:

- NFKC first, so full-width digits, "＋", spaces and dashes (what a Chinese input method types)
  read as the ASCII number;
- digits of any other script are refused, never translated: no mainland user types them, and a
  number that looks like another must not become it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.fields import GenericCharField

MAINLAND_MOBILE = re.compile(r"1[3-9][0-9]{9}")
SEPARATORS = re.compile(r"[\s\-()]")

# The field's set and get types, left open so django-stubs fills them per use (null or not).
_ST = TypeVar("_ST", contravariant=True)
_GT = TypeVar("_GT", covariant=True)
COUNTRY_PREFIXES = ("+86", "0086")


def phone_normalize(raw_phone: str) -> str:
    """A mainland mobile number as 11 ASCII digits; spaces, dashes and a +86 / 0086 prefix are
    dropped. Raises ValidationError (in Chinese) for anything else."""
    phone = SEPARATORS.sub("", unicodedata.normalize("NFKC", raw_phone or ""))
    for prefix in COUNTRY_PREFIXES:
        if phone.startswith(prefix):
            phone = phone[len(prefix) :]
    if len(phone) == 13 and phone.startswith("86"):
        phone = phone[2:]
    if not MAINLAND_MOBILE.fullmatch(phone):
        raise ValidationError(_("请输入正确的11位手机号码。"), code="invalid_phone")
    return phone


def validate_mobile_phone(value: str) -> None:
    """A stored number is already normal: the model-level check behind every ModelForm."""
    if phone_normalize(value) != value:
        raise ValidationError(_("请输入正确的11位手机号码。"), code="invalid_phone")


class MobilePhoneFormField(forms.CharField):
    """Reads what was typed (full width included) as the 11-digit number before validating."""

    def to_python(self, value: Any) -> str | None:
        text = super().to_python(value)
        return text if text is None or text in self.empty_values else phone_normalize(text)


class MobilePhoneField(GenericCharField[_ST, _GT]):
    """A CharField holding a mainland mobile number as 11 ASCII digits (or blank / NULL)."""

    default_validators = [validate_mobile_phone]

    def formfield(self, **kwargs: Any) -> Any:
        return super().formfield(**{"form_class": MobilePhoneFormField, **kwargs})
