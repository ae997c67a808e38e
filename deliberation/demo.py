"""Demo deliberation for 长江瑞城, consistent with the seed report.

- 15 sessions held since January 2024 (monthly 15ths, spread to today), each with minutes and
  its decisions published, plus the next 15th planned with topics on its agenda;
- topics in every step (提、议、决、做、评, closed and not adopted), with opinions, votes,
  action items and ratings; the petitions demo's referred petitions become topics;
- the three lists: needs (surveys, topics, the 7 complaints from 12345 / 诉速办, all resolved),
  resources (partner units, in-service party members, organisations), projects (the 5
  livelihood projects and the 4 co-building projects, with milestones and tick-off);
- quarterly satisfaction surveys with household answers (satisfaction above 90%); a closed
  questionnaire with its results (86 households) and an open one with three questions;
- residents taking part: a dozen residents who signed in by phone, signed up for the next 15th
  (its notice sent), a discussed topic (comments from several households, a staff reply and
  one comment hidden with its reason), the topic in 评 rated by several households.
Bulk inserts; deterministic.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from io import TextIOBase
from typing import Any

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from accounts.models import User
from core.masking import mask_name
from core.referral import petition_source
from deliberation.models import (
    ActionItem,
    AgendaItem,
    InvitedBody,
    ListReview,
    Milestone,
    Need,
    Project,
    Resource,
    Satisfaction,
    Session,
    SessionSignUp,
    Survey,
    SurveyAnswer,
    SurveyOption,
    SurveyQuestion,
    SurveyResponse,
    Topic,
    TopicComment,
    TopicOpinion,
    TopicRating,
    TopicStatusChange,
)
from deliberation.services.participation import sessions_notify_upcoming_one
from deliberation.services.sessions import (
    _monthly_session,
    deliberation_date,
    session_next_for_compound,
)
from deliberation.services.surveys import (
    quarter_end,
    quarter_of,
    survey_quarterly_questions_create,
)
from deliberation.services.topics import evaluation_end
from governance.models import Body
from residents.models import Household, PartyMember, Resident
from territory.models import Compound

HELD_SESSIONS = 15
S = Topic.Status

# (title, description, final status, scale)
CLOSED_TOPICS = [
    ("单元门禁亮化改造", "门禁和单元入口照明不足，夜间老人进出不便。", "big"),
    ("充电桩扩容", "电动车充电桩不够用，飞线充电隐患大。", "big"),
    ("地下车库入口路灯维修", "车库入口灯坏了，晚上很黑。", "small"),
    ("垃圾分类桶增设", "3号楼旁分类桶满溢，异味大。", "small"),
    ("广场舞音响时间约定", "晚上十点后音响扰民。", "small"),
    ("东门井盖加固", "井盖松动，存在安全隐患。", "small"),
    ("楼道堆物集中清理", "多栋楼道堆放纸箱旧家具，影响消防通道。", "small"),
    ("小区道路坑洼修补", "南侧主路多处坑洼，雨天积水。", "big"),
]
EVALUATING_TOPICS = [("儿童游乐区地面翻新", "塑胶地面破损，孩子容易摔倒。", "small")]
EXECUTING_TOPICS = [("增设休闲座椅和健身器材", "中心花园座椅少，老人没地方休息。", "big")]
DECIDED_TOPICS = [("雨污管网疏通", "雨季前疏通管网，防止积水。", "big")]
DELIBERATING_TOPICS = [
    ("非机动车棚扩建", "车棚不够，电动车乱停。", "big"),
    ("快递柜位置调整", "快递柜占用消防通道。", "small"),
]
PROPOSED_TOPICS = [
    ("增设宠物便便箱", "草坪宠物粪便多。", "small", 7),
    ("单元门口加装雨棚", "雨天进出单元淋雨。", "small", 4),
    ("老年食堂引进", "独居老人吃饭不便，希望引进助老食堂。", "big", 9),
]
REJECTED_TOPICS = [("拆除小区围墙开放通行", "希望打通围墙方便出行。", "big")]

PROPOSERS = ["王秀英", "李建国", "张桂兰", "刘志强", "陈淑芬", "赵海涛", "孙丽"]
HOTLINE_NEEDS = [
    "12345：夜间施工噪音扰民", "12345：小区门口占道经营", "12345：电梯频繁故障",
    "诉速办：地下车库漏水", "诉速办：消防通道被占", "12345：垃圾清运不及时",
    "诉速办：楼顶防水层破损",
]
SURVEY_NEEDS = ["希望增加老年活动场地", "希望增设儿童托管服务", "希望规范电动车停放"]

LIVELIHOOD_PROJECTS = [
    ("门禁亮化改造", "瑞城物业服务有限公司", "186000", Project.Status.TICKED_OFF),
    ("充电桩扩容", "瑞城物业服务有限公司", "240000", Project.Status.TICKED_OFF),
    ("小区道路修补", "长江瑞城业主委员会", "95000", Project.Status.TICKED_OFF),
    ("休闲座椅与健身器材增设", "长江瑞城业主委员会", "48000", Project.Status.IN_PROGRESS),
    ("雨污管网疏通", "瑞城物业服务有限公司", "62000", Project.Status.PLANNED),
]
CO_BUILDING_PROJECTS = [
    ("雷锋精神实践月", "长江瑞城党支部", "5000", Project.Status.TICKED_OFF),
    ("“和邻计划”邻里节", "和邻一起社会工作服务中心", "12000", Project.Status.TICKED_OFF),
    ("每月义诊与健康管理课堂", "西海岸新区中心医院", "0", Project.Status.IN_PROGRESS),
    ("党群服务站共建", "长江路街道", "30000", Project.Status.IN_PROGRESS),
]
ORGANISATIONS = [
    ("红色尖兵志愿服务队", "清雪除冰、防汛、洁净家园等志愿服务"),
    ("爱心管家团队（30人）", "走访独居老人、帮办代办"),
    ("舞蹈队等6支文体团队", "文化润邻活动、节日演出"),
]


def _at(day: date, hour: int = 9) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def _held_months(today: date) -> list[tuple[int, int]]:
    """14 months from January 2024 to the last month whose 15th has passed, evenly spread."""
    last_year, last_month = today.year, today.month
    if deliberation_date(last_year, last_month) >= today:
        last_year, last_month = (last_year - 1, 12) if last_month == 1 else (last_year,
                                                                             last_month - 1)
    span = (last_year - 2024) * 12 + last_month  # months from 2024-01 to the last one
    count = min(HELD_SESSIONS - 1, span)  # plus one joint meeting = 15 held
    picks = sorted({round(index * (span - 1) / max(count - 1, 1)) for index in range(count)})
    return [(2024 + pick // 12, pick % 12 + 1) for pick in picks]


def load(*, compound: Compound, stdout: TextIOBase) -> None:
    randomizer = random.Random(20240515)  # noqa: S311 - demo data, not security
    today = timezone.localdate()
    staff = User.objects.filter(username="community").first()
    resident = User.objects.filter(username="resident").first()
    held, upcoming = _sessions(compound, today)
    topics = _topics(compound, held, upcoming, today, staff, resident, randomizer)
    _petition_topics(compound, upcoming, staff)
    _lists(compound, topics, today, staff)
    _surveys(compound, today, randomizer)
    _participation(compound, upcoming, staff, resident, randomizer)
    stdout.write(f"   deliberation: {len(held)} sessions held, {Topic.objects.count()} topics\n")


def _sessions(compound: Compound, today: date) -> tuple[list[Session], Session]:
    sessions = []
    for year, month in _held_months(today):
        day = deliberation_date(year, month)
        session = _monthly_session(compound.pk, year, month)
        session.status = Session.Status.HELD
        session.held_at = session.starts_at
        session.published_at = _at(day + timedelta(days=2), 10)
        session.minutes = (f"{year}年{month}月议事会：小区党支部、业委会、物业、网格员"
                           "及居民代表参加，逐项协商议题，形成决议并分解落实。")
        sessions.append(session)
    Session.objects.bulk_create(sessions)
    upcoming = session_next_for_compound(compound_id=compound.pk)
    Session.objects.bulk_create([Session(
        compound=compound, kind=Session.Kind.JOINT, title="充电桩扩容联席会议",
        starts_at=sessions[len(sessions) // 2].starts_at + timedelta(days=5),
        place="社区党委会议室", mode=Session.Mode.HYBRID, status=Session.Status.HELD,
        invited_bodies=[InvitedBody.PARTY_BRANCH, InvitedBody.OWNERS_COMMITTEE,
                        InvitedBody.PROPERTY_COMPANY],
        minutes="联席会议协商充电桩扩容方案与费用分摊。", sign_in_code="246810",
    )])
    return sessions, upcoming


def _topics(compound: Compound, held: list[Session], upcoming: Session, today: date,
            staff: User | None, resident: User | None,
            randomizer: random.Random) -> list[Topic]:
    """Topics in every step; closed ones spread over the held sessions."""
    rows: list[tuple[Topic, list[str]]] = []
    path_closed: list[str] = [S.PROPOSED, S.DELIBERATING, S.DECIDED, S.EXECUTING, S.EVALUATING,
                              S.CLOSED]
    for index, (title, text, scale) in enumerate(CLOSED_TOPICS):
        session = held[min(len(held) - 1, index * len(held) // len(CLOSED_TOPICS))]
        rows.append((_topic(compound, title, text, scale, S.CLOSED, session, index,
                            outcome=f"{title}已完成，经居民评议满意。"), path_closed))
    recent = held[-1]
    for title, text, scale in EVALUATING_TOPICS:
        rows.append((_topic(compound, title, text, scale, S.EVALUATING, recent, 1),
                     path_closed[:-1]))
    for title, text, scale in EXECUTING_TOPICS:
        rows.append((_topic(compound, title, text, scale, S.EXECUTING, recent, 2),
                     path_closed[:-2]))
    for title, text, scale in DECIDED_TOPICS:
        rows.append((_topic(compound, title, text, scale, S.DECIDED, recent, 3),
                     path_closed[:3]))
    for title, text, scale in DELIBERATING_TOPICS:
        rows.append((_topic(compound, title, text, scale, S.DELIBERATING, upcoming, 4),
                     path_closed[:2]))
    for title, text, scale, supports in PROPOSED_TOPICS:
        topic = _topic(compound, title, text, scale, S.PROPOSED, None, 5)
        topic.support_count = supports
        rows.append((topic, path_closed[:1]))
    for title, text, scale in REJECTED_TOPICS:
        topic = _topic(compound, title, text, scale, S.REJECTED, held[-2], 6,
                       outcome="表决未通过：涉及小区封闭管理和安全，多数业主不同意。")
        topic.votes_for, topic.votes_against, topic.votes_abstain = 2, 9, 1
        rows.append((topic, [S.PROPOSED, S.DELIBERATING, S.REJECTED]))
    if resident is not None:
        for topic, _path in rows:
            if topic.status == S.PROPOSED and topic.title == PROPOSED_TOPICS[0][0]:
                topic.proposer = resident
                topic.proposer_name = str(resident)
    topics = Topic.objects.bulk_create([topic for topic, _path in rows])
    _topic_details(rows, staff, resident, today, randomizer)
    return topics


def _topic(compound: Compound, title: str, text: str, scale: str, status: str,
           session: Session | None, index: int, outcome: str = "") -> Topic:
    """A topic with the dates the services' rules give: decided an hour into its session,
    reviewed 30 days later, evaluated from the tick-off (25 days after the decision) for at least
    DELIBERATION_EVALUATION_DAYS and to the review date, closed after that (45 days on)."""
    decided = status not in (S.PROPOSED, S.DELIBERATING)
    when = session.starts_at if session is not None else timezone.now() - timedelta(days=3)
    vote = scale == "big" and decided
    decided_at = when + timedelta(hours=1) if decided else None
    review_on = (when + timedelta(days=30)).date() if decided and status != S.REJECTED else None
    closed_at = (decided_at if status == S.REJECTED
                 else when + timedelta(days=45) if status == S.CLOSED else None)
    evaluation_ends_at = None
    if status in (S.EVALUATING, S.CLOSED) and decided_at is not None:
        evaluation_ends_at = evaluation_end(
            opened_at=_evaluation_opened(decided_at), review_on=review_on)
    return Topic(
        compound=compound, title=title, description=text, scale=scale, status=status,
        channel=[Topic.Channel.ONLINE, Topic.Channel.OFFLINE][index % 2],
        proposer_name=PROPOSERS[index % len(PROPOSERS)],
        session=session, support_count=12 if session else 0,
        decision_text=f"同意实施“{title}”，由责任主体按期落实。" if decided else "",
        decision_mode=(Topic.DecisionMode.VOTE if vote else Topic.DecisionMode.CONSENSUS)
        if decided else "",
        eligible_voters=15 if vote else None, votes_for=12 if vote else 0,
        votes_against=1 if vote else 0, votes_abstain=1 if vote else 0,
        decided_at=decided_at, review_on=review_on, evaluation_ends_at=evaluation_ends_at,
        outcome=outcome, closed_at=closed_at, published_at=closed_at,
    )


def _evaluation_opened(decided_at: datetime) -> datetime:
    """The last action item's tick-off: 25 days after the decision, or now if that is later."""
    return min(decided_at + timedelta(days=25), timezone.now())


