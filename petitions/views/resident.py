"""The resident's pages (a phone-verified session): their petitions, the submit form and its
htmx partials, a petition's page with its rating and reopen actions, the polled status block.

Every view parses (a form), calls one petitions service, then renders or redirects; petitions are
loaded through `petition_get_for_user` (404 for outsiders and guessed ids) and must be the
resident's own. Illegal moves come back from the service as ApplicationError / InvalidTransition
and are shown as a message.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import View

from accounts.models import User
from core import wechat
from core.actions import ActionView, error_text
from core.exceptions import ApplicationError
from core.masking import mask_phone
from core.types import signed_in_user
from petitions import duplicates, pending_photos, rules, selectors, services
from petitions import forms as petition_forms
from petitions.duplicates import DuplicateHint
from petitions.models import MAX_PHOTOS, PendingPhoto, Petition
from petitions.presentation import clock_for
from petitions.views.base import (
    PHOTO_ERROR_CODES,
    location_picker_response,
    login_redirect,
    questions_response,
    status_context,
)
from petitions.views.duplicate_context import join_target, merged_context, resident_hints
from residents.selectors import household_list
from territory.selectors import building_list


class ResidentView(View):
    """A resident signed in with a verified phone; others are sent to the phone sign-in."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return login_redirect(request, "accounts:phone-login")
        if not rules.is_verified_resident(request.user):
            raise Http404(_("该页面仅供居民使用。"))
        return super().dispatch(request, *args, **kwargs)

    @property
    def actor(self) -> User:
        """The signed-in user the gate let through."""
        return signed_in_user(self.request.user)

    def own_petition(self, pk: int) -> Petition:
        petition = selectors.petition_get_for_user(user=self.request.user, petition_id=pk)
        if not rules.is_owner(self.request.user, petition):
            raise Http404(_("诉求不存在。"))
        return petition


MINE_PAGE_SIZE = 20


class PetitionMineListView(View):
    """/petitions/: a resident's own petitions; staff go to their queue; others see a landing."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if rules.is_staff(request.user):
            return redirect("petitions:staff-queue")
        if not rules.is_verified_resident(request.user):
            return render(request, "petitions/landing.html")
        # A page at a time, newest first: a resident who files many (a building's volunteer,
        # the bench's resident with 250,000) still gets a page read on the submitter index.
        paginator = Paginator(selectors.petition_list(user=request.user)
                              .filter(submitter_id=request.user.pk), MINE_PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
        rows = [(petition, clock_for(petition)) for petition in page.object_list]
        return render(request, "petitions/mine.html", {"rows": rows, "page": page})


def _home_initial(user: User) -> dict[str, Any]:
    household = household_list(user=user).first()
    if household is None:
        return {}
    return {"compound": household.building.compound_id, "building": household.building_id,
            "unit": household.unit_id, "household": household.pk}


def _plaque_initial(building_id: str) -> dict[str, Any]:
    """`?building=` from a building's QR plaque: the form opens on that building."""
    if not building_id.isdigit() or len(building_id) > 15:
        return {}
    building = building_list().filter(pk=int(building_id)).first()
    if building is None:
        return {}
    return {"compound": building.compound_id, "building": building.pk}


def _contact_name(user: User) -> str:
    if user.display_name:
        return user.display_name
    record = user.residents.order_by("id").first()
    return record.name if record is not None else ""


