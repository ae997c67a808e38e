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
from core.care_referral import petition_opener
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
    ProxyConsent,
    ProxyService,
    ProxyServiceEvent,
    Qualification,
    QualificationKind,
    ResponsibilityZone,
    RosterSlot,
    ServicePost,
    Shift,
    Team,
    TeamMembership,
    Volunteer,
)
from volunteers.services._common import Consent
from volunteers.services.activities import hours_compute
from volunteers.services.care import (
    care_visit_hours,
    care_visit_open_petition,
    care_visit_open_proxy_service,
)
from volunteers.services.proxy import proxy_service_record_for
from volunteers.services.rosters import roster_generate
from volunteers.services.wishes import micro_wish_record_for

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
        self._ledger()

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
        self.care_files = files

    # --- the ledger: shift hours, no-shows, qualifications, 代录, visit follow-ups ------------

    def _ledger(self) -> None:
        self._qualifications()
        self._shift_hours()
        self._visit_hours()
        self._on_behalf()

    def _qualifications(self) -> None:
        """Carers hold a yearly health check (two have lapsed); the elder-care post, the
        high-risk care files and the next 义诊 require one; a third of the party members hold a
        first-aid certificate (Red Cross: valid three years)."""
        elder_post = ServicePost.objects.get(compound=self.compound,
                                             kind=ServicePost.Kind.ELDERLY_CARE)
        on_post = set(elder_post.slots.values_list("volunteer_id", flat=True))
        carer_ids = {carer.pk for carer in self.carers}
        checked = [volunteer for volunteer in self.volunteers
                   if volunteer.pk in on_post or volunteer.pk in carer_ids]
        rows = [Qualification(volunteer=volunteer, kind=QualificationKind.HEALTH_CHECK,
                              obtained_on=self.today - timedelta(days=200 + index % 150),
                              expires_on=(self.today - timedelta(days=10) if index in (3, 7)
                                          and volunteer.pk not in on_post
                                          else self.today + timedelta(days=165 - index % 150)),
                              recorded_by=self.staff, reference=f"体检-{index:03d}")
                for index, volunteer in enumerate(checked)]
        party = [volunteer for volunteer in self.volunteers if volunteer.party_member_id]
        rows += [Qualification(volunteer=volunteer, kind=QualificationKind.FIRST_AID,
                               obtained_on=self.today - timedelta(days=400),
                               expires_on=self.today + timedelta(days=695),
                               recorded_by=self.staff, reference=f"红十字-{index:04d}")
                 for index, volunteer in enumerate(party[::3])]
        Qualification.objects.bulk_create(rows)
        ServicePost.objects.filter(pk=elder_post.pk).update(
            required_qualifications=[QualificationKind.HEALTH_CHECK])
        lapsed = set(Qualification.objects.filter(expires_on__lt=self.today)
                     .values_list("volunteer_id", flat=True))
        CareFile.objects.filter(pk__in=[care_file.pk for care_file in self.care_files
                                        if care_file.risk == CareFile.Risk.HIGH
                                        and care_file.caretaker_id not in lapsed]).update(
            required_qualifications=[QualificationKind.HEALTH_CHECK])
        upcoming = (Activity.objects.filter(compound=self.compound, starts_at__gt=self.now)
                    .order_by("starts_at").first())
        if upcoming is not None:
            Activity.objects.filter(pk=upcoming.pk).update(
                required_qualifications=[QualificationKind.FIRST_AID])
        self.counts["资质"] = len(rows)

    def _shift_hours(self) -> None:
        """Past shifts were checked in at their start and credited (approved, last week's still
        pending); one in twelve was a no-show, recorded by staff and credited nothing."""
        past = list(Shift.objects.filter(post__compound=self.compound, ends_at__lt=self.now)
                    .select_related("post").order_by("starts_at", "id"))
        missed = past[5::12]
        missed_ids = {shift.pk for shift in missed}
        Shift.objects.filter(pk__in=missed_ids).update(
            status=Shift.Status.NO_SHOW, closed_by=self.staff, closed_at=self.now,
            close_reason="未到岗，未提前请假")
        attended = [shift for shift in past if shift.pk not in missed_ids]
        for shift in attended:
            Shift.objects.filter(pk=shift.pk).update(checked_in_at=shift.starts_at)
        week_ago = self.now - timedelta(days=7)
        HoursEntry.objects.bulk_create([
            HoursEntry(volunteer_id=shift.volunteer_id, shift=shift,
                       source=HoursEntry.Source.SHIFT, hours=shift.planned_hours,
                       served_on=timezone.localdate(shift.starts_at), note=shift.post.name,
                       status=(HoursEntry.Status.PENDING if shift.starts_at > week_ago
                               else HoursEntry.Status.APPROVED),
                       decided_by=None if shift.starts_at > week_ago else self.staff,
                       decided_at=None if shift.starts_at > week_ago else self.now)
            for shift in attended])
        self.counts["值班时长"] = len(attended)
        self.counts["缺勤"] = len(missed)

    def _visit_hours(self) -> None:
        """Each visit took 30 to 90 minutes; the last fortnight's wait for approval."""
        visits = list(CareVisit.objects.filter(care_file__in=self.care_files,
                                               visitor__isnull=False).order_by("id"))
        fortnight = self.today - timedelta(days=14)
        entries = []
        for index, visit in enumerate(visits):
            if visit.visitor_id is None:
                continue
            visit.minutes = 30 + 15 * (index % 5)
            recent = visit.visited_on >= fortnight
            entries.append(HoursEntry(
                volunteer_id=visit.visitor_id, care_visit=visit, source=HoursEntry.Source.CARE,
                hours=care_visit_hours(visit.minutes),
                served_on=visit.visited_on, note="关爱走访",
                status=HoursEntry.Status.PENDING if recent else HoursEntry.Status.APPROVED,
                decided_by=None if recent else self.staff,
                decided_at=None if recent else self.now))
        CareVisit.objects.bulk_update(visits, ["minutes"])
        HoursEntry.objects.bulk_create(entries)
        self.counts["走访时长"] = len(entries)

    def _on_behalf(self) -> None:
        """代录: staff record a wish and an errand for elders who do not use the portal, their
        consent noted; two visits found needs, one now a proxy service, one a petition."""
        elders = self._elders()
        consent = Consent(by="本人", method=ProxyConsent.ConsentMethod.IN_PERSON,
                          at=self.now - timedelta(hours=3))
        micro_wish_record_for(resident=elders[2], actor=self.staff, title="想要一台大字收音机",
                              description="视力不好，想听戏曲广播", consent=consent)
        proxy_service_record_for(
            resident=elders[4], actor=self.staff, kind=ProxyService.Kind.PAPERWORK,
            title="代办老年优待证", consent=Consent(
                by="女儿 （电话确认）", method=ProxyConsent.ConsentMethod.GUARDIAN,
                at=self.now - timedelta(days=1)))
        recent = list(CareVisit.objects.filter(care_file__in=self.care_files[:6])
                      .order_by("-visited_on", "id")[:2])
        CareVisit.objects.filter(pk=recent[0].pk).update(need="代缴本季度燃气费")
        CareVisit.objects.filter(pk=recent[1].pk).update(need="楼道声控灯坏了，老人夜里看不清")
        recent[0].refresh_from_db()
        recent[1].refresh_from_db()
        care_visit_open_proxy_service(visit=recent[0], user=self.staff,
                                      kind=ProxyService.Kind.PAYMENT, consent_by="本人",
                                      consent_method=ProxyConsent.ConsentMethod.IN_PERSON)
        categories = petition_opener().categories()
        if categories:
            care_visit_open_petition(visit=recent[1], user=self.staff,
                                     category_id=categories[0].id)
        self.counts["代录"] = 2


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