def _decided_at(topic: Topic) -> datetime:
    """When a topic past 决 was decided (_topic dates every such topic)."""
    if topic.decided_at is None:
        raise ValueError(f"demo topic {topic.title!r} past 决 has no decision date")
    return topic.decided_at


def _timeline(topic: Topic, path: list[str]) -> list[datetime]:
    """When the topic took each step of `path`: proposed 12 and put on the agenda 7 days before
    its session (a few days ago for one not yet held), then the dates _topic gave it."""
    now = timezone.now()
    when = topic.session.starts_at if topic.session is not None else now - timedelta(days=3)
    moments: dict[str, datetime] = {
        S.PROPOSED: min(when - timedelta(days=12), now - timedelta(days=3)),
        S.DELIBERATING: min(when - timedelta(days=7), now - timedelta(days=2))}
    if topic.decided_at is not None:
        moments[S.DECIDED] = moments[S.REJECTED] = topic.decided_at
        moments[S.EXECUTING] = topic.decided_at + timedelta(days=1)
        moments[S.EVALUATING] = _evaluation_opened(topic.decided_at)
    if topic.closed_at is not None:
        moments[S.CLOSED] = moments[S.REJECTED] = topic.closed_at
    return [moments[step] for step in path]


def _topic_details(rows: list[tuple[Topic, list[str]]], staff: User | None,
                   resident: User | None, today: date, randomizer: random.Random) -> None:
    changes: list[TopicStatusChange] = []
    agenda: list[AgendaItem] = []
    opinions: list[TopicOpinion] = []
    items: list[ActionItem] = []
    ratings: list[TopicRating] = []
    moments: list[datetime] = []  # each change's time (auto_now_add sets "now" on insert)
    bodies = list(Body.objects.filter(compound=rows[0][0].compound_id).order_by("id"))
    for topic, path in rows:
        timeline = _timeline(topic, path)
        topic.created_at = timeline[0]
        for old, new in zip(["", *path[:-1]], path, strict=True):
            changes.append(TopicStatusChange(topic=topic, old_status=old, new_status=new,
                                             actor=staff, reason="演示数据"))
        moments += timeline
        if topic.session_id:
            agenda.append(AgendaItem(session_id=topic.session_id, topic=topic, title=topic.title,
                                     position=len(agenda), duration_minutes=20))
            opinions += [
                TopicOpinion(topic=topic, speaker="业委会", stance=TopicOpinion.Stance.FOR,
                             body="赞成，建议尽快实施。", recorded_by=staff),
                TopicOpinion(topic=topic, speaker="物业公司", stance=TopicOpinion.Stance.NEUTRAL,
                             body="可以承接，需明确费用来源。", recorded_by=staff),
            ]
        if topic.status in (S.EXECUTING, S.EVALUATING, S.CLOSED):
            done = topic.status != S.EXECUTING
            owner = bodies[len(items) % len(bodies)] if bodies else None
            deadline = (_decided_at(topic).date() + timedelta(days=30) if done
                        else today + timedelta(days=1))
            items.append(ActionItem(
                topic=topic, title=f"落实：{topic.title}", owner_body=owner,
                owner_name=str(owner) if owner else "物业公司", deadline=deadline,
                progress=100 if done else 60, progress_note="已完工并验收" if done else "施工中",
                status=ActionItem.Status.DONE if done else ActionItem.Status.OPEN,
                done_at=_evaluation_opened(_decided_at(topic)) if done else None))
        if topic.status == S.CLOSED and resident is not None:
            ratings.append(TopicRating(topic=topic, user=resident,
                                       household_id=_household_id(resident, topic.compound_id),
                                       score=randomizer.choice([Satisfaction.SATISFIED] * 4
                                                               + [Satisfaction.BASICALLY])))
        elif topic.status == S.CLOSED:
            # 结 needs an evaluation: without the demo resident, the record of a 评议会.
            topic.evaluation_note = "居民代表评议会：到会12人，对落实情况表示满意。"
    TopicStatusChange.objects.bulk_create(changes)
    for change, moment in zip(changes, moments, strict=True):
        change.at = moment
    TopicStatusChange.objects.bulk_update(changes, ["at"], batch_size=500)
    Topic.objects.bulk_update([topic for topic, _path in rows],
                              ["created_at", "evaluation_note"], batch_size=500)
    AgendaItem.objects.bulk_create(agenda)
    TopicOpinion.objects.bulk_create(opinions)
    ActionItem.objects.bulk_create(items)
    TopicRating.objects.bulk_create(ratings)
    for rating in ratings:  # rated two days into the evaluation
        rating.created_at = _evaluation_opened(_decided_at(rating.topic)) + timedelta(days=2)
    TopicRating.objects.bulk_update(ratings, ["created_at"], batch_size=500)


