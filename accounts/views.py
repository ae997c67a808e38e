"""Sign-in pages: residents by phone and a one-time code, staff by username and password."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View

from accounts.backends import MODEL_BACKEND
from accounts.forms import PhoneCodeForm, PhoneForm, StaffAuthenticationForm
from accounts.models import User
from accounts.rules import is_resident
from accounts.services import phone_code_request, phone_code_verify
from core.exceptions import ApplicationError
from core.ip import client_ip
from core.masking import mask_phone

PENDING_PHONE = "accounts_phone_pending"


class ResidentLoginRequiredMixin(LoginRequiredMixin):
    """A page residents open (volunteering, deliberation): a signed-out visitor is sent to the
    phone sign-in, which links on to the staff sign-in, rather than to the staff's
    username-and-password page (settings.LOGIN_URL)."""

    login_url = reverse_lazy("accounts:phone-login")


def _next_url(request: HttpRequest) -> str:
    """The `next` target if it stays on this site, else ""."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return target
    return ""


def _with_next(url: str, next_url: str) -> str:
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


class PhoneLoginView(View):
    """Step 1: the resident enters a phone number and is sent a code."""

    template_name = "accounts/phone_login.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = PhoneForm(initial={"phone": request.session.get(PENDING_PHONE, "")})
        return self._render(request, form)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = PhoneForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        phone = form.cleaned_data["phone"]
        try:
            phone_code_request(phone=phone, ip=client_ip(request))
        except ApplicationError as error:
            form.add_error(None, error.message)
            return self._render(request, form, status=error.status_code)
        request.session[PENDING_PHONE] = phone
        messages.success(request, _("验证码已发送，请查收短信。"))
        return redirect(_with_next(reverse("accounts:phone-verify"), _next_url(request)))

    def _render(self, request: HttpRequest, form: PhoneForm, status: int = 200) -> HttpResponse:
        context = {"form": form, "next": _next_url(request)}
        return render(request, self.template_name, context, status=status)


class PhoneVerifyView(View):
    """Step 2: the resident enters the code and is signed in."""

    template_name = "accounts/phone_verify.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        if not request.session.get(PENDING_PHONE):
            return redirect(_with_next(reverse("accounts:phone-login"), _next_url(request)))
        return self._render(request, PhoneCodeForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        phone = request.session.get(PENDING_PHONE)
        if not phone:
            messages.error(request, _("请先输入手机号获取验证码。"))
            return redirect(_with_next(reverse("accounts:phone-login"), _next_url(request)))
        form = PhoneCodeForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        try:
            user = phone_code_verify(phone=phone, code=form.cleaned_data["code"],
                                     ip=client_ip(request))
        except ApplicationError as error:
            form.add_error("code", error.message)
            return self._render(request, form, status=error.status_code)
        login(request, user, backend=MODEL_BACKEND)
        request.session.pop(PENDING_PHONE, None)
        return HttpResponseRedirect(_next_url(request) or resolve_url(settings.LOGIN_REDIRECT_URL))

    def _render(self, request: HttpRequest, form: PhoneCodeForm,
                status: int = 200) -> HttpResponse:
        context = {"form": form, "next": _next_url(request),
                   "masked_phone": mask_phone(request.session.get(PENDING_PHONE)),
                   "minutes": int(settings.OTP_TTL.total_seconds() // 60)}
        return render(request, self.template_name, context, status=status)


class StaffLoginView(LoginView):
    authentication_form = StaffAuthenticationForm
    template_name = "registration/login.html"

    def get_default_redirect_url(self) -> str:
        # Without a `next`: the staff workbench (a setting, as accounts sits below petitions).
        return resolve_url(settings.STAFF_LOGIN_REDIRECT_URL)


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict[str, Any] | None = None) -> HttpResponse:
    """django-axes calls this when a username + IP pair is locked out (AXES_LOCKOUT_CALLABLE)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "accounts/lockout.html", {"minutes": minutes},
                  status=settings.AXES_HTTP_RESPONSE_CODE)


class ResidentOnlyView(View):
    """A resident signed in by phone; anyone else goes to the phone sign-in."""

    # The signed-in resident (request.user, as checked), set before get() or post() runs.
    resident: User

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not is_resident(user):
            return redirect(_with_next(reverse("accounts:phone-login"), request.path))
        self.resident = user
        return super().dispatch(request, *args, **kwargs)
