"""Where a petition sits and who holds it, per tier.

The territory tree uses treebeard paths of 4 characters a level: street (1) → community (2) →
grid (3) → micro-grid (4). A tier's holding area is therefore a prefix of the micro-grid's path,
which lets the sweep compute the new area and holder inside one UPDATE.
"""

from __future__ import annotations

from datetime import date

from django.db.models import F, Func, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone

from accounts.models import User
from governance.models import Area, StaffPost

STEP = 4
TIER_DEPTH = {"microgrid": 4, "grid": 3, "street": 1}
TIER_ROLE = {"microgrid": User.Role.MICROGRID_WORKER, "grid": User.Role.GRID_WORKER,
             "street": User.Role.STREET_ADMIN}
TIER_POST = {"microgrid": StaffPost.Kind.MICROGRID_WORKER, "grid": StaffPost.Kind.GRID_WORKER}


def tier_path(path: str, tier: str) -> str:
    return path[: STEP * TIER_DEPTH[tier]]


def tier_area(origin: Area, tier: str) -> Area:
    """The area holding a petition at `tier`, for a petition located in `origin`."""
    path = tier_path(origin.path, tier)
    if path == origin.path:
        return origin
    return Area.objects.get(path=path)


def _active_posts(today: date) -> QuerySet[StaffPost]:
    return StaffPost.objects.filter(user__isnull=False, user__is_active=True).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today)
    )


def tier_holder_id(area: Area, tier: str) -> int | None:
    """The worker of that tier's area: a user with the role scoped there, else a staff post."""
    user_id = (User.objects.filter(role=TIER_ROLE[tier], is_active=True, scope_area=area)
               .order_by("id").values_list("id", flat=True).first())
    if user_id is None and tier in TIER_POST:
        user_id = (_active_posts(timezone.localdate()).filter(kind=TIER_POST[tier], area=area)
                   .order_by("id").values_list("user_id", flat=True).first())
    if user_id is None and tier == "street":
        user_id = (User.objects.filter(role=User.Role.STREET_ADMIN, is_active=True,
                                       scope_area__isnull=True)
                   .order_by("id").values_list("id", flat=True).first())
    return user_id


def holder_expression(tier: str, path_field: str = "area_path") -> Func:
    """An SQL expression, per row, of the holder for `tier` (same rule as tier_holder_id)."""
    prefix = Substr(OuterRef(path_field), 1, STEP * TIER_DEPTH[tier])
    by_role = (User.objects.filter(role=TIER_ROLE[tier], is_active=True,
                                   scope_area__path=prefix).order_by("id").values("id")[:1])
    candidates: list[Subquery] = [Subquery(by_role)]
    if tier in TIER_POST:
        by_post = (_active_posts(timezone.localdate())
                   .filter(kind=TIER_POST[tier], area__path=prefix)
                   .order_by("id").values("user_id")[:1])
        candidates.append(Subquery(by_post))
    candidates.append(F("holder_id"))
    return Coalesce(*candidates)


def area_expression(tier: str, path_field: str = "area_path") -> Func:
    prefix = Substr(OuterRef(path_field), 1, STEP * TIER_DEPTH[tier])
    return Coalesce(Subquery(Area.objects.filter(path=prefix).values("id")[:1]),
                    F("area_id"))