def _petition_topics(compound: Compound, upcoming: Session, staff: User | None) -> None:
    """The petitions demo's referred petitions become topics on the next agenda."""
    source = petition_source()
    referred = source.referred(compound_id=compound.pk, limit=3)
    topics = []
    for petition in referred:
        # The rule of topic_propose_from_petition: a private petition gets the neutral text a
        # staff member would write (its category), a public one its 公示 text; proposer 居民.
        referral = petition.referral
        topics.append(Topic(
            compound=compound, title=referral.title or f"{petition.category}问题协商",
            description=referral.description
            or f"居民反映本小区{petition.category}方面的问题，提请议事会协商解决办法。",
            channel=Topic.Channel.PETITION, scale="big", status=S.DELIBERATING,
            session=upcoming, petition_id=petition.petition_id, proposer_name="居民",
            recorded_by=staff,
        ))
    topics = Topic.objects.bulk_create(topics)
    AgendaItem.objects.bulk_create([AgendaItem(session=upcoming, topic=topic, title=topic.title,
                                               position=10 + index)
                                    for index, topic in enumerate(topics)])
    for petition, topic in zip(referred, topics, strict=True):
        source.link_topic(petition_id=petition.petition_id, topic_id=topic.pk)


def _lists(compound: Compound, topics: list[Topic], today: date, staff: User | None) -> None:
    now = timezone.now()
    needs = [Need(compound=compound, title=topic.title, detail=topic.description,
                  source=Need.Source.TOPIC, topic=topic,
                  status=Need.Status.RESOLVED if topic.status == S.CLOSED else Need.Status.OPEN,
                  resolution=topic.outcome[:300], resolved_at=topic.closed_at)
             for topic in topics]
    hotline_petitions = petition_source().hotline_closed_ids(compound_id=compound.pk, limit=7)
    needs += [Need(compound=compound, title=title, source=Need.Source.HOTLINE,
                   status=Need.Status.RESOLVED, resolution="已办结并回访，投诉人满意。",
                   resolved_at=now - timedelta(days=30 * (index + 1)),
                   petition_id=hotline_petitions[index] if index < len(hotline_petitions)
                   else None)
              for index, title in enumerate(HOTLINE_NEEDS)]
    needs += [Need(compound=compound, title=title, source=Need.Source.SURVEY)
              for title in SURVEY_NEEDS]
    needs = Need.objects.bulk_create(needs)
    resources = _resources(compound)
    by_title = {need.title: need for need in needs}
    projects = []
    for kind, rows in ((Project.Kind.LIVELIHOOD, LIVELIHOOD_PROJECTS),
                       (Project.Kind.CO_BUILDING, CO_BUILDING_PROJECTS)):
        for title, owner, budget, status in rows:
            projects.append(Project(
                compound=compound, kind=kind, title=title, owner_name=owner,
                budget=Decimal(budget), status=status,
                ticked_off_at=now - timedelta(days=60) if status == Project.Status.TICKED_OFF
                else None))
    projects = Project.objects.bulk_create(projects)
    milestones, need_links, resource_links = [], [], []
    for index, project in enumerate(projects):
        done = project.status == Project.Status.TICKED_OFF
        for step, label in enumerate(["立项", "实施", "验收"]):
            due = today + timedelta(days=30 * (step - 2 if done else step))
            milestones.append(Milestone(project=project, title=label, due_on=due,
                                        done_on=due if done or step == 0 else None))
        need = by_title.get(project.title) or by_title.get(f"单元{project.title}")
        if need is not None:
            need_links.append(Project.needs.through(project_id=project.pk, need_id=need.pk))
        resource_links.append(Project.resources.through(
            project_id=project.pk, resource_id=resources[index % len(resources)].pk))
    Milestone.objects.bulk_create(milestones)
    Project.needs.through.objects.bulk_create(need_links)
    Project.resources.through.objects.bulk_create(resource_links)
    year, quarter = quarter_of(today)
    previous = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    ListReview.objects.bulk_create([
        ListReview(compound=compound, year=previous[0], quarter=previous[1],
                   reviewed_at=now - timedelta(days=20), reviewed_by=staff)])


