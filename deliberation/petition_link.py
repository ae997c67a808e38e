"""The only door between deliberation and petitions: its services (see petitions/CONTRACT.md).

- `refer` calls `petitions.services.petition_refer_to_deliberation(petition_id=…, actor=…)`
  (it checks the grid worker's scope and records the referral on the petition's timeline), then
  reads what a topic needs from the petition: its compound, a title and the description.
- `close` calls `petitions.services.petition_close_from_deliberation(petition_id=…, outcome=…,
  actor=…)` when the topic made from the petition is closed.
Both run inside the caller's transaction, so a refusal from petitions rolls the topic back too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError

if TYPE_CHECKING:
    from accounts.models import User


@dataclass(frozen=True)
class Referral:
    compound_id: int
    title: str
    description: str
    proposer_name: str


def _service(name: str) -> Any:
    try:
        from petitions import services as petition_services
    except ImportError:
        petition_services = None
    function = getattr(petition_services, name, None)
    if function is None:
        raise ApplicationError(_("诉求模块暂不支持转议，请稍后再试。"))
    return function


def is_available() -> bool:
    try:
        _service("petition_refer_to_deliberation")
        _service("petition_close_from_deliberation")
    except ApplicationError:
        return False
    return True


def refer(*, petition_id: int, actor: User) -> Referral:
    _service("petition_refer_to_deliberation")(petition_id=petition_id, actor=actor)
    petition_model = apps.get_model("petitions", "Petition")
    petition = (petition_model.objects
                .select_related("building", "household__building", "submitter")
                .get(pk=petition_id))
    building = petition.building or (petition.household.building if petition.household else None)
    if building is None:
        raise ApplicationError(_("该诉求没有落到具体小区，不能转为议题。"))
    description = str(petition.description)
    submitter = getattr(petition, "submitter", None)
    return Referral(
        compound_id=building.compound_id,
        title=_("诉求转议：%s") % description[:40],
        description=description,
        proposer_name=str(submitter) if submitter else _("诉求人"),
    )


def close(*, petition_id: int, outcome: str, actor: User) -> None:
    _service("petition_close_from_deliberation")(petition_id=petition_id, outcome=outcome,
                                                 actor=actor)
