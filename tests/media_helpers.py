"""What the /media/ tests of every app share: a client signed in as someone (or nobody), and
the media_view audit rows written so far."""

from __future__ import annotations

from django.test import Client

from core.models import AuditEvent


def client_as(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def media_views() -> list[tuple[str, str, list[str]]]:
    return list(AuditEvent.objects.filter(action=AuditEvent.Action.MEDIA_VIEW)
                .values_list("actor__username", "object_type", "fields"))