class PetitionCreateView(ResidentView):
    """The resident's form. Photos are kept across a refused submit: each one sent is
    re-encoded and held at once (petitions.pending_photos), shown back as 已上传, and attached
    when the form goes through."""

    template_name = "petitions/create.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        initial = (_plaque_initial(request.GET.get("building", ""))
                   or _home_initial(self.actor))
        form = petition_forms.PetitionSubmitForm(user=self.actor, initial=initial)
        return self._render(request, form)

    def _render(self, request: HttpRequest, form: forms.Form, status: int = 200,
                held: list[PendingPhoto] | None = None,
                hints: list[DuplicateHint] | None = None) -> HttpResponse:
        context = {"form": form, "masked_phone": mask_phone(self.actor.phone),
                   "held_photos": pending_photos.pending_photo_thumbnails(held or []),
                   "duplicate_hints": hints or []}
        return render(request, self.template_name, context, status=status)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = petition_forms.PetitionSubmitForm(request.POST, request.FILES, user=self.actor)
        form.is_valid()
        held = self._hold(request, form)
        if form.errors:
            return self._render(request, form, status=400, held=held)
        # A similar request already handled in the building: offered first (its state and
        # date, nothing its submitter wrote: views/duplicate_context.resident_hints); the
        # resident follows it (join:<id>) or submits anyway (new).
        choice = request.POST.get("duplicate_choice", "")
        if not choice:
            hints = resident_hints(form.cleaned_data, user_id=self.actor.pk)
            if hints:
                return self._render(request, form, held=held, hints=hints)
        into_id = join_target(choice)
        try:
            with transaction.atomic():
                petition = self._submit(self.actor, form, held)
                if into_id is not None:
                    duplicates.petition_join(petition_id=petition.pk, into_id=into_id,
                                             actor=self.actor)
        except ValidationError as error:
            is_photo = error.code in PHOTO_ERROR_CODES if hasattr(error, "code") else False
            form.add_error("photos" if is_photo else None, error_text(error))
            held = pending_photos.pending_photo_list(actor=self.actor,
                                                     tokens=[photo.token for photo in held])
            return self._render(request, form, status=400, held=held)
        except ApplicationError as error:
            form.add_error(None, error.message)
            return self._render(request, form, status=400, held=held)
        if into_id is not None:
            messages.success(request, _("您的诉求（编号 %(id)s）已与同类诉求 #%(into)s 合并办理，"
                                        "办理结果出来后请您评价。")
                             % {"id": petition.pk, "into": into_id})
        else:
            messages.success(request, _("诉求已受理（编号 %(id)s），请留意办理进度。")
                             % {"id": petition.pk})
        return redirect("petitions:detail", pk=petition.pk)

    def _hold(self, request: HttpRequest, form: forms.Form) -> list[PendingPhoto]:
        """The photos kept before (the ticked boxes) and those sent now, held for this
        resident; a bad or a fourth photo is an error on the photo field."""
        held = pending_photos.pending_photo_list(actor=self.actor,
                                                 tokens=request.POST.getlist("held_photo"))
        if "photos" in form.errors:  # more than 3 files at once: none is kept
            return held
        uploads = form.cleaned_data.get("photos") or []
        if len(held) + len(uploads) > MAX_PHOTOS:
            form.add_error("photos", _("最多上传 %(count)s 张照片。") % {"count": MAX_PHOTOS})
            return held
        result = pending_photos.pending_photos_hold(actor=self.actor, photos=uploads)
        for error in result.errors:
            form.add_error("photos", error_text(error))
        return held + result.photos

    def _submit(self, user: User, form: petition_forms.PetitionSubmitForm,
                held: list[PendingPhoto]) -> Petition:
        data = form.cleaned_data
        return services.petition_submit(
            actor=user, category=data["category"], description=data["description"],
            channel=Petition.Channel.MOBILE_WEB, household=data.get("household"),
            building=data.get("building"), location_text=data.get("location_text", ""),
            unit_number=data["unit"].number if data.get("unit") else "",
            latitude=data.get("latitude"), longitude=data.get("longitude"),
            held_photos=held,
            contact_name="" if data.get("is_anonymous") else _contact_name(user),
            is_anonymous=bool(data.get("is_anonymous")),
            contact_phone=user.phone or "", is_public=bool(data.get("is_public")),
            answers=form.answers,
        )


