"""Staff pages for people who do not use the portal: intake (代录) and callback (回访).

- /petitions/staff/intake/: a walk-in or phone call, recorded with the resident form's
  building/unit/room picker (limited to the recorder's scope) or an address alone;
- its htmx partials (the location cascade, the category's questions);
- /petitions/staff/<pk>/callback/: the rating taken on a callback, posted from the staff page.

The rules are in petitions/intake.py; the roles per view in rules.STAFF_PAGE_ROLES.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts.models import User
from core.actions import error_text
from core.exceptions import ApplicationError
from petitions import duplicates, intake
from petitions import forms as petition_forms
from petitions.models import Petition
from petitions.views.base import PHOTO_ERROR_CODES, location_picker_response, questions_response
from petitions.views.staff import StaffActionView, StaffView


class PetitionIntakeView(StaffView):
    template_name = "petitions/staff/intake.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, petition_forms.IntakeForm(user=self.actor))

    def _render(self, request: HttpRequest, form: forms.Form, status: int = 200) -> HttpResponse:
        return render(request, self.template_name, {"form": form, "active": "intake"},
                      status=status)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = petition_forms.IntakeForm(request.POST, request.FILES, user=self.actor)
        if not form.is_valid():
            return self._render(request, form, status=400)
        try:
            petition = self._record(self.actor, form)
        except ValidationError as error:
            is_photo = getattr(error, "code", None) in PHOTO_ERROR_CODES
            form.add_error("photos" if is_photo else None, error_text(error))
            return self._render(request, form, status=400)
        except ApplicationError as error:  # PermissionDeniedError too: out of scope
            form.add_error(None, error.message)
            return self._render(request, form, status=400)
        messages.success(request, _("已代录诉求（编号 %(id)s）。") % {"id": petition.pk})
        found = duplicates.petition_likely_duplicates_for_user(user=request.user,
                                                               petition=petition)
        if found:  # listed with their merge forms on the page this redirects to
            messages.warning(request, _("发现 %(count)s 件疑似重复的同类诉求，请在本页核对，"
                                        "确属同一事项的可合并。") % {"count": len(found)})
        return redirect("petitions:staff-detail", pk=petition.pk)

    def _record(self, user: User, form: petition_forms.IntakeForm) -> Petition:
        data = form.cleaned_data
        return intake.petition_intake(
            actor=user, channel=data["channel"], category=data["category"],
            description=data["description"], contact_name=data["contact_name"],
            contact_phone=data.get("contact_phone") or "",
            phone_verified=bool(data.get("phone_verified")), household=data.get("household"),
            building=data.get("building"), location_text=data.get("location_text", ""),
            photos=data.get("photos") or [], is_public=bool(data.get("is_public")),
            answers=form.answers, size=data.get("size") or Petition.Size.SMALL)


class PetitionIntakeLocationPickerView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        return location_picker_response(request, petition_forms.IntakeForm)


class PetitionIntakeQuestionsView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        return questions_response(request, petition_forms.IntakeForm)


class PetitionCallbackView(StaffActionView):
    form_class = petition_forms.CallbackForm
    success_message = _lazy("回访结果已记录。")

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        return intake.petition_callback_record(
            petition_id=petition.pk, actor=self.actor, rating=data["rating"],
            method=data["method"], note=data.get("note", ""))
