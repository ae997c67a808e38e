"""Demo volunteers for 长江瑞城, with the seed report's figures.

红色尖兵志愿服务队 (building party members, grid workers, building heads, the community police);
the 30-person 爱心管家 caring team; 6 culture and sports teams; 15 party-member responsibility
zones and 8 service posts with weekly rosters; 24 past activities (清雪除冰, 防汛, 洁净家园, 义诊,
公益市集, 消防演练) with approved hours and 3 upcoming ones; 22 fulfilled micro-wishes plus a few
open ones; 8 proxy services done plus two open; care files with visits for every elder tagged
独居/空巢. Deterministic; bulk inserts throughout.
"""

from __future__ import annotations

import random
import time as time_module
from collections import defaultdict
from datetime import datetime, time, timedelta
from decimal import Decimal
from io import TextIOBase
from typing import Any

from django.utils import timezone

from accounts.models import User
from governance.models import StaffPost
from residents.models import Household, PartyMember, Resident
from territory.models import Building, Compound
from volunteers.models import (
    Activity,
    ActivitySignup,
    CareFile,
    CareVisit,
    HoursEntry,
    MicroWish,
    MicroWishEvent,
    ProxyService,
    ProxyServiceEvent,
    ResponsibilityZone,
    RosterSlot,
    ServicePost,
    Shift,
    Team,
    TeamMembership,
    Volunteer,
)
from volunteers.services.activities import hours_compute
from volunteers.services.rosters import roster_generate

SERVICE_TEAM = "红色尖兵志愿服务队"
CARING_TEAM = "爱心管家"
CARING_TEAM_SIZE = 30
CULTURE_TEAMS = [("舞蹈队", Team.Kind.CULTURE), ("合唱队", Team.Kind.CULTURE),
                 ("书法国画队", Team.Kind.CULTURE), ("摄影队", Team.Kind.CULTURE),
                 ("太极拳队", Team.Kind.SPORTS), ("乒乓球队", Team.Kind.SPORTS)]
POSTS = [
    (ServicePost.Kind.POLICY_PUBLICITY, "政策宣传岗", "党群服务站", "宣传惠民政策、解答居民咨询"),
    (ServicePost.Kind.DISPUTE_MEDIATION, "矛盾调解岗", "议事厅", "邻里纠纷劝导、协助调解"),
    (ServicePost.Kind.ENVIRONMENT, "环境整治岗", "小区各楼栋", "楼道清理、垃圾分类督导"),
    (ServicePost.Kind.SAFETY_PATROL, "安全巡查岗", "小区东门", "消防通道、电动车充电巡查"),
    (ServicePost.Kind.ELDERLY_CARE, "敬老助老岗", "长者活动室", "陪伴老人、代购代办"),
    (ServicePost.Kind.CIVILITY, "文明引导岗", "小区广场", "文明养犬、停车引导"),
    (ServicePost.Kind.OPINION, "民情收集岗", "党群服务站", "收集居民诉求、反馈办理结果"),
    (ServicePost.Kind.YOUTH, "关爱青少年岗", "四点半课堂", "课后看护、假期托管"),
]
# (kind, title, months in which it happens, location)
ACTIVITY_KINDS = [
    (Activity.Kind.SNOW_CLEARING, "清雪除冰", (1, 2, 12), "小区主干道"),
    (Activity.Kind.FLOOD_PREVENTION, "防汛排查", (6, 7, 8), "地下车库"),
    (Activity.Kind.CLEANING, "洁净家园", (3, 4, 5, 9, 10, 11), "小区各楼栋"),
    (Activity.Kind.FREE_CLINIC, "健康义诊", (4, 9), "党群服务站"),
    (Activity.Kind.CHARITY_MARKET, "公益市集", (5, 10), "小区广场"),
    (Activity.Kind.FIRE_DRILL, "消防演练", (3, 11), "小区东门"),
]
PAST_ACTIVITIES = 24
FULFILLED_WISHES = 22
DONE_PROXY_SERVICES = 8
WISHES = ["想要一台收音机", "希望有人教我用智能手机", "想要一副老花镜", "家里灯泡坏了需要更换",
          "想要一套儿童绘本", "希望有人陪我去医院复查", "想要一个助行器", "想学写毛笔字",
          "阳台晾衣架坏了", "想要一床厚棉被", "希望帮忙修好自行车", "想要一个血压计",
          "孩子需要课外辅导", "想要一个保温杯", "希望帮忙整理旧物", "想要几盆绿植",
          "想要一双防滑棉鞋", "希望有人帮忙读报", "想要一个电热水壶", "希望帮忙贴春联",
          "想要一本大字版字典", "想要一个按摩靠垫", "希望有人陪着晒晒太阳", "想要一副象棋",
          "希望帮忙疏通下水道"]