def _resources(compound: Compound) -> list[Resource]:
    rows = [Resource(compound=compound, kind=Resource.Kind.PARTNER_UNIT, name=body.name,
                     body=body, offers=body.offers or "共建共治", contact=body.contact_name)
            for body in Body.objects.filter(kind=Body.Kind.PARTNER_UNIT).order_by("id")]
    members = (PartyMember.objects.filter(kind=PartyMember.Kind.IN_SERVICE,
                                          resident__household__building__compound=compound)
               .exclude(skills="").select_related("resident").order_by("id")[:6])
    rows += [Resource(compound=compound, kind=Resource.Kind.IN_SERVICE_MEMBER,
                      name=f"在职党员 {member.resident.name}", party_member=member,
                      offers=member.skills or member.occupation or "志愿服务",
                      contact=member.workplace)
             for member in members]
    rows += [Resource(compound=compound, kind=Resource.Kind.ORGANISATION, name=name, offers=offers)
             for name, offers in ORGANISATIONS]
    return Resource.objects.bulk_create(rows)


def _surveys(compound: Compound, today: date, randomizer: random.Random) -> None:
    """The last four quarters answered (about a third of households each), the current open;
    a closed questionnaire with its results, and an open one with three questions."""
    households = list(Household.objects.filter(building__compound=compound)
                      .values_list("id", flat=True))
    year, quarter = quarter_of(today)
    quarters = []
    for _step in range(4):
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
        quarters.append((year, quarter))
    current = quarter_of(today)
    surveys = Survey.objects.bulk_create([
        Survey(compound=compound, kind=Survey.Kind.QUARTERLY, year=y, quarter=q,
               title=f"{y}年第{q}季度满意度测评",
               opens_on=quarter_end(y, q) - timedelta(days=10),
               opened_at=_at(quarter_end(y, q) - timedelta(days=10)),
               closes_on=quarter_end(y, q) + timedelta(days=15))
        for y, q in [*reversed(quarters), current]])
    survey_quarterly_questions_create(surveys=surveys)
    options = {(option.question.survey_id, option.code): option for option in
               SurveyOption.objects.filter(question__survey__in=surveys).select_related(
                   "question")}
    answers = []
    weights = [[Satisfaction.SATISFIED] * 14 + [Satisfaction.BASICALLY] * 5
               + [Satisfaction.DISSATISFIED] * 1]
    for index, survey in enumerate(surveys[:-1]):
        sample = randomizer.sample(households, min(len(households), 380 + 20 * index))
        answers += [SurveyAnswer(survey=survey, household_id=household_id,
                                 satisfaction=randomizer.choice(weights[0]))
                    for household_id in sample]
    answers = SurveyAnswer.objects.bulk_create(answers)
    SurveyResponse.objects.bulk_create([
        SurveyResponse(answer=answer, question=option.question, option=option)
        for answer in answers
        for option in [options[answer.survey_id, answer.satisfaction]]])
    Survey.objects.filter(pk=surveys[-1].pk).update(opens_on=today, closes_on=max(
        today + timedelta(days=14), quarter_end(*current) + timedelta(days=15)))
    resident_household = (Household.objects.filter(building__compound=compound,
                                                    residents__user__username="resident")
                          .values_list("id", flat=True).first())
    others = [household for household in households if household != resident_household]
    _questionnaire(compound, CLOSED_QUESTIONNAIRE, today - timedelta(days=35),
                   today - timedelta(days=10), randomizer.sample(others, min(len(others), 86)),
                   randomizer)
    _questionnaire(compound, OPEN_QUESTIONNAIRE, today - timedelta(days=3),
                   today + timedelta(days=11), randomizer.sample(others, min(len(others), 23)),
                   randomizer)


