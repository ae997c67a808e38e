"""延期 on the staff pages: the holder's request on the petition's page, and the queue where the
level above grants or refuses (petitions/extensions.py decides who may)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from core.actions import ActionView
from petitions import extensions, rules
from petitions import forms as petition_forms
from petitions.models import Petition, PetitionExtension
from petitions.views.staff import StaffActionView, StaffView


class PetitionExtensionRequestView(StaffActionView):
    form_class = petition_forms.ExtensionRequestForm
    success_message = _lazy("延期申请已提交，等待上一级审批。")

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        return extensions.petition_request_extension(
            petition_id=petition.pk, actor=self.actor, days=data["days"], reason=data["reason"])


class ExtensionQueueView(StaffView):
    """Pending requests the user covers and may decide, each with grant / refuse."""

    def get(self, request: HttpRequest) -> HttpResponse:
        pending = [extension for extension in extensions.extension_pending_list(user=request.user)
                   if rules.may_decide_extension(request.user, extension.petition,
                                                 extension.tier, extension.requested_by_id)]
        return render(request, "petitions/staff/extensions.html",
                      {"extensions": pending, "active": "extensions"})


class ExtensionDecisionView(StaffView, ActionView):
    """POST only: a pending request the user covers (404 otherwise), decided, back to the
    queue."""

    http_method_names = ["post"]
    form_class = petition_forms.ExtensionDecisionForm

    def load(self, **kwargs: Any) -> PetitionExtension:
        extension = (extensions.extension_pending_list(user=self.request.user)
                     .filter(pk=kwargs["pk"]).first())
        if extension is None:
            raise Http404(_("延期申请不存在。"))
        return extension

    def redirect_to(self, obj: PetitionExtension) -> str:
        return reverse("petitions:staff-extensions")


class ExtensionGrantView(ExtensionDecisionView):
    success_message = _lazy("已批准延期，时限已顺延。")

    def perform(self, obj: PetitionExtension, data: dict[str, Any]) -> Any:
        return extensions.petition_decide_extension(
            extension_id=obj.pk, actor=self.actor, grant=True,
            days=data.get("days") or obj.days_requested, note=data.get("note") or "")


class ExtensionRefuseView(ExtensionDecisionView):
    success_message = _lazy("已驳回延期申请。")

    def perform(self, obj: PetitionExtension, data: dict[str, Any]) -> Any:
        return extensions.petition_decide_extension(
            extension_id=obj.pk, actor=self.actor, grant=False, note=data.get("note") or "")
