"""Residents' deletion requests in the street admins' tool."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.admin import GenericModelAdmin, ScopedAdminMixin
from core.admin_scope import choice_scope_register
from core.exceptions import ApplicationError
from core.masking import mask_phone
from privacy import rules
from privacy.models import DeletionRequest
from privacy.services import deletion_request_approve, deletion_request_reject

choice_scope_register(DeletionRequest, "household_path")



@admin.register(DeletionRequest)
class DeletionRequestAdmin(ScopedAdminMixin, GenericModelAdmin[DeletionRequest]):
    """Residents' deletion requests, decided by community staff in scope (and street admins).

    Access follows the role, not model permissions: deciding is a duty of the post.
    """

    scope_path_fields = ("household_path",)
    list_display = ("__str__", "account", "status", "reason", "created_at", "decided_by",
                    "decided_at")
    list_filter = ("status",)
    list_select_related = ("user", "decided_by")
    readonly_fields = ("user", "status", "reason", "household_path", "decided_by", "decided_at",
                       "decision_note")
    actions = ("approve", "reject")

    def _is_decider(self, request: HttpRequest) -> bool:
        return rules.is_decider(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_decider(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_decider(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_decider(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("账户"))
    def account(self, deletion_request: DeletionRequest) -> str:
        user = deletion_request.user
        return f"{user.display_name or user.username} ({mask_phone(user.phone)})"

    @admin.action(description=_("批准：注销并匿名化所选账户"))
    def approve(self, request: HttpRequest, queryset: QuerySet[DeletionRequest]) -> None:
        self._decide(request, queryset, deletion_request_approve)

    @admin.action(description=_("驳回所选注销申请"))
    def reject(self, request: HttpRequest, queryset: QuerySet[DeletionRequest]) -> None:
        self._decide(request, queryset, deletion_request_reject)

    def _decide(self, request: HttpRequest, queryset: QuerySet[DeletionRequest],
                decide: Any) -> None:
        done = 0
        for deletion_request in queryset:
            try:
                decide(deletion_request=deletion_request, actor=request.user)
            except ApplicationError as error:
                self.message_user(request, f"{deletion_request}: {error.message}",
                                  messages.ERROR)
            else:
                done += 1
        self.message_user(request, _("已处理 %(count)s 份申请。") % {"count": done})
