from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TerritoryConfig(AppConfig):
    name = "territory"
    verbose_name = _("区域/网格")

    def ready(self) -> None:
        from core.areas import AreaTree, area_tree_register
        from territory.filters import filter_within
        from territory.models import Area

        # core (admin area filters, protected lookups) reads the area tree through this.
        area_tree_register(AreaTree(model=Area, steplen=Area.steplen, within=filter_within))