PROXY = [
    (ProxyService.Kind.PAYMENT, "代缴水电燃气费"), (ProxyService.Kind.MEDICINE, "代购降压药"),
    (ProxyService.Kind.PAPERWORK, "代办高龄补贴认证"), (ProxyService.Kind.DELIVERY, "代取快递"),
    (ProxyService.Kind.PAPERWORK, "代办医保报销材料"), (ProxyService.Kind.MEDICINE, "代购胰岛素"),
    (ProxyService.Kind.PAYMENT, "代缴有线电视费"), (ProxyService.Kind.OTHER, "代约家电维修"),
    (ProxyService.Kind.DELIVERY, "代取药品快递"), (ProxyService.Kind.PAPERWORK, "代办老年证"),
]
VISIT_NOTES = ["精神状态良好，按时服药。", "血压偏高，已提醒复查。", "家中整洁，冰箱食物充足。",
               "腿脚不便，已约好下周代购。", "子女本周来电问候，情绪不错。", "天冷，已检查暖气。"]


def load(*, compound: Compound, stdout: TextIOBase) -> None:
    users = {user.username: user for user in User.objects.filter(
        username__in=["community", "grid1", "grid2", "resident"])}
    if "community" not in users or Team.objects.filter(compound=compound).exists():
        stdout.write("   volunteers: demo users missing or teams present; skipped\n")
        return
    builder = _Builder(compound=compound, users=users, rng=random.Random(2024))  # noqa: S311
    started = time_module.monotonic()
    builder.build()
    stdout.write(f"   volunteers: {builder.summary()}"
                 f"（{time_module.monotonic() - started:.1f} s）\n")


