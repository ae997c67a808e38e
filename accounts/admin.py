"""Accounts in the street admins' tool: users and roles, sign-in codes (read-only), API keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group, Permission
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import ApiKey, LoginAttempt, PhoneCode, User
from accounts.rules import may_grant_privileges
from accounts.services import api_key_deactivate, login_lockout_clear
from core.admin import GenericModelAdmin, MaskedContactMixin
from core.admin_scope import ScopedChoicesMixin, choice_scope_register, street_only
from core.masking import mask_phone
from core.protected_lookups import ProtectedSearchAdminMixin

# Which accounts a staff member may pick is residents' decision (it knows where people live);
# groups and permissions are granted by the street only.
choice_scope_register(Group, rule=street_only)
choice_scope_register(Permission, rule=street_only)

if TYPE_CHECKING:
    # django-stubs makes the admin classes generic in their model; Django's own are not
    # subscriptable at run time (django_stubs_ext is a development dependency only), so the
    # model is named for mypy alone.
    UserAdminBase = DjangoUserAdmin[User]
else:
    UserAdminBase = DjangoUserAdmin


@admin.register(User)
class UserAdmin(ProtectedSearchAdminMixin, ScopedChoicesMixin, MaskedContactMixin, UserAdminBase):
    list_display = ["username", "display_name", "role", "masked_phone", "scope_area",
                    "is_active", "last_login"]
    list_filter = ["role", "is_active", "is_staff", "is_superuser"]
    # Phones are masked in the list; a whole number finds its account for who may reveal
    # everywhere (accounts hang from no area), audited.
    search_fields = ["username", "display_name"]
    protected_search_fields = {"phone": "phone"}
    list_select_related = ["scope_area"]
    ordering = ["username"]
    # territory's AreaAdmin defines search_fields (name, code), which autocomplete needs.
    autocomplete_fields = ["scope_area"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("身份与范围"), {"fields": ("display_name", "role", "phone", "scope_area")}),
        (_("权限"), {"fields": ("is_active", "is_staff", "is_superuser", "groups",
                                "user_permissions")}),
        (_("时间"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",),
                "fields": ("username", "display_name", "role", "scope_area", "password1",
                           "password2")}),
    )

    # What makes an account powerful is the street's to give: staff who were granted the
    # change permission may fix names, phones and scope areas (scoped), never raise a privilege.
    PRIVILEGE_FIELDS = ("role", "is_staff", "is_superuser", "groups", "user_permissions")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        if may_grant_privileges(request.user):
            return fields
        return fields + self.PRIVILEGE_FIELDS

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None and not may_grant_privileges(request.user):
            # The add form has no read-only fields: the new account starts as a resident.
            return tuple((name, {**options, "fields": tuple(
                field for field in options["fields"] if field not in self.PRIVILEGE_FIELDS)})
                for name, options in fieldsets)
        return fieldsets

    @admin.display(description=_("手机号"), ordering="phone")
    def masked_phone(self, user: User) -> str:
        return mask_phone(user.phone)


# Shown, all read-only. One tuple for both: their types differ in the stubs, a tuple fits either.
PHONE_CODE_FIELDS = ("masked_phone", "created_at", "expires_at", "used_at", "attempts",
                     "requested_ip")


@admin.register(PhoneCode)
class PhoneCodeAdmin(ProtectedSearchAdminMixin, GenericModelAdmin[PhoneCode]):
    """Sign-in codes, for support questions. Read-only; the code itself is never stored."""

    list_display = ["masked_phone", "created_at", "expires_at", "used_at", "attempts",
                    "requested_ip"]
    list_filter = [("used_at", admin.EmptyFieldListFilter)]
    search_fields = ["requested_ip"]
    protected_search_fields = {"phone": "phone"}
    date_hierarchy = "created_at"
    fields = readonly_fields = PHONE_CODE_FIELDS

    @admin.display(description=_("手机号"), ordering="phone")
    def masked_phone(self, phone_code: PhoneCode) -> str:
        return mask_phone(phone_code.phone)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(GenericModelAdmin[ApiKey]):
    """Keys are made with `manage.py create_api_key`, which shows the raw key once."""

    list_display = ["name", "prefix", "user", "is_active", "last_used_at", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "prefix"]
    list_select_related = ["user"]
    fields = ["name", "prefix", "user", "webhook_url", "is_active", "last_used_at", "created_at"]
    readonly_fields = ["prefix", "user", "is_active", "last_used_at", "created_at"]
    actions = ["deactivate"]
    formfield_overrides = {models.URLField: {"form_class": forms.URLField,
                                             "assume_scheme": "https"}}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("停用所选 API 密钥"), permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = 0
        for api_key in queryset.filter(is_active=True):
            api_key_deactivate(api_key=api_key)
            self.log_change(request, api_key, str(_("停用")))
            count += 1
        self.message_user(
            request,
            ngettext("已停用 %(count)d 个密钥。", "已停用 %(count)d 个密钥。", count)
            % {"count": count},
            messages.SUCCESS,
        )


LOGIN_ATTEMPT_FIELDS = ("username", "ip_address", "user_agent", "path_info",
                        "failures_since_start", "attempt_time")


@admin.register(LoginAttempt)
class LoginAttemptAdmin(GenericModelAdmin[LoginAttempt]):
    """Failed staff sign-ins (django-axes) per username + IP, and the lockouts they caused."""

    list_display = ["username", "ip_address", "failures_since_start", "attempt_time",
                    "is_locked"]
    search_fields = ["username", "ip_address"]
    date_hierarchy = "attempt_time"
    fields = readonly_fields = LOGIN_ATTEMPT_FIELDS
    actions = ["unlock"]

    @admin.display(description=_("锁定中"), boolean=True)
    def is_locked(self, attempt: LoginAttempt) -> bool:
        cool_off_ends = attempt.attempt_time + settings.AXES_COOLOFF_TIME
        return (attempt.failures_since_start >= settings.AXES_FAILURE_LIMIT
                and cool_off_ends > timezone.now())

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("解除所选记录的登录锁定"), permissions=["delete"])
    def unlock(self, request: HttpRequest, queryset: QuerySet[LoginAttempt]) -> None:
        pairs = set(queryset.values_list("username", "ip_address"))
        for username, ip_address in pairs:
            login_lockout_clear(username=username, ip_address=ip_address)
        self.message_user(request, _("已解除 %(count)d 个登录锁定。") % {"count": len(pairs)},
                          messages.SUCCESS)
