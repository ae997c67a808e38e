"""Sign-in pages: residents by phone and a one-time code, staff by username and password."""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import LoginView
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View

from accounts.backends import MODEL_BACKEND
from accounts.forms import PhoneCodeForm, PhoneForm, StaffAuthenticationForm
from accounts.models import User, WechatBinding
from accounts.rules import is_resident
from accounts.services import phone_code_request, phone_code_verify
from accounts.wechat import wechat_bind, wechat_channel_set, wechat_unbind, wechat_user_get
from core import crypto, guesses, wechat
from core.exceptions import ApplicationError
from core.ip import client_ip
from core.masking import mask_phone

logger = logging.getLogger(__name__)

PENDING_PHONE = "accounts_phone_pending"
# 网页授权: the state sent to WeChat, the openid waiting to be bound by a phone code, and a
# mark that WeChat sign-in failed in this session (the phone sign-in then stays, no loop).
WECHAT_STATE = "accounts_wechat_state"
WECHAT_PENDING_OPENID = "accounts_wechat_openid"
WECHAT_DECLINED = "accounts_wechat_declined"
# When the openid began waiting: it binds only if the phone code follows within minutes, so a
# session planted in someone's browser (a tossed cookie) cannot bind its WeChat to whoever
# signs in there later.
WECHAT_PENDING_AT = "accounts_wechat_openid_at"
WECHAT_PENDING_SECONDS = 10 * 60


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


def _pending_openid(request: HttpRequest, *, pop: bool = False) -> str | None:
    """The encrypted openid waiting for its phone code, or None (also once it has lapsed)."""
    pending = request.session.get(WECHAT_PENDING_OPENID)
    waited = time.time() - float(request.session.get(WECHAT_PENDING_AT) or 0)
    if pop or (pending and waited > WECHAT_PENDING_SECONDS):
        request.session.pop(WECHAT_PENDING_OPENID, None)
        request.session.pop(WECHAT_PENDING_AT, None)
    return pending if pending and waited <= WECHAT_PENDING_SECONDS else None


def _with_next(url: str, next_url: str) -> str:
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


