"""What more than one of volunteering's services needs: the staff gate and the check-in window."""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import PermissionDeniedError
from territory.models import Compound
from volunteers import rules

CHECK_IN_EARLY = timedelta(minutes=60)


def require_staff(user: User, compound: Compound) -> None:
    if not rules.is_staff_for_compound(user, compound):
        raise PermissionDeniedError(_("您无权管理该小区的志愿服务。"))
