from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.rules import is_external_system, signs_in_with_password
from accounts.services import SIX_DIGITS, phone_normalize
from core.exceptions import ApplicationError


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("手机号"), max_length=20,
        error_messages={"required": _("请输入手机号。")},
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel",
                                      "placeholder": _("11位手机号"), "autofocus": True}),
    )

    def clean_phone(self) -> str:
        try:
            return phone_normalize(self.cleaned_data["phone"])
        except ApplicationError as error:
            raise ValidationError(error.message) from None


class PhoneCodeForm(forms.Form):
    code = forms.CharField(
        label=_("验证码"), max_length=6,
        error_messages={"required": _("请输入验证码。"),
                        "max_length": _("请输入6位数字验证码。")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code",
                                      "pattern": "[0-9]{6}", "placeholder": _("6位数字"),
                                      "autofocus": True}),
    )

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"].strip()
        if not SIX_DIGITS.fullmatch(code):
            raise ValidationError(_("请输入6位数字验证码。"))
        return code


class StaffAuthenticationForm(AuthenticationForm):
    """Password sign-in for staff only: residents use their phone, systems their API key."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("用户名或密码不正确。"),
        "inactive": _("该账户已停用。"),
        "resident": _("居民账户请使用手机号验证码登录。"),
        "external_system": _("外部系统账户不能登录网页，请通过 API 密钥访问。"),
    }

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if is_external_system(user):
            raise ValidationError(self.error_messages["external_system"],
                                  code="external_system")
        # A superuser made with createsuperuser keeps the default role and must still get in.
        if not signs_in_with_password(user):
            raise ValidationError(self.error_messages["resident"], code="resident")
