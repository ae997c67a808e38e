from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from core.types import AuthenticatedHttpRequest
from notifications.selectors import notification_get_for_user, notification_list
from notifications.services import notification_mark_read


@login_required
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    notifications = notification_list(user_id=request.user.pk)
    return render(request, "notifications/inbox.html", {"notifications": notifications})


@login_required
@require_GET
def notification_open(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Opening a message marks it read and goes to the page it is about.

    Links are written by our own services; one that is not a path on this site (a row edited by
    hand) ends on the inbox rather than sending the reader elsewhere.
    """
    notification = notification_get_for_user(user_id=request.user.pk, notification_id=pk)
    notification_mark_read(user_id=request.user.pk, notification_id=notification.pk)
    link = notification.link
    if link and link.startswith("/") and url_has_allowed_host_and_scheme(
            link, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(link)
    return redirect("notifications:inbox")


@login_required
@require_POST
def mark_all_read(request: AuthenticatedHttpRequest) -> HttpResponse:
    notification_mark_read(user_id=request.user.pk)
    return redirect("notifications:inbox")
