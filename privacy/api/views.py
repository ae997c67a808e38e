"""A resident's own data and account deletion over the API (the same as the 我的信息 page)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.views import REFUSED
from accounts.rules import is_resident
from core.types import signed_in_user
from privacy.api.serializers import (
    DeletionRequestInputSerializer,
    DeletionRequestOutputSerializer,
)
from privacy.selectors import personal_data_export
from privacy.services import deletion_request_create


class IsResident(permissions.BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return is_resident(request.user)


class MyDataApi(APIView):
    """The resident's own data (PIPL art. 45), the same JSON as the page's download."""

    permission_classes = [IsResident]

    @extend_schema(operation_id="me_data", tags=["auth"], summary="下载我的个人信息",
                   responses={200: OpenApiResponse(
                       description="JSON：账户、户、居民档案、诉求及办理记录、志愿记录等")})
    def get(self, request: Request) -> Response:
        return Response(personal_data_export(user=signed_in_user(request.user)))


class DeletionRequestApi(APIView):
    """Ask for the account to be deleted; community staff decide (then it is anonymised)."""

    permission_classes = [IsResident]

    @extend_schema(operation_id="me_deletion_request", tags=["auth"], summary="申请注销账户",
                   request=DeletionRequestInputSerializer,
                   responses={201: DeletionRequestOutputSerializer, 400: REFUSED})
    def post(self, request: Request) -> Response:
        serializer = DeletionRequestInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        deletion_request = deletion_request_create(user=signed_in_user(request.user),
                                                   **serializer.validated_data)
        return Response(DeletionRequestOutputSerializer(deletion_request).data, status=201)
