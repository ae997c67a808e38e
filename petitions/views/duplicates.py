"""The duplicates' two POSTs (petitions/duplicates.py): staff merge a petition into a likely
duplicate from its page (a confirmation box ticked, a note), and the submitter of a merged
petition rates the result of the one it was merged into. What the pages show is built in
views/duplicate_context.py."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from petitions import duplicates
from petitions import forms as petition_forms
from petitions.models import Petition
from petitions.views.duplicate_context import MergeForm
from petitions.views.resident import ResidentActionView
from petitions.views.staff import StaffActionView


class PetitionMergeView(StaffActionView):
    """POST /petitions/staff/<pk>/merge/: merge this petition into `into` (a dispatcher)."""

    form_class = MergeForm

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        return duplicates.petition_merge(petition_id=petition.pk, into_id=data["into"],
                                         actor=self.actor, note=data.get("note", ""))

    def success_text(self, result: Any) -> str:
        return (_("已并入诉求 #%(id)s，原诉求的照片和办理记录可在该诉求页面查看。")
                % {"id": result.pk})


class PetitionMergeRateView(ResidentActionView):
    """POST /petitions/<pk>/merged-rate/: the submitter of a merged petition rates the result
    of the petition it was merged into."""

    form_class = petition_forms.RateForm
    success_message = _lazy("感谢您的评价。")

    def perform(self, petition: Petition, data: dict[str, Any]) -> Any:
        return duplicates.petition_merge_rate(petition_id=petition.pk, actor=self.actor,
                                              rating=data["rating"],
                                              comment=data.get("comment", ""))