class _Builder:
    def __init__(self, *, compound: Compound, users: dict[str, User],
                 rng: random.Random) -> None:
        self.compound = compound
        self.users = users
        self.rng = rng
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.staff = users["community"]
        self.buildings = list(Building.objects.filter(compound=compound).order_by("id"))
        self.members = list(PartyMember.objects
                            .filter(resident__household__building__compound=compound)
                            .select_related("resident__household").order_by("id"))
        self.counts: dict[str, int] = {}

    def build(self) -> None:
        self._volunteers()
        self._teams()
        self._zones()
        self._posts()
        self._activities()
        self._wishes()
        self._proxy_services()
        self._care()

    def summary(self) -> str:
        return "、".join(f"{name} {count}" for name, count in self.counts.items())

    # --- people and teams -------------------------------------------------------------------

    def _volunteers(self) -> None:
        """One Volunteer per person; party members are marked."""
        by_building: dict[int, list[PartyMember]] = defaultdict(list)
        for member in self.members:
            by_building[member.resident.household.building_id].append(member)
        # Two party members per building stand in the service team (楼栋党员).
        self.building_members = [member for building in self.buildings
                                 for member in by_building[building.id][:2]]
        self.carer_members = [member for member in self.members
                              if member not in self.building_members][:18]
        rows = [self._member_volunteer(member)
                for member in self.building_members + self.carer_members]
        rows += [Volunteer(compound=self.compound, user=self.users[name], name=user.display_name,
                           identity=Volunteer.Identity.GRID_WORKER)
                 for name in ("grid1", "grid2") if (user := self.users.get(name))]
        heads = list(StaffPost.objects.filter(compound=self.compound,
                                              kind=StaffPost.Kind.BUILDING_HEAD))
        head_residents = {resident.phone: resident for resident in Resident.objects.filter(
            phone__in=[head.phone for head in heads if head.phone])}
        taken = {member.resident_id for member in self.building_members + self.carer_members}
        for head in heads:
            resident = head_residents.get(head.phone)
            if resident is not None and resident.id not in taken:
                taken.add(resident.id)
                rows.append(Volunteer(compound=self.compound, resident=resident,
                                      name=head.holder_name, phone=head.phone,
                                      identity=Volunteer.Identity.BUILDING_HEAD))
        police = StaffPost.objects.filter(compound=self.compound,
                                          kind=StaffPost.Kind.COMMUNITY_POLICE).first()
        rows.append(Volunteer(compound=self.compound, name=police.holder_name if police
                              else "社区民警", phone=police.phone if police else "",
                              identity=Volunteer.Identity.POLICE))
        residents = list(Resident.objects.filter(household__building__compound=self.compound,
                                                 birth_year__gte=1950, birth_year__lte=1995)
                         .exclude(id__in=taken).exclude(user__isnull=False).order_by("id")[:90])
        self.resident_volunteers = [
            Volunteer(compound=self.compound, resident=resident, name=resident.name,
                      phone=resident.phone) for resident in residents]
        me = Resident.objects.filter(user=self.users.get("resident")).first()
        if me is not None and me.id not in taken:
            self.resident_volunteers.append(Volunteer(
                compound=self.compound, resident=me, user=self.users["resident"], name=me.name,
                phone=me.phone))
        self.volunteers = Volunteer.objects.bulk_create(rows + self.resident_volunteers)
        self.counts["志愿者"] = len(self.volunteers)

    def _member_volunteer(self, member: PartyMember) -> Volunteer:
        return Volunteer(compound=self.compound, resident=member.resident, party_member=member,
                         name=member.resident.name, phone=member.resident.phone,
                         identity=Volunteer.Identity.PARTY_MEMBER, skills=member.skills)

    def _teams(self) -> None:
        teams = Team.objects.bulk_create(
            [Team(compound=self.compound, name=SERVICE_TEAM, kind=Team.Kind.SERVICE,
                  description="楼栋党员、网格员、楼栋长、社区民警共同组成"),
             Team(compound=self.compound, name=CARING_TEAM, kind=Team.Kind.CARING,
                  description="党员、网格员、志愿者组成，定期走访独居老人、帮办代办")]
            + [Team(compound=self.compound, name=name, kind=kind) for name, kind in CULTURE_TEAMS])
        self.service_team, self.caring_team, *culture = teams
        by_identity: dict[str, list[Volunteer]] = defaultdict(list)
        for volunteer in self.volunteers:
            by_identity[volunteer.identity].append(volunteer)
        party = [volunteer for volunteer in self.volunteers if volunteer.party_member_id]
        self.service_members = (party[:len(self.building_members)]
                                + by_identity[Volunteer.Identity.GRID_WORKER]
                                + by_identity[Volunteer.Identity.BUILDING_HEAD]
                                + by_identity[Volunteer.Identity.POLICE])
        plain = [volunteer for volunteer in self.volunteers
                 if volunteer.identity == Volunteer.Identity.RESIDENT]
        grid = by_identity[Volunteer.Identity.GRID_WORKER]
        self.carers = (party[len(self.building_members):] + grid)[:CARING_TEAM_SIZE - 10]
        self.carers += plain[:CARING_TEAM_SIZE - len(self.carers)]
        join = self.today - timedelta(days=600)
        rows = [TeamMembership(team=self.service_team, volunteer=volunteer, joined_on=join,
                               role=TeamMembership.Role.LEADER if index == 0
                               else TeamMembership.Role.MEMBER)
                for index, volunteer in enumerate(self.service_members)]
        rows += [TeamMembership(team=self.caring_team, volunteer=volunteer, joined_on=join)
                 for volunteer in self.carers]
        others = plain[10:]
        for index, team in enumerate(culture):
            rows += [TeamMembership(team=team, volunteer=volunteer, joined_on=join)
                     for volunteer in others[index * 12:(index + 1) * 12]]
        mine = [volunteer for volunteer in self.volunteers if volunteer.user_id
                and volunteer.user_id == getattr(self.users.get("resident"), "id", None)]
        rows += [TeamMembership(team=culture[0], volunteer=volunteer, joined_on=join)
                 for volunteer in mine]
        TeamMembership.objects.bulk_create(rows, ignore_conflicts=True)
        self.counts["团队"] = len(teams)
        self.counts["爱心管家"] = len(self.carers)

    # --- zones, posts, rosters --------------------------------------------------------------

    def _zones(self) -> None:
        households: dict[int, list[int]] = defaultdict(list)
        for household_id, building_id in Household.objects.filter(
                building__compound=self.compound).order_by("id").values_list("id", "building_id"):
            households[building_id].append(household_id)
        zones = ResponsibilityZone.objects.bulk_create([
            ResponsibilityZone(compound=self.compound, number=index + 1,
                               name=f"{building.number}号楼责任区",
                               party_member=self.building_members[
                                   min(index * 2, len(self.building_members) - 1)],
                               duties="政策宣传、民情收集、矛盾劝导、安全提醒")
            for index, building in enumerate(self.buildings)])
        building_links = ResponsibilityZone.buildings.through
        household_links = ResponsibilityZone.households.through
        building_links.objects.bulk_create([
            building_links(responsibilityzone_id=zone.id, building_id=building.id)
            for zone, building in zip(zones, self.buildings, strict=True)])
        household_links.objects.bulk_create([
            household_links(responsibilityzone_id=zone.id, household_id=household_id)
            for zone, building in zip(zones, self.buildings, strict=True)
            for household_id in households[building.id][:20]])
        PartyMember.objects.filter(pk__in=[zone.party_member_id for zone in zones],
                                   duties="").update(duties="责任区党员：联系本楼住户，收集诉求")
        self.counts["责任区"] = len(zones)

    def _posts(self) -> None:
        posts = ServicePost.objects.bulk_create([
            ServicePost(compound=self.compound, kind=kind, name=name, location=location,
                        description=description)
            for kind, name, location, description in POSTS])
        party = [volunteer for volunteer in self.volunteers if volunteer.party_member_id]
        slots = []
        for index, post in enumerate(posts):
            for offset, (weekday, start) in enumerate(((index % 5, 9), ((index + 2) % 7, 15))):
                volunteer = party[(index * 2 + offset) % len(party)]
                slots.append(RosterSlot(post=post, volunteer=volunteer, weekday=weekday,
                                        start_time=time(start), end_time=time(start + 2)))
        RosterSlot.objects.bulk_create(slots)
        shifts = sum(roster_generate(post=post, start=self.today - timedelta(days=14),
                                     end=self.today + timedelta(days=27))
                     for post in posts)
        Shift.objects.filter(post__in=posts, ends_at__lt=self.now).update(
            status=Shift.Status.CHECKED_IN, checked_in_at=None, reminded_at=self.now)
        self.counts["服务岗"] = len(posts)
        self.counts["班次"] = shifts

    # --- activities and hours ---------------------------------------------------------------

    def _activity_dates(self) -> list[tuple[tuple[Any, ...], datetime]]:
        """Past activities, one or two a month, each of a kind that fits the season."""
        zone = timezone.get_current_timezone()
        picked: list[tuple[tuple[Any, ...], datetime]] = []
        day = self.today.replace(day=1)
        while len(picked) < PAST_ACTIVITIES:
            day = (day - timedelta(days=1)).replace(day=1)
            fitting = [kind for kind in ACTIVITY_KINDS if day.month in kind[2]]
            for kind in fitting[:2 if len(picked) % 3 == 0 else 1]:
                start = datetime.combine(day.replace(day=self.rng.randint(3, 26)), time(8 + len(
                    picked) % 3), tzinfo=zone)
                picked.append((kind, start))
        return picked[:PAST_ACTIVITIES]

    def _activities(self) -> None:
        activities = []
        for kind, starts_at in self._activity_dates():
            activities.append(self._activity(kind, starts_at, Activity.Status.CLOSED))
        zone = timezone.get_current_timezone()
        for offset, kind in zip((3, 10, 17), (ACTIVITY_KINDS[2], ACTIVITY_KINDS[3],
                                               ACTIVITY_KINDS[5]), strict=True):
            start = datetime.combine(self.today + timedelta(days=offset), time(9), tzinfo=zone)
            activities.append(self._activity(kind, start, Activity.Status.OPEN))
        activities = Activity.objects.bulk_create(activities)
        signups, entries = [], []
        pool = self.service_members + self.carers[:10]
        for activity in activities:
            is_past = activity.ends_at < self.now
            chosen = self.rng.sample(pool, min(len(pool), self.rng.randint(12, 22)))
            for volunteer in chosen[:activity.capacity]:
                signup = ActivitySignup(activity=activity, volunteer=volunteer,
                                        status=ActivitySignup.Status.CONFIRMED,
                                        signed_up_at=activity.starts_at - timedelta(days=3))
                if is_past:
                    signup.checked_in_at = activity.starts_at + timedelta(
                        minutes=self.rng.randint(0, 15))
                    signup.checked_out_at = activity.ends_at - timedelta(
                        minutes=self.rng.randint(0, 20))
                signups.append(signup)
        signups = ActivitySignup.objects.bulk_create(signups)
        by_id = {activity.id: activity for activity in activities}
        for signup in signups:
            if signup.checked_in_at is None or signup.checked_out_at is None:
                continue  # a past sign-up has both, an upcoming one neither
            activity = by_id[signup.activity_id]
            entries.append(HoursEntry(
                volunteer_id=signup.volunteer_id, activity=activity, signup=signup,
                source=HoursEntry.Source.APP, status=HoursEntry.Status.APPROVED,
                hours=hours_compute(activity=activity, checked_in_at=signup.checked_in_at,
                                    checked_out_at=signup.checked_out_at),
                served_on=timezone.localdate(activity.starts_at), note=activity.title,
                created_by=self.staff, decided_by=self.staff, decided_at=activity.ends_at))
        # Hours served before the app existed, added by the community staff (kept apart).
        entries += [HoursEntry(volunteer=volunteer, source=HoursEntry.Source.STAFF,
                               status=HoursEntry.Status.APPROVED,
                               hours=Decimal(self.rng.choice(("2.0", "3.0", "4.0"))),
                               served_on=self.today - timedelta(days=self.rng.randint(30, 400)),
                               note="入户走访、政策宣传（补录）", created_by=self.staff,
                               decided_by=self.staff, decided_at=self.now)
                    for volunteer in self.service_members[:20]]
        HoursEntry.objects.bulk_create(entries)
        self.counts["活动"] = len(activities)
        self.counts["时长记录"] = len(entries)

    def _activity(self, kind: tuple[Any, ...], starts_at: datetime, status: str) -> Activity:
        activity_kind, title, _months, location = kind
        return Activity(compound=self.compound, team=self.service_team, kind=activity_kind,
                        title=f"{title}志愿服务", location=location, starts_at=starts_at,
                        ends_at=starts_at + timedelta(hours=self.rng.choice((2, 3))),
                        capacity=self.rng.choice((20, 25, 30)), status=status,
                        checkin_code=f"{self.rng.randint(0, 999999):06d}", created_by=self.staff,
                        description=f"{SERVICE_TEAM}组织的{title}活动。")

    # --- micro-wishes and proxy services ----------------------------------------------------

    def _elders(self) -> list[Resident]:
        if not hasattr(self, "elders"):
            self.elders = [resident for resident in Resident.objects.filter(
                household__building__compound=self.compound).only("id", "tags").order_by("id")
                if {"elder_alone", "empty_nest"} & set(resident.tags or [])]
        return self.elders

    def _wishes(self) -> None:
        elders = self._elders()
        party = self.building_members + self.carer_members
        wishes, events = [], []
        plan = ([MicroWish.Status.CONFIRMED] * FULFILLED_WISHES
                + [MicroWish.Status.SUBMITTED, MicroWish.Status.PUBLISHED,
                   MicroWish.Status.CLAIMED])
        for index, status in enumerate(plan):
            created = self.now - timedelta(days=400 - index * 17)
            wish = MicroWish(compound=self.compound, resident=elders[index * 7 % len(elders)],
                             title=WISHES[index % len(WISHES)], status=status)
            if status in (MicroWish.Status.CONFIRMED, MicroWish.Status.CLAIMED):
                wish.claimed_by = party[index % len(party)]
                wish.claimed_at = created + timedelta(days=2)
            if status == MicroWish.Status.CLAIMED:
                wish.claim_expires_at = self.now + timedelta(days=5)
            if status == MicroWish.Status.CONFIRMED:
                wish.fulfilled_at = created + timedelta(days=6)
                wish.confirmed_at = created + timedelta(days=7)
                wish.fulfilment_note = "已送到老人家中，老人很满意。"
            wishes.append((wish, created))
        created_rows = MicroWish.objects.bulk_create([wish for wish, _created in wishes])
        path: dict[str, list[str]] = {MicroWish.Status.SUBMITTED: ["submitted"],
                MicroWish.Status.PUBLISHED: ["submitted", "published"],
                MicroWish.Status.CLAIMED: ["submitted", "published", "claimed"],
                MicroWish.Status.CONFIRMED: ["submitted", "published", "claimed", "fulfilled",
                                             "confirmed"]}
        for wish, (_row, created) in zip(created_rows, wishes, strict=True):
            previous = ""
            for step, step_status in enumerate(path[wish.status]):
                events.append(MicroWishEvent(wish=wish, old_status=previous,
                                             new_status=step_status,
                                             actor=self.staff if step_status == "published"
                                             else None,
                                             at=created + timedelta(days=step * 2)))
                previous = step_status
        MicroWishEvent.objects.bulk_create(events)
        self.counts["微心愿已实现"] = FULFILLED_WISHES

    def _proxy_services(self) -> None:
        elders = self._elders()
        rows = []
        statuses = ([ProxyService.Status.CONFIRMED] * DONE_PROXY_SERVICES
                    + [ProxyService.Status.REQUESTED, ProxyService.Status.ASSIGNED])
        for index, status in enumerate(statuses):
            kind, title = PROXY[index]
            at = self.now - timedelta(days=300 - index * 25)
            service = ProxyService(compound=self.compound, resident=elders[index * 5 + 1],
                                   kind=kind, title=title, status=status)
            if status != ProxyService.Status.REQUESTED:
                service.assignee = self.carers[index % len(self.carers)]
                service.assigned_at = at + timedelta(hours=2)
            if status == ProxyService.Status.CONFIRMED:
                service.done_at = at + timedelta(days=1)
                service.confirmed_at = at + timedelta(days=2)
                service.result_note = "已办结，凭证已交给老人。"
            rows.append(service)
        rows = ProxyService.objects.bulk_create(rows)
        steps = {"confirmed": ["requested", "assigned", "done", "confirmed"],
                 "assigned": ["requested", "assigned"], "requested": ["requested"]}
        ProxyServiceEvent.objects.bulk_create([
            ProxyServiceEvent(service=service, old_status=steps[service.status][step - 1]
                              if step else "", new_status=status,
                              at=(service.assigned_at or self.now) + timedelta(hours=step))
            for service in rows for step, status in enumerate(steps[service.status])])
        self.counts["帮办代办已办结"] = DONE_PROXY_SERVICES

    # --- care -------------------------------------------------------------------------------

    def _care(self) -> None:
        files, visits_plan = [], []
        for index, elder in enumerate(self._elders()):
            alone = "elder_alone" in elder.tags
            risk = (CareFile.Risk.HIGH if alone and index % 2 == 0 else
                    CareFile.Risk.MEDIUM if alone or index % 3 == 0 else CareFile.Risk.LOW)
            frequency = CareFile.FREQUENCY_BY_RISK[risk]
            interval = CareFile.INTERVAL_DAYS[frequency]
            # Most were visited lately; every 15th is overdue once, every 40th twice.
            last = self.today - timedelta(days=self.rng.randint(1, interval - 1))
            missed = 0
            if index % 40 == 39:
                last, missed = self.today - timedelta(days=2 * interval + 2), 2
            elif index % 15 == 14:
                last, missed = self.today - timedelta(days=interval + 2), 1
            files.append(CareFile(
                resident=elder, risk=risk, frequency=frequency,
                category=CareFile.Category.ELDER_ALONE if alone else CareFile.Category.EMPTY_NEST,
                caretaker=self.carers[index % len(self.carers)],
                health_notes=self.rng.choice(["高血压，规律服药", "糖尿病，需控制饮食",
                                              "腿脚不便，行动需扶", "身体尚可"]),
                living_notes="独自居住" if alone else "老两口同住，子女在外地",
                emergency_contact="子女", next_visit_due=last + timedelta(days=interval),
                second_miss_on=last + timedelta(days=2 * interval), missed_count=missed,
                flagged_at=self.now if missed else None,
                alerted_at=self.now if missed == 2 else None))
            visits_plan.append((last, interval))
        files = CareFile.objects.bulk_create(files)
        CareVisit.objects.bulk_create([
            CareVisit(care_file=care_file, visitor=care_file.caretaker, recorded_by=None,
                      visited_on=day, notes=self.rng.choice(VISIT_NOTES))
            for care_file, (last, interval) in zip(files, visits_plan, strict=True)
            for day in (last, last - timedelta(days=interval))])
        self.counts["关爱档案"] = len(files)


def figures(compound: Compound) -> dict[str, int]:
    """The report's figures as the portal counts them (used by the demo test and the README)."""
    return {
        "zones": ResponsibilityZone.objects.filter(compound=compound).count(),
        "posts": ServicePost.objects.filter(compound=compound).count(),
        "fulfilled_wishes": MicroWish.objects.filter(
            compound=compound, status__in=MicroWish.FULFILLED_STATES).count(),
        "proxy_services_done": ProxyService.objects.filter(
            compound=compound, status__in=["done", "confirmed"]).count(),
        "caring_team": TeamMembership.objects.filter(team__compound=compound,
                                                     team__name=CARING_TEAM).count(),
        "past_activities": Activity.objects.filter(compound=compound,
                                                   ends_at__lt=timezone.now()).count(),
    }

