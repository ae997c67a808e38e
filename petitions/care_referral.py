"""petitions' side of core/care_referral.py: a need found on a care visit becomes a petition
recorded by staff (代录 as a walk-in), keeping the visit's id (`Petition.care_visit_id`, shown
on the staff page as a link for whoever may open the care file) and naming it on the timeline.
Registered as the `PetitionOpener` in PetitionsConfig.ready(); volunteers never imports this
app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from core.care_referral import NeedCategory
from core.exceptions import ApplicationError
from petitions.intake import petition_intake
from petitions.models import Category, Petition
from petitions.services import Kind, _event
from residents.models import Household

if TYPE_CHECKING:
    from accounts.models import User


def categories() -> list[NeedCategory]:
    return [NeedCategory(id=category.pk, name=category.name)
            for category in Category.objects.filter(is_active=True).order_by("id")]


def open_for_care_visit(*, actor: User, household_id: int, category_id: int, description: str,
                        contact_name: str, care_visit_id: int) -> int:
    category = Category.objects.filter(pk=category_id, is_active=True).first()
    if category is None:
        raise ApplicationError(_("请选择诉求分类。"))
    household = Household.objects.select_related("building").get(pk=household_id)
    # Not public: the need was told to a carer in the elder's home.
    petition = petition_intake(actor=actor, channel=Petition.Channel.WALK_IN, category=category,
                               description=description, contact_name=contact_name,
                               household=household, is_public=False)
    petition.care_visit_id = care_visit_id
    petition.save(update_fields=["care_visit_id", "updated_at"])
    _event(petition, kind=Kind.NOTE, actor=actor, is_internal=True, notify=False,
           note=_("由关爱走访记录 #%(id)s 发现的需求转来（志愿服务·关爱档案）。")
           % {"id": care_visit_id})
    return petition.pk
