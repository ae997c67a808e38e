"""The site's URL map and a populated world to fill it, shared by the crawl and the access matrix.

Every URL pattern of the resolver (namespaces and includes walked recursively, the admin too) is
enumerated once; its arguments are filled with the id of a real row of the viewer's community
(`World.real`), of the other community (`World.other`), or with a bogus value.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.utils import timezone
from django.utils.regex_helper import normalize

from accounts.models import User
from accounts.services import api_key_create
from core.scope import path_in_scope
from deliberation.models import (
    ListReview,
    Need,
    Project,
    Resource,
    Survey,
    SurveyAnswer,
    TopicComment,
)
from deliberation.services.surveys import survey_quarterly_questions_create
from governance.models import Body
from notifications.models import Notification
from notifications.services import notifications_create
from petitions.api.open311 import request_token
from petitions.models import (
    AssessmentExclusion,
    CoHandlingRequest,
    Petition,
    PetitionExtension,
    RecurrenceSuggestion,
)
from petitions.services import building_plaque_get_or_create
from residents.models import Household, Resident
from territory.models import Building, Unit
from tests.accounts.factories import UserFactory
from tests.conftest import Territory
from tests.deliberation.factories import ActionItemFactory, SessionFactory, TopicFactory
from tests.governance.factories import org_root
from tests.petitions.factories import category, photo, submit
from tests.residents.factories import HouseholdFactory, PartyMemberFactory, ResidentFactory
from tests.volunteers.factories import (
    ActivityFactory,
    ServicePostFactory,
    TeamFactory,
    VolunteerFactory,
)
from volunteers.models import (
    ActivitySignup,
    CareFile,
    CareVisit,
    HoursEntry,
    MicroWish,
    ProxyService,
    ResponsibilityZone,
    Shift,
    ShiftSwap,
    TeamMembership,
)

ROLES = [
    "anonymous", "resident", "microgrid_worker", "grid_worker", "community_staff",
    "street_admin", "outsider", "api_key",
]
OK_STATUSES = {200, 301, 302, 400, 401, 403, 404, 405, 429}
BOGUS_INT = "999999"
BOGUS_STR = "x<script>"


# Distinctive phones, so a substring check is exact.
PHONE_OWN = "13800001111"  # resident_user (tests/conftest.py), household1 in 微网格一
PHONE_MICRO1 = "13712340001"  # another household in 微网格一 (building 2)
PHONE_MICRO2 = "13712340002"  # household2 in 微网格二 (grid 网格一, outside 微网格一)
PHONE_OTHER = "13712345678"  # other_household in 黄河路社区 (the outsider's community)


@dataclass
class World:
    users: dict[str, User | None]
    api_key_raw: str
    # Which pk fills a URL argument, by the path segment that precedes it.
    real: dict[str, int] = field(default_factory=dict)
    # The same keys, filled with rows of the other community (黄河路社区), where such a row exists.
    other: dict[str, int] = field(default_factory=dict)
    phones: dict[str, str] = field(default_factory=dict)  # phone -> micro-grid path


def build_world(territory: Territory, request: pytest.FixtureRequest) -> World:
    users: dict[str, User | None] = {"anonymous": None}
    for role in ROLES[1:-1]:
        fixture = "resident_user" if role == "resident" else role
        users[role] = request.getfixturevalue(fixture)
    api_key, raw = api_key_create(name="12345 热线")
    users["api_key"] = api_key.user

    own = Resident.objects.get(user=users["resident"])
    building2_unit = Unit.objects.create(building=territory.building2, number="1")
    micro1_household = HouseholdFactory(unit=building2_unit, room="0201")
    micro1_resident = ResidentFactory(household=micro1_household, name="孙阿婆",
                                      phone=PHONE_MICRO1)
    neighbour = UserFactory(username="neighbour", role=User.Role.RESIDENT, phone=PHONE_MICRO2)
    micro2_resident = ResidentFactory(household=territory.household2, name="李大爷",
                                      phone=PHONE_MICRO2, user=neighbour, id_number="")
    far = UserFactory(username="far", role=User.Role.RESIDENT, phone=PHONE_OTHER)
    other_resident = ResidentFactory(household=territory.other_household, name="赵先生",
                                     phone=PHONE_OTHER, user=far)

    # Petitions: the resident's own, a neighbour's, one of the other community, an anonymous one.
    petition = submit(users["resident"], household=territory.household1,
                      contact_phone=PHONE_OWN, contact_name="王阿姨", photos=[photo()])
    submit(neighbour, household=territory.household2, contact_phone=PHONE_MICRO2,
           contact_name="李大爷", is_public=True)
    other_petition = submit(far, household=territory.other_household, contact_phone=PHONE_OTHER,
                            contact_name="赵先生", is_public=True, photos=[photo()])
    submit(None, building=territory.building2, contact_phone=PHONE_MICRO1)

    # Party organisation, deliberation.
    committee = org_root(area=territory.community)
    member = PartyMemberFactory(resident=micro2_resident, org_node=committee, is_public=True)
    session = SessionFactory(compound=territory.compound)
    topic = TopicFactory(compound=territory.compound, proposer=users["resident"], session=session)
    other_topic = TopicFactory(compound=territory.other_compound, proposer=far,
                               proposer_name="赵先生")
    action_item = ActionItemFactory(topic=topic)
    comment = TopicComment.objects.create(topic=topic, author=neighbour,
                                          author_label="李** · 3栋", body="同意")
    other_comment = TopicComment.objects.create(topic=other_topic, author=far,
                                                author_label="赵** · 9栋", body="路过")
    today = timezone.localdate()
    survey = Survey.objects.create(compound=territory.compound, year=today.year, quarter=1,
                                   kind=Survey.Kind.QUARTERLY, opened_at=timezone.now(),
                                   title="一季度满意度", opens_on=today - timedelta(days=3),
                                   closes_on=today + timedelta(days=10))
    survey_quarterly_questions_create(surveys=[survey])
    answer = SurveyAnswer.objects.create(survey=survey, household=territory.household2,
                                         user=neighbour, satisfaction="satisfied",
                                         comment="电梯常坏")
    need = Need.objects.create(compound=territory.compound, title="加装电梯",
                               source=Need.Source.SURVEY, survey_answer=answer)
    resource = Resource.objects.create(compound=territory.compound, kind=Resource.Kind.ORGANISATION,
                                       name="红十字会", offers="急救培训")
    project = Project.objects.create(compound=territory.compound, kind=Project.Kind.LIVELIHOOD,
                                     title="楼道照明", owner_name="物业公司", topic=topic)
    project.needs.add(need)
    project.resources.add(resource)
    review = ListReview.objects.create(compound=territory.compound, year=today.year, quarter=1)

    # Volunteers.
    team = TeamFactory(compound=territory.compound)
    volunteer = VolunteerFactory(compound=territory.compound, user=users["resident"],
                                 resident=own, name="王阿姨")
    other_volunteer = VolunteerFactory(compound=territory.compound, user=neighbour,
                                       resident=micro2_resident, party_member=member,
                                       name="李大爷")
    TeamMembership.objects.create(team=team, volunteer=volunteer)
    activity = ActivityFactory(compound=territory.compound, team=team)
    signup = ActivitySignup.objects.create(activity=activity, volunteer=volunteer,
                                           status=ActivitySignup.Status.CONFIRMED,
                                           signed_up_at=timezone.now())
    hours = HoursEntry.objects.create(volunteer=volunteer, activity=activity,
                                      source=HoursEntry.Source.APP, hours=2, served_on=today)
    post = ServicePostFactory(compound=territory.compound)
    starts = timezone.now() + timedelta(days=1)
    shift = Shift.objects.create(post=post, volunteer=volunteer, starts_at=starts,
                                 ends_at=starts + timedelta(hours=2),
                                 remind_at=starts - timedelta(hours=2))
    swap = ShiftSwap.objects.create(shift=shift, from_volunteer=volunteer,
                                    to_volunteer=other_volunteer, reason="出差")
    post.slots.create(volunteer=volunteer, weekday=1, start_time=time(9), end_time=time(11))
    zone = ResponsibilityZone.objects.create(compound=territory.compound, number=1,
                                             name="1号楼责任区", party_member=member)
    zone.buildings.add(territory.building1)
    zone.households.add(territory.household1)
    wish = MicroWish.objects.create(compound=territory.compound, resident=micro1_resident,
                                    title="想要一副老花镜")
    proxy = ProxyService.objects.create(compound=territory.compound, resident=micro1_resident,
                                        kind=ProxyService.Kind.MEDICINE, title="代买降压药")
    care_file = CareFile.objects.create(
        resident=micro2_resident, category=CareFile.Category.ELDER_ALONE,
        risk=CareFile.Risk.HIGH, frequency=CareFile.Frequency.WEEKLY, caretaker=other_volunteer,
        emergency_contact="李女士", emergency_phone="13912349999",
        next_visit_due=today + timedelta(days=7), second_miss_on=today + timedelta(days=14),
    )
    visit = CareVisit.objects.create(care_file=care_file, visitor=other_volunteer,
                                     visited_on=today, condition=CareVisit.Condition.GOOD,
                                     notes="精神不错", need="代缴水费")
    other_care_file = CareFile.objects.create(
        resident=other_resident, category=CareFile.Category.EMPTY_NEST, risk=CareFile.Risk.LOW,
        frequency=CareFile.Frequency.MONTHLY, next_visit_due=today + timedelta(days=30),
        second_miss_on=today + timedelta(days=60),
    )

    for user in users.values():
        if user is not None:
            notifications_create(user_ids=[user.pk], title="您有一条新消息",
                                 link=f"/petitions/{petition.pk}/")
    # The resident's own message: opening it is theirs alone (anyone else's is a 404).
    resident_message = Notification.objects.filter(user=users["resident"]).latest("pk")

    # A pending 申诉剔除 each side, asked by community staff: the street admin may decide it.
    exclusion, other_exclusion = AssessmentExclusion.objects.bulk_create([
        AssessmentExclusion(petition=item, reason=AssessmentExclusion.Reason.DUPLICATE,
                            note="与另一件重复", requested_by=users["community_staff"])
        for item in (petition, other_petition)])
    # A pending 延期 each side, asked by the micro-grid worker: the level above decides it.
    extension, other_extension = PetitionExtension.objects.bulk_create([
        PetitionExtension(petition=item, tier=item.tier, days_requested=2, reason="等待配件",
                          requested_by=users["microgrid_worker"], due_before=item.due_at,
                          grid_path=item.origin_path[:12])
        for item in (petition, other_petition)])
    # An open 未诉先办 suggestion each side (building 1; the other community's building 9).
    recurrence, other_recurrence = RecurrenceSuggestion.objects.bulk_create([
        RecurrenceSuggestion(building=building, category=petition.category,
                             area_path=building.micro_grid.path, petition_count=3,
                             window_days=30, first_submitted_at=timezone.now(),
                             last_submitted_at=timezone.now())
        for building in (territory.building1, territory.other_building)])
    # A 协办 request to the compound's property company: its link opens only with the token,
    # which no role has (the same 404 for everyone).
    cohandling = CoHandlingRequest.objects.create(
        petition=petition, task="请更换楼道灯", due_at=timezone.now() + timedelta(days=2),
        body=Body.objects.create(kind=Body.Kind.PROPERTY_COMPANY, name="瑞城物业",
                                 compound=territory.compound, contact_phone="13600001234"),
        token_hash="0" * 64, expires_at=timezone.now() + timedelta(days=7))
    real = {
        "cohandling": cohandling.pk,
        "exclusions": exclusion.pk, "recurrences": recurrence.pk, "extensions": extension.pk,
        "petitions": petition.pk, "staff": petition.pk, "requests": petition.pk,
        "compounds": territory.compound.pk, "areas": territory.community.pk,
        "buildings": territory.building1.pk, "households": territory.household1.pk,
        "residents": own.pk, "party-members": member.pk,
        "sessions": session.pk, "topics": topic.pk, "actions": action_item.pk,
        "action-items": action_item.pk, "needs": need.pk, "projects": project.pk,
        "reviews": review.pk, "surveys": survey.pk, "questions": survey.questions.first().pk,
        "comments": comment.pk,
        "activities": activity.pk, "signups": signup.pk, "hours": hours.pk, "shifts": shift.pk,
        "swaps": swap.pk, "teams": team.pk, "wishes": wish.pk, "services": proxy.pk,
        "proxy-services": proxy.pk, "care": care_file.pk, "care-files": care_file.pk,
        "volunteers": volunteer.pk, "posts": post.pk, "certificate": today.year,
        "visits": visit.pk,
        "other-petition": other_petition.pk, "inbox": resident_message.pk,
        "plaque": building_plaque_get_or_create(building_id=territory.building1.pk).token,
        "media": petition.photos.get().image.name,  # /media/<name>: the petition's photo
    }
    phones = {
        resident.phone: resident.household.building.micro_grid.path
        for resident in Resident.objects.select_related("household__building__micro_grid")
        if resident.phone
    }
    assert set(phones) == {PHONE_OWN, PHONE_MICRO1, PHONE_MICRO2, PHONE_OTHER}
    assert Building.objects.count() == 4 and Household.objects.count() == 4
    other = _populate_other_community(territory, far, other_resident)
    other.update({"exclusions": other_exclusion.pk, "recurrences": other_recurrence.pk,
                  "extensions": other_extension.pk,
                  "petitions": other_petition.pk, "staff": other_petition.pk,
                  "requests": other_petition.pk, "topics": other_topic.pk,
                  "comments": other_comment.pk,
                  "care": other_care_file.pk, "care-files": other_care_file.pk,
                  "media": other_petition.photos.get().image.name})
    return World(users=users, api_key_raw=raw, real=real, other=other, phones=phones)


def _populate_other_community(territory: Territory, far: User,
                              other_resident: Resident) -> dict[str, int]:
    """One row of each kind in 黄河路社区, so every id-bearing URL is tried out of scope too."""
    compound = territory.other_compound
    today = timezone.localdate()
    session = SessionFactory(compound=compound)
    topic = TopicFactory(compound=compound, proposer=far, proposer_name="赵先生",
                         session=session)
    action_item = ActionItemFactory(topic=topic)
    survey = Survey.objects.create(compound=compound, year=today.year, quarter=1,
                                   kind=Survey.Kind.QUARTERLY, opened_at=timezone.now(),
                                   title="黄河一季度", opens_on=today - timedelta(days=3),
                                   closes_on=today + timedelta(days=10))
    survey_quarterly_questions_create(surveys=[survey])
    need = Need.objects.create(compound=compound, title="修路灯", source=Need.Source.SURVEY)
    project = Project.objects.create(compound=compound, kind=Project.Kind.LIVELIHOOD,
                                     title="黄河照明", owner_name="物业公司")
    review = ListReview.objects.create(compound=compound, year=today.year, quarter=1)
    team = TeamFactory(compound=compound)
    volunteer = VolunteerFactory(compound=compound, user=far, resident=other_resident,
                                 name="赵先生")
    helper = VolunteerFactory(compound=compound, name="钱师傅")
    activity = ActivityFactory(compound=compound, team=team)
    signup = ActivitySignup.objects.create(activity=activity, volunteer=volunteer,
                                           status=ActivitySignup.Status.CONFIRMED,
                                           signed_up_at=timezone.now())
    hours = HoursEntry.objects.create(volunteer=volunteer, activity=activity,
                                      source=HoursEntry.Source.APP, hours=2, served_on=today)
    post = ServicePostFactory(compound=compound)
    starts = timezone.now() + timedelta(days=1)
    shift = Shift.objects.create(post=post, volunteer=volunteer, starts_at=starts,
                                 ends_at=starts + timedelta(hours=2),
                                 remind_at=starts - timedelta(hours=2))
    swap = ShiftSwap.objects.create(shift=shift, from_volunteer=volunteer, to_volunteer=helper,
                                    reason="出差")
    wish = MicroWish.objects.create(compound=compound, resident=other_resident, title="想要轮椅")
    proxy = ProxyService.objects.create(compound=compound, resident=other_resident,
                                        kind=ProxyService.Kind.MEDICINE, title="代买药")
    return {
        "compounds": compound.pk, "areas": territory.other_community.pk,
        "buildings": territory.other_building.pk, "households": territory.other_household.pk,
        "residents": other_resident.pk, "sessions": session.pk, "topics": topic.pk,
        "actions": action_item.pk, "action-items": action_item.pk, "needs": need.pk,
        "projects": project.pk, "reviews": review.pk, "surveys": survey.pk,
        "questions": survey.questions.first().pk,
        "activities": activity.pk, "signups": signup.pk, "hours": hours.pk, "shifts": shift.pk,
        "swaps": swap.pk, "teams": team.pk, "wishes": wish.pk, "services": proxy.pk,
        "proxy-services": proxy.pk, "volunteers": volunteer.pk, "posts": post.pk,
    }


# --- enumeration --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str  # namespaced name, "" when the pattern has none
    template: str  # "%(pk)s"-style format string of the full path (without the leading "/")
    params: tuple[str, ...]


def _walk(patterns: list[Any], regex: str, namespace: str) -> list[Route]:
    routes = []
    for pattern in patterns:
        part = pattern.pattern.regex.pattern.lstrip("^")
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            routes += _walk(pattern.url_patterns, regex + part, inner)
        elif isinstance(pattern, URLPattern):
            full = (regex + part).replace("\\Z", "$")
            template, params = normalize(full)[0]
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else (
                pattern.name or "")
            routes.append(Route(name=name, template=template, params=tuple(params)))
    return routes


@functools.cache
def all_routes() -> tuple[Route, ...]:
    return tuple(_walk(get_resolver().url_patterns, "", ""))


def _segment_before(template: str, param: str) -> str:
    head = template.split(f"%({param})s")[0].rstrip("/")
    return head.rsplit("/", 1)[-1]


def real_value(world: World, route: Route, param: str) -> str | None:
    if param in ("format", "fmt"):
        return "json"
    if param == "year":
        return str(timezone.localdate().year)
    if param == "code":
        return str(category().pk)
    if param == "token":
        return request_token(world.real["petitions"])
    if param == "app_label":
        return "petitions"
    if param == "path":
        return "unknown.json"
    if param == "content_type_id":
        return str(ContentType.objects.get_for_model(Petition).pk)
    if param == "object_id":  # admin model pages are crawled with bogus ids only (speed)
        return None
    key = _segment_before(route.template, param)
    value = world.real.get(key)
    return None if value is None else str(value)


def _bogus_value(param: str) -> str:
    if param in ("format", "fmt"):
        return "json"
    return BOGUS_INT if param in ("pk", "year", "compound_id", "request_id") else BOGUS_STR


@functools.cache
def resolves(url: str) -> bool:
    try:
        resolve(url)
    except Resolver404:
        return False
    return True


# Roles that also fetch bogus ids, the ".json" twins of DRF routes and the POST-only DRF
# actions: a resident and the superuser. Bogus ids and GET-less actions
# answer the same whoever asks (404/405 after the permission check), so the other roles only
# fetch what can show them rows: every GET page and endpoint with real ids.
FULL_ROLES = {"resident", "street_admin"}
STAFF_ROLES = {"community_staff", "street_admin"}  # is_staff: the only roles the admin lets in
ROLE_FREE = {"schema", "api-docs", "javascript-catalog", "admin:jsi18n"}  # same for everyone


def route_filling(world: World, route: Route) -> tuple[list[str], list[str]]:
    """(URLs with real ids, URLs with a bogus value); only URLs that resolve back."""
    if not route.params:
        return ["/" + route.template], []
    real = {param: real_value(world, route, param) for param in route.params}
    filled = [real]
    if "fmt" in route.params:  # Open311 speaks XML too
        filled.append({**real, "fmt": "xml"})
    if "petitions" in route.template and "pk" in route.params:
        filled.append({**real, "pk": str(world.real["other-petition"])})
    real_urls = ["/" + route.template % values for values in filled
                 if None not in values.values()]
    # A bogus value, or a bogus number where the converter refuses the bogus string.
    bogus = ["/" + route.template % {param: _bogus_value(param) for param in route.params},
             "/" + route.template % {param: BOGUS_INT if param not in ("format", "fmt")
                                     else "json" for param in route.params}]
    return ([url for url in real_urls if resolves(url)],
            [url for url in bogus if resolves(url)][:1])


@functools.cache
def drf_without_get(url: str) -> bool:
    """A DRF route with no GET handler: it can only answer 405 to a GET, whoever asks."""
    view = resolve(url).func
    actions = getattr(view, "actions", None)
    if actions is not None:
        return "get" not in actions
    view_class = getattr(view, "cls", None)
    return view_class is not None and not hasattr(view_class, "get")


def urls_for(world: World, routes: tuple[Route, ...], role: str) -> list[str]:
    """Every route for this role, filled with real ids and with bogus values.

    Roles outside FULL_ROLES skip bogus ids, format twins and GET-less DRF actions; the full
    roles fetch a GET-less action once and a format twin with real ids only.
    The admin is the other exception that keeps the crawl fast: its index, app pages and every
    changelist (with a search term and a bad filter value) for the staff roles, and its
    model-specific pages (change, history, delete, custom views) with bogus ids for the street
    admin only. Other roles meet the admin's login redirect, proven once on the index and a
    changelist. Role-independent pages (the schema, the catalogues) are fetched once, anonymously.
    """
    urls: list[str] = []
    changelists_seen = 0
    for route in routes:
        real_urls, bogus_urls = route_filling(world, route)
        get_less = bool(real_urls) and drf_without_get(real_urls[0])
        if role not in FULL_ROLES:
            if "format" in route.params or get_less:
                continue
            bogus_urls = []
        elif get_less:  # one GET proves the 405, whatever the id
            real_urls, bogus_urls = real_urls[:1], []
        elif "format" in route.params:  # the twin of a route crawled with bogus ids already
            bogus_urls = []
        candidates = real_urls + bogus_urls
        if route.name in ROLE_FREE and role != "anonymous":
            continue
        if route.template.startswith("admin/"):
            model_page = "object_id" in route.params or route.name.endswith("_add")
            if route.name.endswith("_changelist"):
                changelists_seen += 1
                if role not in STAFF_ROLES and changelists_seen > 1:
                    continue
                base = candidates[0]  # the search renders the whole changelist too
                # The bad filter value is the same admin code path for every staff role: the
                # street admin proves it; community staff prove the scoped, masked search.
                candidates = ([f"{base}?q=138", f"{base}?state=nonsense"]
                              if role == "street_admin" else [f"{base}?q=138"])
            elif model_page:
                if role != "street_admin" or route.name.endswith("_add"):
                    continue
                candidates = bogus_urls
            elif role not in STAFF_ROLES and route.name not in ("admin:index", "admin:login"):
                continue
        for url in candidates:
            if url not in urls:
                urls.append(url)
    return urls



def forbidden_phones(world: World, role: str) -> set[str]:
    user = world.users[role]
    viewer = user if user is not None else AnonymousUser()
    forbidden = set()
    for phone, path in world.phones.items():
        if role == "resident" and phone == PHONE_OWN:
            continue
        if role in ("anonymous", "resident", "api_key") or not path_in_scope(viewer, path):
            forbidden.add(phone)
    return forbidden



# --- clients ------------------------------------------------------------------------------------

def client_for(world: World, role: str) -> Client:
    if role == "api_key":
        return Client(HTTP_AUTHORIZATION=f"Api-Key {world.api_key_raw}")
    client = Client()
    user = world.users[role]
    if user is not None:
        client.force_login(user)
    return client


def body_text(response: Any) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    return content.decode("utf-8", errors="replace")
