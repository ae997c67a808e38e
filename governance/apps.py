from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = _("组织与网格")

    def ready(self) -> None:
        from core.areas import AreaTree, area_tree_register
        from governance.filters import filter_within
        from governance.models import Area

        area_tree_register(AreaTree(model=Area, steplen=Area.steplen, within=filter_within))
