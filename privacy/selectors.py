"""Reads about one account that span apps: the resident's own data, for download (PIPL art. 45)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from accounts.models import User
from accounts.personal_data import export_row
from notifications.models import Notification
from privacy import registry
from privacy.models import DeletionRequest

EXPORT_VERSION = 1
# The download's sections in the order the file has always had them; the apps' privacy.py
# give all but the last two, which are privacy's own.
SECTIONS = ("account", "wechat", "residents", "petitions", "volunteer", "micro_wishes",
            "proxy_services", "deliberation", "notifications", "deletion_requests")


def _notifications_export(*, user: User) -> list[dict[str, Any]]:
    return [export_row(note, ("title", "body", "created_at", "read_at"))
            for note in Notification.objects.filter(user=user).order_by("pk")]


def _deletion_requests_export(*, user: User) -> list[dict[str, Any]]:
    return [export_row(request, ("status", "reason", "created_at", "decided_at"))
            for request in DeletionRequest.objects.filter(user=user).order_by("pk")]


OWN_SECTIONS: dict[str, registry.Exporter] = {"notifications": _notifications_export,
                                              "deletion_requests": _deletion_requests_export}


def sections_check() -> None:
    """Every section is given by exactly one part, and none is left out of SECTIONS
    (PrivacyConfig.ready: a mistake stops start-up, not a resident's download)."""
    given = {**registry.section_owners(), **dict.fromkeys(OWN_SECTIONS)}
    if set(given) != set(SECTIONS):
        raise ImproperlyConfigured(f"Export sections {sorted(given)} do not match "
                                   f"privacy.selectors.SECTIONS {sorted(SECTIONS)}")


def personal_data_export(*, user: User) -> dict[str, Any]:
    """Everything the portal holds about the signed-in resident, as JSON-ready data.

    Their own data is shown in full (they are its subject). Left out, on purpose: other
    household members' personal data (only their count), staff-only petition notes, and the
    care file's notes, which are staff's assessments: the file's existence, category, visit
    plan and visit dates are included, the notes can be asked for at the community office.
    Queries: a constant number, plus two per resident record (a person has one or two).
    """
    owners = registry.section_owners()
    data: dict[str, Any] = {"version": EXPORT_VERSION, "exported_at": timezone.now().isoformat()}
    for key in SECTIONS:
        own = OWN_SECTIONS.get(key)
        data[key] = own(user=user) if own else owners[key].export(key, user=user)
    return data


def deletion_request_pending(*, user: User) -> DeletionRequest | None:
    return DeletionRequest.objects.filter(user=user,
                                          status=DeletionRequest.Status.PENDING).first()