class PhoneLoginView(View):
    """Step 1: the resident enters a phone number and is sent a code."""

    template_name = "accounts/phone_login.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        if _should_try_wechat(request):
            return redirect(_with_next(reverse("accounts:wechat-start"), _next_url(request)))
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
        context = {"form": form, "next": _next_url(request),
                   "is_binding_wechat": bool(_pending_openid(request))}
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
        pending = _pending_openid(request, pop=True)
        if pending and request.POST.get("skip_wechat"):
            # The resident chose not to bind (PIPL: auto sign-in is a purpose of its own); this
            # session no longer goes through WeChat.
            request.session[WECHAT_DECLINED] = True
        elif pending:
            wechat_bind(user=user, openid=crypto.decrypt(pending))
            messages.success(request, _("已绑定微信，以后在微信中打开本平台将自动登录。"))
        login(request, user, backend=MODEL_BACKEND)
        request.session.pop(PENDING_PHONE, None)
        return HttpResponseRedirect(_next_url(request) or resolve_url(settings.LOGIN_REDIRECT_URL))

    def _render(self, request: HttpRequest, form: PhoneCodeForm,
                status: int = 200) -> HttpResponse:
        context = {"form": form, "next": _next_url(request),
                   "is_binding_wechat": bool(_pending_openid(request)),
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


def _should_try_wechat(request: HttpRequest) -> bool:
    """In WeChat's browser, with WeChat configured, a resident signs in through WeChat first;
    not when an openid already waits for its phone, nor after WeChat sign-in failed."""
    return (wechat.is_configured()
            and wechat.is_wechat_browser(request.headers.get("User-Agent", ""))
            and not _pending_openid(request)
            and not request.session.get(WECHAT_DECLINED)
            and request.GET.get("wechat") != "0")


class WechatStartView(View):
    """Send the browser to WeChat's 网页授权 (snsapi_base: silent, the openid only)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not wechat.is_configured():
            return redirect(_with_next(reverse("accounts:phone-login"), _next_url(request)))
        state = secrets.token_urlsafe(16)
        request.session[WECHAT_STATE] = state
        callback = request.build_absolute_uri(
            _with_next(reverse("accounts:wechat-callback"), _next_url(request)))
        return HttpResponseRedirect(wechat.oauth_authorize_url(redirect_uri=callback,
                                                               state=state))


class WechatCallbackView(View):
    """WeChat sends the browser back with a one-time code: a bound resident is signed in; a new
    openid waits in the session until the resident proves their phone with a code."""

    def get(self, request: HttpRequest) -> HttpResponse:
        next_url = _next_url(request)
        state = request.session.pop(WECHAT_STATE, None)
        code = request.GET.get("code", "")
        if not state:
            # No sign-in under way in this session: another site sent the browser here. Not a
            # failed sign-in, so WeChat stays on for it (no WECHAT_DECLINED).
            return redirect(_with_next(reverse("accounts:phone-login"), next_url))
        # Compared as bytes: compare_digest raises TypeError on a str with non-ASCII in it.
        if not code or not secrets.compare_digest(
                state.encode(), request.GET.get("state", "").encode()):
            return self._declined(request, next_url)
        ip = client_ip(request)
        if ip and not guesses.attempt_allowed(
                f"wechat-signin:ip:{ip}", limit=settings.WECHAT_SIGNINS_PER_IP_PER_HOUR,
                seconds=3600):
            # Each callback costs a call to WeChat with the portal's secret: one address looping
            # start → callback is refused before the call (the phone sign-in stays open to it).
            logger.warning("WeChat sign-in refused: over WECHAT_SIGNINS_PER_IP_PER_HOUR")
            return self._declined(request, next_url)
        try:
            openid = wechat.oauth_openid(code=code)
        except wechat.WechatError as error:
            logger.warning("WeChat sign-in refused: errcode %s", error.errcode)
            return self._declined(request, next_url)
        user = wechat_user_get(openid=openid)
        if user is None:
            # Encrypted like the binding's column: the session table is not a place for it.
            request.session[WECHAT_PENDING_OPENID] = crypto.encrypt(openid)
            request.session[WECHAT_PENDING_AT] = time.time()
            messages.info(request, _("首次在微信中使用，请验证一次手机号，完成微信绑定。"))
            return redirect(_with_next(reverse("accounts:phone-login"), next_url))
        login(request, user, backend=MODEL_BACKEND)
        return HttpResponseRedirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))

    def _declined(self, request: HttpRequest, next_url: str) -> HttpResponse:
        request.session[WECHAT_DECLINED] = True
        messages.error(request, _("微信登录未成功，请使用手机验证码登录。"))
        return redirect(_with_next(reverse("accounts:phone-login"), next_url))


class WechatUnbindView(ResidentOnlyView):
    """我的信息: unbind WeChat (sign-in by code again; messages by SMS)."""

    def post(self, request: HttpRequest) -> HttpResponse:
        if wechat_unbind(user=self.resident):
            messages.success(request, _("已解除微信绑定，之后将通过短信接收通知。"))
        return redirect("accounts:my-data")


class WechatChannelView(ResidentOnlyView):
    """我的信息: how progress messages reach me (WeChat, SMS, or both)."""

    def post(self, request: HttpRequest) -> HttpResponse:
        channel = request.POST.get("channel", "")
        if channel not in WechatBinding.Channel.values:
            messages.error(request, _("请选择有效的通知方式。"))
        elif not WechatBinding.objects.filter(user=self.resident).exists():
            messages.error(request, _("尚未绑定微信。"))
        else:
            wechat_channel_set(user=self.resident, channel=channel)
            messages.success(request, _("通知方式已保存。"))
        return redirect("accounts:my-data")


class WechatJssdkConfigView(View):
    """wx.config's signed values for one of our pages (static/js/wechat.js asks for them with
    the page's address, without its #fragment, as WeChat signs it).

    Anyone but a resident is answered 403, not sent to the phone sign-in: wechat.js asks on
    every page in WeChat, signed in or not, and that background request, redirected, would go
    on to WeChat's authorisation and replace the state of a sign-in under way."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not wechat.is_configured():
            raise Http404
        if not is_resident(request.user):
            return JsonResponse({"detail": _("请先登录。")}, status=403)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        url = request.GET.get("url", "")
        if not url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()) or (
                not url.startswith(("http://", "https://"))):
            return JsonResponse({"detail": _("只能为本站页面签名。")}, status=400)
        try:
            config = wechat.jsapi_config(url=url)
        except wechat.WechatError as error:
            logger.warning("JS-SDK config unavailable: errcode %s", error.errcode)
            return JsonResponse({"detail": _("微信功能暂不可用。")}, status=503)
        response = JsonResponse(config.as_dict())
        response["Cache-Control"] = "no-store"
        return response
