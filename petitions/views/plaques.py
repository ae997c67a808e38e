"""Building QR plaques (楼栋码): one printed A4 sheet per building, one URL for everyone.

Whoever scans the plaque opens `/petitions/plaque/<token>/`:
- a resident goes to the petition form with the building filled in;
- a staff member sees the petitions they hold in that building that wait for their arrival, and
  checks in with one tap (recorded as a check-in by plaque: proof of arrival for the 7 minutes);
- a visitor is offered both sign-ins, each coming back to the plaque.
"""

from __future__ import annotations

import segno
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views import View

from core.exceptions import ApplicationError
from core.scope import path_in_scope
from core.types import signed_in_user
from petitions import rules, selectors, services
from petitions.models import BuildingPlaque, PetitionState
from petitions.views.staff import StaffView
from territory.models import Building

AWAITING_ARRIVAL = (PetitionState.DISPATCHED,)


def _plaque(token: str) -> BuildingPlaque:
    plaque = (BuildingPlaque.objects.select_related("building__compound", "building__micro_grid")
              .filter(token=token).first())
    if plaque is None:
        raise Http404(_("楼栋码无效或已停用。"))
    return plaque


class PlaqueScanView(View):
    def get(self, request: HttpRequest, plaque_token: str) -> HttpResponse:
        plaque = _plaque(plaque_token)
        building = plaque.building
        user = request.user
        if rules.is_staff(user):
            petitions = (selectors.petition_list(user=user)
                         .filter(building_id=building.pk, holder_id=user.pk,
                                 state__in=AWAITING_ARRIVAL)
                         .order_by("arrival_due_at", "id"))
            return render(request, "petitions/plaque_staff.html", {
                "plaque": plaque, "building": building, "petitions": list(petitions[:20])})
        if rules.is_resident(user):
            return redirect(f"{reverse('petitions:create')}?building={building.pk}")
        return render(request, "petitions/plaque_landing.html", {
            "building": building, "here": request.get_full_path()})


class PlaqueCheckInView(View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, plaque_token: str, pk: int) -> HttpResponse:
        plaque = _plaque(plaque_token)
        if not rules.is_staff(request.user):
            raise Http404
        petition = selectors.petition_get_for_user(user=request.user, petition_id=pk)
        try:
            services.petition_check_in(petition_id=petition.pk, actor=signed_in_user(request.user),
                                       plaque_building_id=plaque.building_id)
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect("petitions:plaque", plaque_token=plaque.token)
        messages.success(request, _("已扫码签到，到场时间已记录。"))
        return redirect("petitions:staff-detail", pk=petition.pk)


class BuildingPlaqueSheetView(StaffView):
    """The printable A4 sheet of one building in the viewer's scope."""

    def get(self, request: HttpRequest, building_id: int) -> HttpResponse:
        building = (Building.objects.select_related("compound", "micro_grid")
                    .filter(pk=building_id).first())
        if building is None or not path_in_scope(request.user, building.micro_grid.path):
            raise Http404(_("楼栋不存在。"))
        plaque = services.building_plaque_get_or_create(building_id=building.pk)
        link = request.build_absolute_uri(reverse("petitions:plaque", args=[plaque.token]))
        return render(request, "petitions/staff/plaque_sheet.html", {
            "building": building, "link": link,
            # segno draws our own URL: pixels, no user text.
            "qr_svg": mark_safe(segno.make(link, error="q").svg_inline(omitsize=True))})