# (title, description, [(kind, text, is_required, options)], free-text answers)
CLOSED_QUESTIONNAIRE = (
    "2号、5号楼加装电梯意愿调查",
    "了解各户对老旧单元加装电梯的意愿和关注点，结果将提交下月议事会协商。",
    [("single", "您是否同意本单元加装电梯？", True, ["同意", "不同意", "无所谓"]),
     ("scale", "您对目前楼道出行便利程度的评价（1–5 分）", True, []),
     ("multiple", "您最关心哪些问题？（可多选）", False,
      ["费用分摊", "采光与噪音", "施工周期", "后期维护"]),
     ("text", "其他意见和建议", False, [])],
    ["一楼住户的采光问题希望有补偿方案", "费用按楼层分摊比较公平", "希望施工避开中考期间",
     "维保费用要提前说清楚", "家里有老人，很期待早日装上"],
)
OPEN_QUESTIONNAIRE = (
    "电动车集中充电棚选址调查",
    "中心花园充电桩已满，拟新建一处集中充电棚，请选择您认为合适的位置。",
    [("single", "您倾向把充电棚建在哪里？", True,
      ["北门停车场东侧", "8号楼南侧空地", "地下车库入口旁"]),
     ("scale", "新建充电棚对您家的重要程度（1–5 分）", True, []),
     ("text", "对选址或收费的其他建议", False, [])],
    ["收费希望和现在一样按度计", "注意和住户窗户保持距离", "晚上要有照明和监控"],
)


