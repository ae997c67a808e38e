from __future__ import annotations

from django.contrib import admin

from notifications.models import Notification, OutboundMessage


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("title", "user", "created_at", "read_at")
    list_select_related = ("user",)
    search_fields = ("title",)
    date_hierarchy = "created_at"


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    list_display = ("id", "channel", "created_at", "processed_at", "attempts", "last_error")
    list_filter = ("channel",)
    readonly_fields = ("recipient", "body")
