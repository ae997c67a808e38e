from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import User
from core.masking import mask_phone
from territory.models import Area


class PhoneCodeRequestInputSerializer(serializers.Serializer[Any]):  # input only: no instance
    phone = serializers.CharField(max_length=20, help_text="中国大陆手机号（11位）")


class PhoneCodeVerifyInputSerializer(serializers.Serializer[Any]):  # input only: no instance
    phone = serializers.CharField(max_length=20)
    code = serializers.CharField(max_length=6, help_text="短信中的6位数字验证码")


class PhoneCodeSentOutputSerializer(serializers.Serializer[dict[str, Any]]):
    message = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="验证码有效秒数")
    resend_after = serializers.IntegerField(help_text="多少秒后可重新获取")


class ScopeAreaOutputSerializer(serializers.Serializer[Area]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()


class MeOutputSerializer(serializers.ModelSerializer[User]):
    role_display = serializers.CharField(source="get_role_display")
    display_name = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField(help_text="打码后的手机号")
    scope_area = ScopeAreaOutputSerializer(allow_null=True)

    class Meta:
        model = User
        fields = ["id", "username", "role", "role_display", "display_name", "phone",
                  "scope_area"]

    def get_display_name(self, user: User) -> str:
        return str(user)

    def get_phone(self, user: User) -> str:
        return mask_phone(user.phone)
