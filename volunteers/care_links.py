"""volunteers' side of core/care_referral.py's `CareVisitLinks`: where a petition opened from a
care visit links back to it. Registered in VolunteersConfig.ready(); petitions never imports this
app. The link opens the elder's care file at the visit, for whoever may read that file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import Http404
from django.urls import reverse

from volunteers.selectors import care_visit_get_for_user

if TYPE_CHECKING:
    from accounts.models import User


def care_visit_url(*, user: User, care_visit_id: int) -> str | None:
    try:
        visit = care_visit_get_for_user(user=user, visit_id=care_visit_id)
    except Http404:
        return None
    return f"{reverse('volunteers:care-detail', args=[visit.care_file_id])}#visit-{visit.pk}"
