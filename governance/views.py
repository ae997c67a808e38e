"""Public pages: a compound's party organisation, owners' committee and 亮身份 board."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from governance.selectors import compound_governance
from territory.selectors import compound_list


def governance_index(request: HttpRequest) -> HttpResponse:
    """Every compound; with only one, go straight to its page."""
    compounds = list(compound_list())
    if len(compounds) == 1:
        return redirect("governance:compound", compound_id=compounds[0].pk)
    return render(request, "governance/index.html", {"compounds": compounds})


def compound_detail(request: HttpRequest, compound_id: int) -> HttpResponse:
    overview = compound_governance(compound_id=compound_id, viewer=request.user)
    return render(request, "governance/compound.html", {"overview": overview})
