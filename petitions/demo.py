"""Demo petitions for 长江瑞城, consistent with the seed report.

60 petitions over the past five months, in every state: 24 关键小事 resolved and closed,
9 neighbour disputes mediated (邻里纠纷, closed), 7 complaints from the 12345 hotline and 诉速办
closed, and the rest in progress, returned, rejected, referred, reopened, escalated or under
supervision. Satisfaction among rated petitions is above 90%. Bulk inserts; deterministic.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from io import TextIOBase
from typing import Any

from django.utils import timezone

from accounts.models import User
from core.workdays import WorkCalendar
from petitions import policy
from petitions.models import (
    Category,
    Petition,
    PetitionEvent,
    PetitionMerge,
    SlaPolicy,
    Tier,
    is_internal_by_default,
)
from petitions.recurrence import recurrence_detect
from residents.models import Household
from territory.models import Area, Building, Compound

State = Petition.State
Kind = PetitionEvent.Kind

SMALL_MATTERS = [
    ("环境卫生", "楼道里堆放的纸箱和旧家具影响通行，请帮忙清理。"),
    ("物业设施", "单元门禁刷卡没反应，老人进出不方便。"),
    ("物业设施", "地下车库入口的路灯坏了，晚上很黑。"),
    ("环境卫生", "垃圾分类桶满溢，异味很大。"),
    ("停车充电", "电动车在楼道里充电，存在安全隐患。"),
    ("物业设施", "电梯按键失灵，9楼按不亮。"),
    ("安全隐患", "小区东门的井盖松动，踩上去晃。"),
    ("养老服务", "独居老人家里水龙头漏水，需要帮忙维修。"),
    ("噪音扰民", "晚上十点后广场舞音响太大。"),
    ("环境卫生", "绿化带里有建筑垃圾。"),
]
DISPUTES = [
    "楼上漏水渗到我家天花板，协商不成。",
    "邻居在公共走廊放鞋柜，占用通道。",
    "对门装修噪音持续，作息受影响。",
    "车位被邻居长期占用。",
    "楼上宠物狗夜间吠叫。",
]
EXTERNAL = [
    "12345 转办：小区充电桩数量不足，排队困难。",
    "诉速办：小区南门外占道经营，影响出行。",
    "12345 转办：楼栋外墙瓷砖脱落，存在坠落风险。",
]


@dataclass
class Cast:
    resident: User
    community: User
    street: User
    hotline: User | None
    micro: dict[int, int]  # micro-grid area id → user id
    grid: dict[str, int]  # grid path → user id


def _cast() -> Cast | None:
    users = {user.username: user for user in User.objects.filter(username__in=[
        "resident", "community", "street", "hotline12345", "grid1", "grid2",
        "micro1", "micro2", "micro3", "micro4", "micro5"]).select_related("scope_area")}
    if not {"resident", "community", "street"} <= set(users):
        return None
    micro = {user.scope_area_id: user.pk for user in users.values()
             if user.role == User.Role.MICROGRID_WORKER and user.scope_area_id}
    grid = {user.scope_area.path: user.pk for user in users.values()
            if user.role == User.Role.GRID_WORKER and user.scope_area is not None}
    return Cast(resident=users["resident"], community=users["community"],
                street=users["street"], hotline=users.get("hotline12345"), micro=micro, grid=grid)


# (final state, how many, size, channel, rating, extra) — 60 in all.
PLAN: list[tuple[str, int, str, str, str, str]] = [
    (State.CLOSED, 22, "small", "mobile_web", "satisfied", "small"),
    (State.CLOSED, 2, "small", "walk_in", "basic", "small"),
    (State.CLOSED, 9, "big", "walk_in", "satisfied", "dispute"),
    (State.CLOSED, 7, "small", "hotline_12345", "satisfied", "external"),
    (State.CLOSED, 1, "small", "mobile_web", "unsatisfied", "small_reopened"),
    (State.SUBMITTED, 2, "small", "mobile_web", "", "small"),
    (State.DISPATCHED, 3, "small", "mobile_web", "", "small"),
    (State.ON_SITE, 2, "small", "mobile_web", "", "small"),
    (State.RESOLVED, 2, "small", "phone", "", "small"),
    (State.VERIFIED, 1, "small", "mobile_web", "", "small"),
    (State.RETURNED, 1, "small", "mobile_web", "", "small"),
    (State.REJECTED, 1, "small", "mobile_web", "", "small"),
    (State.REFERRED, 2, "big", "mobile_web", "", "referred"),
    (State.DISPATCHED, 2, "small", "mobile_web", "", "escalated"),
    (State.DISPATCHED, 1, "hard", "walk_in", "", "supervised"),
    (State.DISPATCHED, 2, "small", "mobile_web", "", "reopened_open"),
    # A duplicate merged into the first dispatched petition (petitions/duplicates.py).
    (State.MERGED, 1, "small", "mobile_web", "", "merged"),
]


def load(*, compound: Compound, stdout: TextIOBase) -> None:
    cast = _cast()
    if cast is None or Petition.objects.exists():
        stdout.write("   petitions: demo users missing or petitions present; skipped\n")
        return
    rng = random.Random(7135)  # noqa: S311 - made-up data
    builder = _Builder(compound=compound, cast=cast, rng=rng)
    builder.build()
    stdout.write(f"   petitions: {len(builder.petitions)} petitions, "
                 f"{len(builder.events)} events, {builder.suggestions} 未诉先办 suggestion(s)\n")


class _Builder:
    def __init__(self, *, compound: Compound, cast: Cast, rng: random.Random) -> None:
        self.cast = cast
        self.rng = rng
        self.now = timezone.now()
        sla_policy = SlaPolicy.current()
        self.durations = policy.Durations.of(sla_policy)
        self.workdays = WorkCalendar()  # one read of the holiday table for every petition
        self.rating_window = sla_policy.rating_window
        self.buildings = list(Building.objects.filter(compound=compound)
                              .select_related("micro_grid").order_by("id"))
        self.categories = {category.name: category for category in Category.objects.all()}
        self.home = (Household.objects.filter(residents__user=cast.resident)
                     .select_related("building__micro_grid", "unit").first())
        self.area_by_path = {area.path: area for area in Area.objects.filter(
            path__in=[path for building in self.buildings
                      for path in (building.micro_grid.path[:12], building.micro_grid.path[:4])])}
        self.petitions: list[Petition] = []
        self.events: list[PetitionEvent] = []
        self._pending: list[list[dict[str, Any]]] = []
        self.suggestions = 0

    def build(self) -> None:
        index = 0
        for state, count, size, channel, rating, extra in PLAN:
            for _ in range(count):
                self._one(index, state=state, size=size, channel=channel, rating=rating,
                          extra=extra)
                index += 1
        created = Petition.objects.bulk_create(self.petitions)
        for petition, steps in zip(created, self._pending, strict=True):
            self.events.extend(
                PetitionEvent(petition_id=petition.pk,
                              **{"is_internal": is_internal_by_default(step["kind"]), **step})
                for step in steps)
        PetitionEvent.objects.bulk_create(self.events)
        self._link_merged(created)
        # 未诉先办: detection as the hourly task runs it, with the demo's thresholds whatever
        # the settings say. The resident's building has three 物业设施 petitions today (门禁,
        # 路灯, 电梯; plan indices 43, 46, 52) besides older ones: one open suggestion.
        self.suggestions = recurrence_detect(now=self.now, min_count=3, window_days=30)

    def _link_merged(self, created: list[Petition]) -> None:
        """The merged demo petition points to the first petition still being handled."""
        into = next(petition for petition in created if petition.state == State.DISPATCHED)
        PetitionMerge.objects.bulk_create([
            PetitionMerge(petition=petition, into=into, merged_by=self.cast.community,
                          merged_at=petition.closed_at or self.now, note="同一事项")
            for petition in created if petition.state == State.MERGED])

    def _text(self, extra: str, index: int) -> tuple[Category, str]:
        if extra == "dispute":
            return self.categories["邻里纠纷"], DISPUTES[index % len(DISPUTES)]
        if extra == "external":
            return self.categories["停车充电"], EXTERNAL[index % len(EXTERNAL)]
        name, text = SMALL_MATTERS[index % len(SMALL_MATTERS)]
        return self.categories[name], text

    def _submitted_at(self, state: str, extra: str) -> datetime:
        if state in (State.CLOSED, State.REJECTED, State.REFERRED) or extra == "supervised":
            return self.now - timedelta(days=self.rng.randint(8, 150), hours=self.rng.randint(0, 9))
        if extra == "escalated":
            return self.now - timedelta(days=1, hours=self.rng.randint(2, 20))
        return self.now - timedelta(hours=self.rng.randint(1, 20))

    def _one(self, index: int, *, state: str, size: str, channel: str, rating: str,
             extra: str) -> None:
        category, description = self._text(extra, index)
        building = self.buildings[index % len(self.buildings)]
        is_resident = channel == "mobile_web"
        if is_resident and index % 3 == 0 and self.home is not None:
            building = self.home.building
        submitted = self._submitted_at(state, extra)
        deadlines = policy.compute_deadlines(submitted, self.durations, workdays=self.workdays)
        tier = policy.initial_tier(size)
        if extra == "escalated":
            tier = "grid"
        micro = building.micro_grid
        area = micro if tier == Tier.MICROGRID else self.area_by_path[
            policy.tier_path(micro.path, tier)]
        holder_id = (self.cast.micro.get(micro.pk) if tier == "microgrid"
                     else self.cast.grid.get(micro.path[:12]) if tier == "grid"
                     else self.cast.street.pk)
        external = channel == "hotline_12345"
        if external and index % 2:
            channel = "susuban"
        household = self.home if is_resident and building == getattr(self.home, "building",
                                                                     None) else None
        petition = Petition(
            channel=channel, category=category, description=description, building=building,
            household=household,
            unit_number=household.unit.number if household is not None else "",
            room=household.room if household is not None else "",
            size=size, tier=tier, state=state, area=area, area_path=area.path,
            origin_path=micro.path,
            submitter=self.cast.resident if is_resident else None,
            recorded_by=self.cast.community if channel in ("walk_in", "phone") else None,
            external_system=self.cast.hotline if external and channel == "hotline_12345"
            else None,
            external_ref=f"12345-2025-{index:04d}" if external and channel == "hotline_12345"
            else None,
            contact_phone="13900000001" if is_resident else f"1370000{index:04d}",
            contact_name="王秀英" if is_resident else "",
            is_public=index % 2 == 0, submitted_at=submitted, clock_started_at=submitted,
            arrival_due_at=deadlines.arrival_due_at,
            microgrid_due_at=deadlines.microgrid_due_at, grid_due_at=deadlines.grid_due_at,
            street_due_at=deadlines.street_due_at, due_at=deadlines.for_tier(tier),
            deadline_estimated=deadlines.is_estimated,
        )
        steps = self._lifecycle(petition, holder_id=holder_id, rating=rating, extra=extra)
        self.petitions.append(petition)
        self._pending.append(steps)

    def _lifecycle(self, petition: Petition, *, holder_id: int | None, rating: str,
                   extra: str) -> list[dict[str, Any]]:
        """Walk the petition to its final state, stamping times and writing event rows."""
        final, at = petition.state, petition.submitted_at
        steps = [{"kind": Kind.SUBMITTED, "created_at": at}]

        def step(kind: str, old: str, new: str, minutes: int, note: str = "",
                 actor: int | None = None, **tiers: str) -> datetime:
            nonlocal at
            at = at + timedelta(minutes=minutes)
            steps.append({"kind": kind, "from_state": old, "to_state": new, "note": note,
                          "actor_id": actor, "created_at": at, **tiers})
            return at

        if final == State.SUBMITTED:
            return steps
        if final == State.REJECTED:
            petition.rejection_reason = "属于物业服务合同纠纷，已告知居民通过法律途径解决。"
            petition.closed_at = step(Kind.REJECTED, State.SUBMITTED, State.REJECTED, 30,
                                      petition.rejection_reason, self.cast.community.pk)
            return steps
        if final == State.REFERRED:
            petition.referred_at = step(Kind.REFERRED, State.SUBMITTED, State.REFERRED, 60,
                                        "涉及全体业主利益，提交15日议事会协商。",
                                        self.cast.community.pk)
            return steps
        petition.holder_id = holder_id
        petition.dispatched_at = step(Kind.DISPATCHED, State.SUBMITTED, State.DISPATCHED, 0,
                                      "自动派单")
        if extra == "escalated":
            steps.append({"kind": Kind.ESCALATED, "from_tier": "microgrid", "to_tier": "grid",
                          "note": "超过时限未办结，自动升级至网格。", "is_internal": False,
                          "created_at": petition.microgrid_due_at})  # the sweep's: for everyone
        if extra == "supervised":
            petition.supervised = True
            petition.supervised_at = petition.street_due_at
            steps.append({"kind": Kind.SUPERVISED, "note": "超过街道办结时限，列入督办。",
                          "created_at": petition.street_due_at})
        if final == State.DISPATCHED and extra not in ("reopened_open",):
            return steps
        if final == State.MERGED:
            petition.closed_at = step(Kind.MERGED, State.DISPATCHED, State.MERGED, 30,
                                      "已与同类诉求合并办理，办理结果出来后请您评价。",
                                      self.cast.community.pk)
            return steps
        if final == State.RETURNED:
            petition.holder_id = None
            step(Kind.RETURNED, State.DISPATCHED, State.RETURNED, 20, "不属于本微网格", holder_id)
            return steps
        petition.arrived_at = step(Kind.CHECKED_IN, State.DISPATCHED, State.ON_SITE,
                                   self.rng.choice([3, 4, 5, 6, 6, 9]), actor=holder_id)
        petition.arrival_missed = policy.is_late(petition.arrival_due_at, petition.arrived_at)
        # Checking in is accepting (petitions/acceptance.py); dispatched-only ones wait for 签收.
        petition.accepted_at = petition.last_progress_at = petition.arrived_at
        if final == State.ON_SITE:
            return steps
        return self._finish(petition, step, holder_id=holder_id, rating=rating, extra=extra,
                            steps=steps)

    def _finish(self, petition: Petition, step: Any, *, holder_id: int | None, rating: str,
                extra: str, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        final = petition.state
        hours = self.rng.randint(1, 20) if petition.size == "small" else self.rng.randint(20, 60)
        petition.resolution = ("已调解，双方达成一致并签订协议。" if extra == "dispute"
                               else "已现场处理完毕，并拍照留档。")
        petition.resolved_at = step(Kind.RESOLVED, State.ON_SITE, State.RESOLVED, hours * 60,
                                    petition.resolution, holder_id)
        petition.resolved_tier = petition.tier
        petition.resolved_on_time = policy.is_resolved_on_time(petition, petition.resolved_at)
        petition.resolved_by_id = holder_id
        if final == State.RESOLVED:
            return steps
        # Verified by someone other than the resolver: the grid worker, or the community when
        # the grid worker held (and resolved) it.
        grid_id = self.cast.grid.get(petition.origin_path[:12])
        verifier_id = grid_id if grid_id and grid_id != holder_id else self.cast.community.pk
        petition.verified_at = step(Kind.VERIFIED, State.RESOLVED, State.VERIFIED, 120,
                                    actor=verifier_id)
        petition.rating_due_at = petition.verified_at + self.rating_window
        if final == State.VERIFIED:
            return steps
        if extra in ("small_reopened", "reopened_open"):
            step(Kind.RATED, State.VERIFIED, State.RATED, 240, "不满意：问题反复出现")
            petition.reopened_count = 1
            step(Kind.REOPENED, State.RATED, State.REOPENED, 0, "居民不满意，重办")
            redispatched = step(Kind.DISPATCHED, State.REOPENED, State.DISPATCHED, 0,
                                "重办自动派单")
            # The reopen starts a new arrival clock (petitions.services._dispatch_to).
            petition.arrival_due_at = redispatched + self.durations.arrival
            petition.arrived_at = None
            if extra == "reopened_open":
                petition.state = State.DISPATCHED
                petition.resolved_at = None
                petition.resolved_on_time = None
                petition.resolved_tier = ""
                petition.resolved_by_id = None
                return steps
            # 办结 needs a check-in in every round (petitions.services.petition_resolve).
            petition.arrived_at = step(Kind.CHECKED_IN, State.DISPATCHED, State.ON_SITE, 5,
                                       actor=holder_id)
            petition.resolved_at = step(Kind.RESOLVED, State.ON_SITE, State.RESOLVED, 600,
                                        "二次处理完毕", holder_id)
            petition.verified_at = step(Kind.VERIFIED, State.RESOLVED, State.VERIFIED, 60,
                                        actor=verifier_id)
            petition.rating_due_at = petition.verified_at + self.rating_window
            petition.rating = Petition.Rating.UNSATISFIED
        else:
            petition.rating = rating
        petition.rated_at = step(Kind.RATED, State.VERIFIED, State.RATED, 240,
                                 str(Petition.Rating(petition.rating).label))
        petition.closed_at = step(Kind.CLOSED, State.RATED, State.CLOSED, 0)
        return steps