def _questionnaire(compound: Compound, spec: tuple[str, str, list[Any], list[str]],
                   opens_on: date, closes_on: date, household_ids: list[int],
                   randomizer: random.Random) -> None:
    """A built questionnaire, opened on `opens_on`, with the sampled households' answers (bulk:
    the rows survey_respond would write)."""
    title, description, questions_spec, texts = spec
    survey = Survey.objects.create(compound=compound, kind=Survey.Kind.QUESTIONNAIRE,
                                   title=title, description=description, opens_on=opens_on,
                                   closes_on=closes_on, opened_at=_at(opens_on, 8))
    questions = SurveyQuestion.objects.bulk_create([
        SurveyQuestion(survey=survey, position=position, kind=kind, text=text,
                       is_required=is_required)
        for position, (kind, text, is_required, _labels) in enumerate(questions_spec, start=1)])
    SurveyOption.objects.bulk_create([
        SurveyOption(question=question, position=position, label=label)
        for question, (_kind, _text, _required, labels) in zip(questions, questions_spec,
                                                                 strict=True)
        for position, label in enumerate(labels, start=1)])
    options = {question.pk: list(question.options.all()) for question in
               SurveyQuestion.objects.filter(survey=survey).prefetch_related("options")}
    answers = SurveyAnswer.objects.bulk_create([
        SurveyAnswer(survey=survey, household_id=household_id) for household_id in household_ids])
    responses: list[SurveyResponse] = []
    for answer in answers:
        for question in questions:
            responses += _demo_responses(answer, question, options[question.pk], texts,
                                         randomizer)
    SurveyResponse.objects.bulk_create(responses)