class PetitionWechatPhotoView(ResidentView):
    """A photo taken or picked in WeChat (wx.chooseImage + wx.uploadImage, static/js/wechat.js):
    downloaded from WeChat by its media id and held like an uploaded one (re-encoded, EXIF
    dropped), so the form attaches it by token as it does a photo kept across a refused
    submit. WeChat keeps the media three days; the resident sends within minutes."""

    def post(self, request: HttpRequest) -> HttpResponse:
        if not wechat.is_configured():
            raise Http404
        media_id = request.POST.get("media_id", "")
        if not media_id or len(media_id) > 128:
            return JsonResponse({"detail": _("照片无法获取，请改用下方的上传按钮。")}, status=400)
        try:
            content = wechat.media_get(media_id=media_id)
        except wechat.WechatError:
            return JsonResponse({"detail": _("照片无法获取，请改用下方的上传按钮。")}, status=502)
        upload = SimpleUploadedFile("wechat.jpg", content, content_type="image/jpeg")
        result = pending_photos.pending_photos_hold(actor=self.actor, photos=[upload])
        if not result.photos:
            return JsonResponse({"detail": error_text(result.errors[0]) if result.errors
                                 else _("照片无法识别。")}, status=400)
        [(token, thumbnail)] = pending_photos.pending_photo_thumbnails(result.photos)
        return JsonResponse({"token": token, "thumbnail": thumbnail})


class PetitionMineDetailView(ResidentView):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        petition = self.own_petition(pk)
        duplicates = selectors.petition_duplicates(category_id=petition.category_id,
                                                   building_id=petition.building_id,
                                                   exclude_id=petition.pk).count()
        context = status_context(request, petition) | {
            "duplicates": duplicates,
            "contact_phone": selectors.petition_contact_phone_for(user=request.user,
                                                                  petition=petition),
            "rate_form": petition_forms.RateForm()
            if rules.may_rate(request.user, petition) else None,
            "can_reopen": rules.may_ask_reopen(request.user, petition),
            "reopen_form": petition_forms.ReasonForm(),
        } | merged_context(user=request.user, petition=petition)
        return render(request, "petitions/detail.html", context)


class PetitionStatusView(View):
    """The polled part of a detail page (clock + timeline), for the owner and for staff."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not request.user.is_authenticated:
            raise Http404(_("诉求不存在。"))
        petition = selectors.petition_get_for_user(user=request.user, petition_id=pk)
        if not (rules.is_staff(request.user) or rules.is_owner(request.user, petition)):
            raise Http404(_("诉求不存在。"))
        return render(request, "petitions/_status.html", status_context(request, petition))


class ResidentActionView(ResidentView, ActionView):
    """POST only: the resident's own petition, one service, back to its page."""

    http_method_names = ["post"]
    form_class: type[forms.Form] | None = petition_forms.ReasonForm

    def load(self, **kwargs: Any) -> Petition:
        return self.own_petition(kwargs["pk"])

    def redirect_to(self, obj: Petition) -> str:
        return reverse("petitions:detail", args=[obj.pk])


class PetitionRateView(ResidentActionView):
    form_class = petition_forms.RateForm

    success_message = _lazy("感谢您的评价。")

    def perform(self, petition: Petition, data: dict[str, Any]) -> Petition:
        return services.petition_rate(petition_id=petition.pk, actor=self.actor,
                                      rating=data["rating"], comment=data.get("comment", ""))


class PetitionReopenView(ResidentActionView):
    form_class = petition_forms.ReasonForm

    success_message = _lazy("已申请重办，诉求已退回承办人。")

    def perform(self, petition: Petition, data: dict[str, Any]) -> Petition:
        return services.petition_reopen(petition_id=petition.pk, actor=self.actor,
                                        reason=data["reason"])


class PetitionLocationPickerView(ResidentView):
    def get(self, request: HttpRequest) -> HttpResponse:
        return location_picker_response(request, petition_forms.PetitionSubmitForm)


class PetitionQuestionsView(ResidentView):
    def get(self, request: HttpRequest) -> HttpResponse:
        return questions_response(request, petition_forms.PetitionSubmitForm)


class PetitionDuplicatesView(ResidentView):
    """The duplicate hint: open petitions of this category in this building (no details)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        category = _int_or_none(request.GET.get("category"))
        building = _int_or_none(request.GET.get("building"))
        duplicates: list[Petition] = []
        if category is not None and building is not None:
            duplicates = list(selectors.petition_duplicates(category_id=category,
                                                            building_id=building)[:20])
        return render(request, "petitions/_duplicates.html", {"duplicates": duplicates})


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
