"""Phone sign-in over the API (a session login, for the resident web app) and who-am-I."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import (
    MeOutputSerializer,
    PhoneCodeRequestInputSerializer,
    PhoneCodeSentOutputSerializer,
    PhoneCodeVerifyInputSerializer,
)
from accounts.api.throttles import PhoneCodeRequestThrottle, PhoneCodeVerifyThrottle
from accounts.backends import MODEL_BACKEND
from accounts.services import phone_code_request, phone_code_verify
from core.ip import client_ip
from core.types import signed_in_user

REFUSED = OpenApiResponse(description="输入有误、验证码错误或已失效（中文 message）")
LIMITED = OpenApiResponse(description="请求过于频繁")



class CsrfAlwaysSessionAuthentication(SessionAuthentication):
    """Session auth that checks CSRF even for anonymous callers.

    These endpoints sign the browser in, so a cross-site form must not be able to sign a victim
    into an attacker's account (login CSRF).
    """

    def authenticate(self, request: Request) -> None:
        self.enforce_csrf(request)
        return None


class PhoneCodeRequestApi(APIView):
    authentication_classes = [CsrfAlwaysSessionAuthentication]
    permission_classes = [permissions.AllowAny]
    throttle_classes = [PhoneCodeRequestThrottle]

    @extend_schema(
        operation_id="auth_phone_code_request", tags=["auth"],
        summary="发送登录验证码",
        description="无论该手机号是否已有账户，成功时的回答都相同。",
        request=PhoneCodeRequestInputSerializer,
        responses={200: PhoneCodeSentOutputSerializer, 400: REFUSED, 429: LIMITED},
    )
    def post(self, request: Request) -> Response:
        serializer = PhoneCodeRequestInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        phone_code_request(phone=serializer.validated_data["phone"], ip=client_ip(request))
        body = {"message": _("验证码已发送，请查收短信。"),
                "expires_in": int(settings.OTP_TTL.total_seconds()),
                "resend_after": int(settings.OTP_RESEND_INTERVAL.total_seconds())}
        return Response(PhoneCodeSentOutputSerializer(body).data)


class PhoneCodeVerifyApi(APIView):
    authentication_classes = [CsrfAlwaysSessionAuthentication]
    permission_classes = [permissions.AllowAny]
    throttle_classes = [PhoneCodeVerifyThrottle]

    @extend_schema(
        operation_id="auth_phone_code_verify", tags=["auth"],
        summary="验证码登录",
        description="验证成功后以会话（cookie）登录，并返回当前用户。首次登录自动开通居民账户。",
        request=PhoneCodeVerifyInputSerializer,
        responses={200: MeOutputSerializer, 400: REFUSED, 429: LIMITED},
    )
    def post(self, request: Request) -> Response:
        serializer = PhoneCodeVerifyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = phone_code_verify(phone=serializer.validated_data["phone"],
                                 code=serializer.validated_data["code"], ip=client_ip(request))
        login(request._request, user, backend=MODEL_BACKEND)
        return Response(MeOutputSerializer(user).data)


class MeApi(APIView):
    @extend_schema(operation_id="me", tags=["auth"], summary="当前用户",
                   responses={200: MeOutputSerializer})
    def get(self, request: Request) -> Response:
        return Response(MeOutputSerializer(signed_in_user(request.user)).data)
