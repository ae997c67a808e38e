"""What the pages show of duplicates (petitions/duplicates.py): the staff page's list and its
merge form, a merged petition's link and what was merged into a petition, the resident's page of
a merged petition, and the resident form's choice. Used by views/staff.py, views/resident.py
and views/duplicates.py (no view here, so none of them imports another for it)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext_lazy as _lazy

from petitions import duplicates
from petitions import forms as petition_forms
from petitions.models import OPEN_STATES, Petition, PetitionMerge
from petitions.rules import Viewer
from petitions.selectors import petition_public_text


class MergeForm(forms.Form):
    """Merge this petition into another: the other's number, a note, and a ticked box (the
    confirmation: the merge finishes this petition and cannot be undone)."""

    into = forms.IntegerField(label=_lazy("并入诉求编号"), min_value=1,
                              error_messages={"required": _lazy("请选择要并入的诉求。"),
                                              "invalid": _lazy("请选择要并入的诉求。")})
    note = forms.CharField(label=_lazy("合并说明（仅工作人员可见）"), max_length=500,
                           required=False, widget=forms.Textarea(attrs={"rows": 2}))
    confirm = forms.BooleanField(
        label=_lazy("我已核对，两件诉求是同一件事；合并后本诉求结束，不可撤销。"),
        error_messages={"required": _lazy("请勾选确认后再合并。")})


def duplicates_context(*, user: Viewer, petition: Petition) -> dict[str, Any]:
    """What the staff page shows of duplicates: the likely ones (with a merge form each the
    user may use), the link of a merged petition, and what was merged into this one."""
    found = duplicates.petition_likely_duplicates_for_user(user=user, petition=petition)
    mergeable = {item.petition.pk for item in found
                 if petition.state in OPEN_STATES
                 and duplicates.may_merge(user, petition, item.petition)}
    merged_records = duplicates.petition_merged_records(user=user, petition=petition)
    return {
        "duplicates": found,
        "mergeable_ids": mergeable,
        "merge_form": MergeForm(auto_id="id_merge_%s"),
        "merge_link": duplicates.merge_for_petition(petition=petition),
        "merged_records": merged_records,
        "merged_ratings": (duplicates.merged_rating_counts(petition=petition)
                           if merged_records else {}),
    }


def merged_context(*, user: Viewer, petition: Petition) -> dict[str, Any]:
    """The resident's page of a merged petition: the kept petition's state and dates, its
    result only when its submitter agreed to publish it (masked as the 公示), and the rating
    form once that result is verified. Nothing else of the other petition."""
    link: PetitionMerge | None = duplicates.merge_for_petition(petition=petition)
    if link is None:
        return {}
    into = link.into
    return {
        "merge_link": link,
        "merged_into_state": into.get_state_display(),
        "merged_into_result": (petition_public_text(into.resolution)
                               if into.is_public and into.verified_at else ""),
        "merge_rate_form": (petition_forms.RateForm(auto_id="id_merged_%s")
                            if duplicates.may_rate_merged(user, petition, link) else None),
    }


def join_target(value: str) -> int | None:
    """The resident's choice on the offer: `join:<id>` follows that petition, `new` (or
    anything else) submits anyway."""
    head, _sep, tail = value.partition(":")
    if head != "join" or not tail.isdigit() or len(tail) > 15:
        return None
    return int(tail)


# Offers a resident may be shown a day. An offer answers "is a similar request open in this
# building?" without creating anything, so without a cap a resident could resubmit guessed
# texts to learn what a neighbour reported; past the cap the form simply submits (a real,
# accountable petition that staff may merge).
OFFERS_PER_DAY = 5


def resident_hints(data: dict[str, Any], *, user_id: int) -> list[duplicates.DuplicateHint]:
    """The offer on the resident's form (its cleaned data): similar requests being handled in
    the building of the household or the building picked (none for an address alone: where it
    is is known only once it is placed), at most OFFERS_PER_DAY a day per resident."""
    household, building = data.get("household"), data.get("building")
    building_id = (household.building_id if household is not None
                   else building.pk if building is not None else None)
    if building_id is None or data.get("category") is None:
        return []
    key = f"petitions:duplicate-offers:{user_id}:{timezone.localdate().isoformat()}"
    if (cache.get(key) or 0) >= OFFERS_PER_DAY:
        return []
    hints = duplicates.duplicate_hints_for_resident(
        category_id=data["category"].pk, building_id=building_id,
        description=data.get("description", ""))
    if hints:
        cache.add(key, 0, timeout=60 * 60 * 24)
        cache.incr(key)
    return hints
