from __future__ import annotations

from django.contrib import admin

from core.admin import MaskedContactMixin
from notifications.models import Notification, OutboundMessage


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("title", "user", "created_at", "read_at")
    list_select_related = ("user",)
    search_fields = ("title",)
    date_hierarchy = "created_at"


@admin.register(OutboundMessage)
class OutboundMessageAdmin(MaskedContactMixin, admin.ModelAdmin):
    phone_field = "recipient"  # an SMS recipient; shown whole on the change page (audited)

    list_display = ("id", "channel", "created_at", "processed_at", "suppressed_at", "attempts",
                    "last_error")
    list_filter = ("channel",)
    readonly_fields = ("recipient", "body")
