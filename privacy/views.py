"""我的信息: a resident's own data (PIPL art. 45) and the deletion of their account (art. 47).

Mounted by config/urls.py under /accounts/ in the "accounts" URL namespace, where these pages
have always been."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.models import WechatBinding
from accounts.views import ResidentOnlyView
from core.exceptions import ApplicationError
from core.masking import mask_phone
from privacy.selectors import deletion_request_pending, personal_data_export
from privacy.services import deletion_request_cancel, deletion_request_create


class MyDataView(ResidentOnlyView):
    """我的信息: download what the portal holds about me, or ask for the account's deletion."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "accounts/my_data.html", {
            "pending": deletion_request_pending(user=self.resident),
            "wechat_binding": WechatBinding.objects.filter(user=self.resident).first(),
            "wechat_channels": WechatBinding.Channel.choices,
            "masked_phone": mask_phone(self.resident.phone)})


class MyDataDownloadView(ResidentOnlyView):
    def get(self, request: HttpRequest) -> HttpResponse:
        data = personal_data_export(user=self.resident)
        response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
        response["Content-Disposition"] = 'attachment; filename="my-data.json"'
        response["Cache-Control"] = "no-store"
        return response


class DeletionRequestCreateView(ResidentOnlyView):
    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            deletion_request_create(user=self.resident, reason=request.POST.get("reason", ""))
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("注销申请已提交，社区审核通过后账户将被注销。"))
        return redirect("accounts:my-data")


class DeletionRequestCancelView(ResidentOnlyView):
    def post(self, request: HttpRequest) -> HttpResponse:
        pending = deletion_request_pending(user=self.resident)
        if pending is not None:
            deletion_request_cancel(deletion_request=pending, user=self.resident)
            messages.success(request, _("注销申请已撤回。"))
        return redirect("accounts:my-data")