def _demo_responses(answer: SurveyAnswer, question: SurveyQuestion,
                    options: list[SurveyOption], texts: list[str],
                    randomizer: random.Random) -> list[SurveyResponse]:
    if question.kind == SurveyQuestion.Kind.SINGLE:
        # The first option is the favourite, as in a real vote.
        return [SurveyResponse(answer=answer, question=question,
                               option=randomizer.choice([options[0]] * 3 + options))]
    if question.kind == SurveyQuestion.Kind.MULTIPLE:
        chosen = randomizer.sample(options, randomizer.randint(1, 2))
        return [SurveyResponse(answer=answer, question=question, option=option)
                for option in chosen]
    if question.kind == SurveyQuestion.Kind.SCALE:
        return [SurveyResponse(answer=answer, question=question,
                               scale=randomizer.choice([2, 3, 3, 4, 4, 4, 5, 5]))]
    if randomizer.random() < 0.25:
        return [SurveyResponse(answer=answer, question=question, text=randomizer.choice(texts))]
    return []


def _household_id(user: User, compound_id: int) -> int | None:
    return (Resident.objects.filter(user=user, household__building__compound_id=compound_id)
            .values_list("household_id", flat=True).order_by("id").first())


COMMENTS = [
    "车棚建议放在5号楼北侧空地，不占绿地。",
    "赞成扩建，最好同时装上充电插座和烟感。",
    "费用怎么分摊？希望在议事会上说清楚。",
    "老人的三轮车也需要位置，请一并考虑。",
]
HIDDEN_COMMENT = ("某某家天天乱停车，电话139xxxx，大家去找他！", "含他人个人信息和人身攻击")


