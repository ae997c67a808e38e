"""协办 / 吹哨报到 pages (petitions/cohandling.py): the staff form on a petition's page, and the
page a body opens from its SMS link — no account, a phone's width, single-use.

The body's page answers every wrong id or token with the same 404, and never lets itself be
cached or its address leak by Referer (the token is in the query string).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import View

from core.actions import error_text
from core.exceptions import ApplicationError
from petitions import cohandling
from petitions import forms as petition_forms
from petitions.models import CoHandlingRequest, Petition
from petitions.views.staff import StaffActionView


class CoHandlingCreateView(StaffActionView):
    form_class = petition_forms.CoHandlingForm
    success_message = _lazy("已发起协办，协办单位将收到短信链接。")

    def form_kwargs(self, obj: Any) -> dict[str, Any]:
        return {"petition": obj}

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        return cohandling.cohandling_request_create(
            petition_id=petition.pk, actor=self.actor, body_id=data["body"].pk,
            task=data["task"], due_at=petition_forms.due_moment(data["due_on"]))


class CoHandlingAnswerView(View):
    """GET: the task and the form (an open, audited); POST: the answer. A used or expired link
    shows why and does nothing."""

    http_method_names = ["get", "post"]

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        link = cohandling.cohandling_link_get(
            request_id=pk, token=request.GET.get(cohandling.TOKEN_PARAMETER))
        refusal = cohandling.cohandling_link_open(request=link)
        if refusal is not None:
            return self._closed(request, link, refusal)
        return self._page(request, link, petition_forms.CoHandlingAnswerForm(), token=request.GET[
            cohandling.TOKEN_PARAMETER])

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        token = request.POST.get(cohandling.TOKEN_PARAMETER) or ""
        link = cohandling.cohandling_link_get(request_id=pk, token=token)
        form = petition_forms.CoHandlingAnswerForm(request.POST, request.FILES)
        if form.is_valid():
            note, photos = form.cleaned_data["note"], form.cleaned_data["photos"]
        elif cohandling.link_refusal(link) is None:
            return self._page(request, link, form, token=token, status=400)
        else:  # a used or expired link: the service refuses it (counted, audited)
            note, photos = form.data.get("note", ""), []
        try:
            cohandling.cohandling_answer(request=link, note=note, photos=photos)
        except (cohandling.LinkUsed, cohandling.LinkExpired) as refusal:
            return self._closed(request, link, refusal)
        except ApplicationError as error:
            form.add_error(None, error.message)
            return self._page(request, link, form, token=token, status=400)
        except forms.ValidationError as error:
            form.add_error("photos", error_text(error))
            return self._page(request, link, form, token=token, status=400)
        return _private(render(request, "petitions/cohandling/done.html",
                               {"view": cohandling.cohandling_public_view(link)}))

    def _page(self, request: HttpRequest, link: CoHandlingRequest,
              form: petition_forms.CoHandlingAnswerForm, *, token: str,
              status: int = 200) -> HttpResponse:
        return _private(render(request, "petitions/cohandling/answer.html", {
            "view": cohandling.cohandling_public_view(link), "form": form, "token": token,
            "token_parameter": cohandling.TOKEN_PARAMETER, "link": link}, status=status))

    def _closed(self, request: HttpRequest, link: CoHandlingRequest,
                refusal: ApplicationError) -> HttpResponse:
        # 200, not 410: Django logs every 4xx with its request line, token included.
        title = _("链接已使用") if isinstance(refusal, cohandling.LinkUsed) else _("链接已失效")
        return _private(render(request, "petitions/cohandling/closed.html", {
            "title": title, "message": refusal.message,
            "is_used": isinstance(refusal, cohandling.LinkUsed)}))


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    # The origin alone, never the path and its token ("no-referrer" would also blank the Origin
    # header of the answer's POST, and Django's CSRF check refuses a null origin).
    response["Referrer-Policy"] = "origin"
    response["X-Robots-Tag"] = "noindex"
    return response
