from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Q

from core.admin import GenericModelAdmin, MaskedContactMixin
from core.admin_scope import ScopedChoicesMixin, choice_scope_q, choice_scope_register
from core.types import AnyUser
from notifications.models import Notification, OutboundMessage


def _notification_choice_q(user: AnyUser) -> Q:
    """A notification is in scope when its addressee is (core.admin_scope's user rule)."""
    condition = choice_scope_q(get_user_model(), user)
    if not condition:
        return condition
    return Q(user__in=get_user_model().objects.filter(condition).values("pk"))


choice_scope_register(Notification, rule=_notification_choice_q)


@admin.register(Notification)
class NotificationAdmin(ScopedChoicesMixin, GenericModelAdmin[Notification]):
    list_display = ("title", "user", "created_at", "read_at")
    list_select_related = ("user",)
    search_fields = ("title",)
    date_hierarchy = "created_at"


@admin.register(OutboundMessage)
class OutboundMessageAdmin(MaskedContactMixin, GenericModelAdmin[OutboundMessage]):
    phone_field = "recipient"  # an SMS recipient; shown whole on the change page (audited)

    list_display = ("id", "channel", "created_at", "processed_at", "suppressed_at", "attempts",
                    "last_error")
    list_filter = ("channel",)
    readonly_fields = ("recipient", "body")