def _participation(compound: Compound, upcoming: Session, staff: User | None,
                   resident: User | None, randomizer: random.Random) -> None:
    """Residents taking part: accounts, sign-ups and the notice of the next 15th, a discussed
    topic, and household ratings of the topic in 评."""
    users = _resident_accounts(compound, 12)
    if resident is not None:
        users.insert(0, (resident, _household_id(resident, compound.pk)))
    SessionSignUp.objects.bulk_create(
        [SessionSignUp(session=upcoming, user=user, household_id=household_id)
         for user, household_id in users[:10]], ignore_conflicts=True)
    if upcoming.notice_sent_at is None:
        sessions_notify_upcoming_one(session=upcoming)
    discussed = Topic.objects.filter(compound=compound, title=DELIBERATING_TOPICS[0][0]).first()
    if discussed is not None:
        _comments(discussed, users, staff)
    evaluating = Topic.objects.filter(compound=compound, status=S.EVALUATING).first()
    if evaluating is not None:
        scores = [Satisfaction.SATISFIED] * 5 + [Satisfaction.BASICALLY] * 2 + [
            Satisfaction.DISSATISFIED]
        TopicRating.objects.bulk_create(
            [TopicRating(topic=evaluating, user=user, household_id=household_id,
                         score=randomizer.choice(scores))
             for user, household_id in users[1:9]], ignore_conflicts=True)


def _resident_accounts(compound: Compound, count: int) -> list[tuple[User, int | None]]:
    """Accounts for `count` residents of different households (as if they had signed in by
    phone): the demo's one resident account is not enough for sign-ups and a discussion."""
    taken = set(User.objects.exclude(phone=None).values_list("phone", flat=True))
    chosen: dict[int, Resident] = {}
    for person in (Resident.objects.filter(household__building__compound=compound,
                                           user__isnull=True).exclude(phone="")
                   .order_by("household_id", "id")[:count * 6]):
        if person.household_id not in chosen and person.phone not in taken:
            chosen[person.household_id] = person
            taken.add(person.phone)
        if len(chosen) == count:
            break
    people = list(chosen.values())
    users = User.objects.bulk_create([
        User(username=f"m{person.phone[-4:]}-demo{index}", role=User.Role.RESIDENT,
             display_name=person.name, phone=person.phone, password=make_password(None))
        for index, person in enumerate(people)])
    for person, user in zip(people, users, strict=True):
        person.user = user
    Resident.objects.bulk_update(people, ["user"])
    accounts: list[tuple[User, int | None]] = [
        (user, person.household_id) for person, user in zip(people, users, strict=True)]
    return accounts


def _comments(topic: Topic, users: list[tuple[User, int | None]], staff: User | None) -> None:
    labels = {row["user_id"]: f"{mask_name(row['name'])} · {row['household__building__number']}栋"
              for row in Resident.objects.filter(user_id__in=[user.pk for user, _ in users])
              .values("user_id", "name", "household__building__number")}
    start = timezone.now() - timedelta(days=2)
    comments = [TopicComment(topic=topic, author=user, author_label=labels.get(user.pk, "居民"),
                             body=body)
                for (user, _household), body in zip(users[1:], COMMENTS, strict=False)]
    if staff is not None:
        comments.insert(2, TopicComment(topic=topic, author=staff, author_label="社区工作人员",
                                        body="已请物业测量5号楼北侧场地，15日议事会上一并说明。"))
    if len(users) > 5:
        body, reason = HIDDEN_COMMENT
        comments.append(TopicComment(topic=topic, author=users[5][0],
                                     author_label=labels.get(users[5][0].pk, "居民"), body=body,
                                     hidden_at=timezone.now() - timedelta(hours=3),
                                     hidden_by=staff, hidden_reason=reason))
    TopicComment.objects.bulk_create(comments)
    for index, comment in enumerate(comments):  # auto_now_add set "now": spread over two days
        comment.created_at = start + timedelta(hours=5 * index)
    TopicComment.objects.bulk_update(comments, ["created_at"])
