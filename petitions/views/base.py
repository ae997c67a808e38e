"""What the resident and the staff pages share: the typed signed-in user, the sign-in redirect,
the polled status block, and the submit form's htmx partials (the resident's form and the staff
intake form ask the same cascade and questions)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from core.types import signed_in_user
from petitions import rules, selectors
from petitions.forms import PetitionSubmitForm
from petitions.models import Petition
from petitions.presentation import answer_rows, clock_for, timeline_rows

PHOTO_ERROR_CODES = frozenset({"too_many_photos", "too_large", "invalid_image",
                               "too_many_pixels", "photo_expired"})



def status_context(request: HttpRequest, petition: Petition) -> dict[str, Any]:
    timeline = timeline_rows(selectors.petition_timeline(user=request.user, petition=petition),
                             petition)
    return {"petition": petition, "clock": clock_for(petition), "timeline": timeline,
            "is_staff_view": rules.is_staff(request.user), "answers": answer_rows(petition)}


def login_redirect(request: HttpRequest, url_name: str) -> HttpResponse:
    return redirect(f"{reverse(url_name)}?{urlencode({'next': request.get_full_path()})}")


# --- the submit form's htmx partials -----------------------------------------------------------

CASCADE = ("compound", "building", "unit", "household")


def location_picker_response(request: HttpRequest,
                             form_class: type[PetitionSubmitForm]) -> HttpResponse:
    """The cascading location selects of `form_class`, re-rendered when one changes (the levels
    below it are reset). The resident's form and the staff intake form share it."""
    changed = request.headers.get("HX-Trigger-Name", "")
    values: dict[str, Any] = {}
    for name in CASCADE:
        values[name] = request.GET.get(name, "")
        if name == changed:
            break
    form = form_class(user=signed_in_user(request.user), initial=values)
    response = render(request, "petitions/_location.html", {"form": form})
    response["HX-Trigger"] = "location-changed"
    return response


def questions_response(request: HttpRequest,
                       form_class: type[PetitionSubmitForm]) -> HttpResponse:
    """The chosen category's extra questions, as `form_class` asks them."""
    form = form_class(user=signed_in_user(request.user),
                      initial={"category": request.GET.get("category", "")})
    return render(request, "petitions/_questions.html", {"form": form})
