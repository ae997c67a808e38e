"""The staff workbench (/petitions/staff/): one page, seven queues, nothing left behind.

Every petition that waits for someone is in a tab of someone who can act on it: 待分派 and 已退回
(no holder: the dispatchers), 我的待办 (the holder), 待核查 (resolved: staff in scope other than
the resolver), 即将超时 / 已超时 (either clock) and 督办. Filters and search narrow every tab and
ride along on the tabs and the pager.
"""

from __future__ import annotations

import copy
import csv
import io
import re
from datetime import datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import User
from core import memo
from core.models import AuditEvent
from notifications.models import Notification
from petitions import exports, selectors, services, workbench
from petitions.models import Petition, PetitionState
from territory.models import Building
from tests.accounts.factories import UserFactory
from tests.petitions.factories import category, submit

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_9AM = datetime(2026, 11, 16, 9, 0, tzinfo=SHANGHAI)
URL = reverse("petitions:staff-queue")
TABS = ("dispatch", "mine", "verify", "returned", "due_soon", "overdue", "supervised", "all")


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def row_ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content.decode()[:500]
    return [row["id"] for row in response.context["rows"]]


def tab_counts(response: Any) -> dict[str, int | None]:
    return {tab.key: tab.count for tab in response.context["tabs"]}


def walk_in(actor: User, building: Any, *, phone: str, **fields: Any) -> Petition:
    fields.setdefault("description", "楼上装修噪音，晚上十点后还在施工")
    return submit(actor, building=building, channel=Petition.Channel.WALK_IN,
                  contact_phone=phone, contact_name="来访居民", **fields)


# --- the seven tabs ----------------------------------------------------------------------------


@pytest.fixture
def world(territory, resident_user, microgrid_worker, grid_worker, community_staff,
          time_machine):
    """One petition waiting in each place, accepted Monday 09:00 (arrival due 09:07)."""
    time_machine.move_to(MONDAY_9AM, tick=False)
    # 微网格二 has no worker: accepted, nobody holds it.
    waiting = walk_in(community_staff, territory.building3, phone="13700000001")
    held_by_worker = submit(resident_user)
    returned = submit(resident_user, building=territory.building2)
    services.petition_return(petition_id=returned.pk, actor=microgrid_worker, reason="不是本楼")
    mine = submit(resident_user)
    services.petition_return(petition_id=mine.pk, actor=microgrid_worker, reason="需社区协调")
    services.petition_dispatch(petition_id=mine.pk, actor=community_staff,
                               holder=community_staff)
    resolved_by_worker = submit(resident_user)
    services.petition_check_in(petition_id=resolved_by_worker.pk, actor=microgrid_worker)
    services.petition_resolve(petition_id=resolved_by_worker.pk, actor=microgrid_worker,
                              resolution="已清理")
    resolved_by_me = submit(resident_user)
    services.petition_return(petition_id=resolved_by_me.pk, actor=microgrid_worker,
                             reason="需社区协调")
    services.petition_dispatch(petition_id=resolved_by_me.pk, actor=community_staff,
                               holder=community_staff)
    services.petition_check_in(petition_id=resolved_by_me.pk, actor=community_staff)
    services.petition_resolve(petition_id=resolved_by_me.pk, actor=community_staff,
                              resolution="已协调物业处理")
    supervised = submit(resident_user)
    services.petition_check_in(petition_id=supervised.pk, actor=microgrid_worker)
    # The sweep flags 督办 five days on; the row is set here to keep the other clocks still.
    Petition.objects.filter(pk=supervised.pk).update(supervised=True)
    return {name: petition.pk for name, petition in locals().items()
            if isinstance(petition, Petition)}


def test_each_tab_lists_what_waits_there_and_its_count_is_its_rows(world, community_staff,
                                                                   time_machine):
    time_machine.move_to(MONDAY_9AM + timedelta(minutes=2), tick=False)
    client = client_for(community_staff)
    expected = {
        "dispatch": {world["waiting"]},
        "mine": {world["mine"]},
        # The resolver may not verify their own work: only the worker's resolution is here.
        "verify": {world["resolved_by_worker"]},
        "returned": {world["returned"]},
        # Nobody has reached these yet: five minutes to arrive.
        "due_soon": {world["waiting"], world["held_by_worker"], world["returned"],
                     world["mine"]},
        "overdue": set(),
        "supervised": {world["supervised"]},
        # Every state: the finished ones too (a closed petition is made below).
        "all": set(world.values()),
    }
    Petition.objects.filter(pk=world["resolved_by_me"]).update(state=PetitionState.CLOSED)
    counts = None
    for tab, ids in expected.items():
        response = client.get(URL, {"tab": tab})
        assert set(row_ids(response)) == ids, tab
        assert response.context["tab"] == tab
        counts = tab_counts(response)
        assert counts[tab] == len(ids), tab
    # 全部 is counted only while open: its count would scan the finished rows too.
    assert counts == {tab: len(ids) for tab, ids in expected.items()}
    assert tab_counts(client.get(URL, {"tab": "mine"}))["all"] is None


def test_a_reopened_petition_whose_holder_is_gone_waits_in_the_dispatch_queue(
        territory, resident_user, microgrid_worker, community_staff):
    petition = submit(resident_user)
    services.petition_check_in(petition_id=petition.pk, actor=microgrid_worker)
    services.petition_resolve(petition_id=petition.pk, actor=microgrid_worker,
                              resolution="已清理")
    services.petition_verify(petition_id=petition.pk, actor=community_staff)
    microgrid_worker.delete()  # the worker's account removed: the petition keeps no holder
    services.petition_rate(petition_id=petition.pk, actor=resident_user,
                           rating=Petition.Rating.UNSATISFIED, comment="还是很脏")
    petition.refresh_from_db()
    assert (petition.state, petition.holder_id) == (Petition.State.REOPENED, None)
    response = client_for(community_staff).get(URL, {"tab": "dispatch"})
    assert row_ids(response) == [petition.pk]


def test_a_missed_arrival_is_overdue_as_much_as_a_missed_resolution(world, community_staff,
                                                                     time_machine):
    time_machine.move_to(MONDAY_9AM + timedelta(minutes=10), tick=False)
    client = client_for(community_staff)
    late = {world["waiting"], world["held_by_worker"], world["returned"], world["mine"]}
    response = client.get(URL, {"tab": "overdue"})
    assert set(row_ids(response)) == late
    assert "到场超时" in response.content.decode()
    assert not row_ids(client.get(URL, {"tab": "due_soon"}))
    # A day on, the checked-in one is late on its resolution deadline too.
    time_machine.move_to(MONDAY_9AM + timedelta(days=1, minutes=1), tick=False)
    assert set(row_ids(client.get(URL, {"tab": "overdue"}))) == late | {world["supervised"]}


def test_the_verify_tab_is_someone_elses_work_for_each_verifier(world, grid_worker,
                                                                microgrid_worker):
    assert set(row_ids(client_for(grid_worker).get(URL, {"tab": "verify"}))) == {
        world["resolved_by_worker"], world["resolved_by_me"]}
    # Micro-grid workers do not verify (PetitionVerifyView): no such tab, nor dispatchers' tabs.
    response = client_for(microgrid_worker).get(URL, {"tab": "verify"})
    assert set(tab_counts(response)) == {"mine", "due_soon", "overdue", "supervised", "all"}
    assert response.context["tab"] == "mine"
    assert set(row_ids(response)) == {world["held_by_worker"], world["supervised"]}


def test_the_nearest_deadline_of_either_clock_comes_first(territory, resident_user,
                                                          microgrid_worker, time_machine):
    # Accepted yesterday, on site: resolution due in two hours, no arrival clock left.
    time_machine.move_to(MONDAY_9AM - timedelta(hours=22), tick=False)
    in_two_hours = submit(resident_user)
    services.petition_check_in(petition_id=in_two_hours.pk, actor=microgrid_worker)
    # Accepted three minutes ago: four minutes to arrive (its resolution is due tomorrow).
    time_machine.move_to(MONDAY_9AM - timedelta(minutes=3), tick=False)
    four_minutes_to_arrive = submit(resident_user)
    time_machine.move_to(MONDAY_9AM, tick=False)
    response = client_for(microgrid_worker).get(URL)
    assert row_ids(response) == [four_minutes_to_arrive.pk, in_two_hours.pk]


def test_staff_sign_in_lands_on_the_workbench(grid_worker):
    response = Client().post(reverse("accounts:login"),
                             {"username": grid_worker.username, "password": "pass-1234"})
    assert response.status_code == 302
    assert response["Location"] == URL
    # A `next` still wins (the sign-in redirect of a staff page).
    detail = Client().post(f"{reverse('accounts:login')}?next=/petitions/staff/stats/",
                           {"username": grid_worker.username, "password": "pass-1234"})
    assert detail["Location"] == "/petitions/staff/stats/"


@pytest.mark.parametrize(("old", "tab"), [
    ("petitions:staff-overdue", "overdue"),
    ("petitions:staff-due-today", "due_soon"),
    ("petitions:staff-dispatch-queue", "dispatch"),
])
def test_the_old_list_urls_open_their_tab_with_the_filters(territory, community_staff, old,
                                                           tab):
    response = client_for(community_staff).get(reverse(old), {"tier": "grid", "page": "2"})
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == URL
    assert parse_qs(location.query) == {"tab": [tab], "tier": ["grid"], "page": ["2"]}


def test_the_dispatch_queue_url_stays_closed_to_micro_grid_workers(territory,
                                                                   microgrid_worker):
    response = client_for(microgrid_worker).get(reverse("petitions:staff-dispatch-queue"))
    assert response.status_code == 404


# --- filters and search ------------------------------------------------------------------------


@pytest.fixture
def spread(territory, resident_user, microgrid_worker, grid_worker, community_staff,
           time_machine):
    """Three petitions on three days, different on every filter; none reached yet, so all
    are in 已超时 (arrival) on Wednesday 09:10."""
    time_machine.move_to(MONDAY_9AM, tick=False)
    monday = submit(resident_user, description="楼道堆放杂物")
    time_machine.move_to(MONDAY_9AM + timedelta(days=1), tick=False)
    tuesday = walk_in(community_staff, territory.building3, phone="13700000001",
                      category=category("噪音扰民"))
    time_machine.move_to(MONDAY_9AM + timedelta(days=2), tick=False)
    wednesday = submit(resident_user, building=territory.building2,
                       description="二号楼门禁坏了")
    services.petition_triage(petition_id=wednesday.pk, actor=community_staff,
                             size=Petition.Size.BIG)
    time_machine.move_to(MONDAY_9AM + timedelta(days=2, minutes=10), tick=False)
    return {"monday": monday, "tuesday": tuesday, "wednesday": wednesday}


FILTERS = [
    ({"state": "submitted"}, {"tuesday"}),
    ({"tier": "grid"}, {"wednesday"}),
    ({"channel": "walk_in"}, {"tuesday"}),
    ({"submitted_after": "2026-11-17"}, {"tuesday", "wednesday"}),
    ({"submitted_until": "2026-11-17"}, {"monday", "tuesday"}),
    ({"submitted_after": "2026-11-17", "submitted_until": "2026-11-17"}, {"tuesday"}),
    ({"q": "噪音"}, {"tuesday"}),
    ({"q": "门禁"}, {"wednesday"}),
]


@pytest.mark.parametrize(("params", "expected"), FILTERS)
def test_a_filter_narrows_the_tab_and_its_count(spread, community_staff, params, expected):
    client = client_for(community_staff)
    assert len(row_ids(client.get(URL, {"tab": "overdue"}))) == 3
    response = client.get(URL, {"tab": "overdue", **params})
    assert set(row_ids(response)) == {spread[name].pk for name in expected}
    assert tab_counts(response)["overdue"] == len(expected)


def building_options(response: Any) -> set[str]:
    field = next(item for item in response.context["selects"] if item.name == "building")
    return {unescape(value) for value, _text in field.options}


def test_the_building_filter_offers_each_scope_its_own_buildings_though_remembered(
        territory, community_staff):
    """The options are remembered per scope (core.memo): the first page asked must not decide
    what another scope is offered."""
    other = UserFactory(username="huanghe-staff", role=User.Role.COMMUNITY_STAFF,
                        scope_area=territory.other_community)
    ours = {str(building.pk) for building in (territory.building1, territory.building2,
                                              territory.building3)}
    assert building_options(client_for(community_staff).get(URL)) == ours
    assert building_options(client_for(other).get(URL)) == {str(territory.other_building.pk)}
    assert building_options(client_for(community_staff).get(URL)) == ours


def test_the_filter_options_cost_no_query_while_remembered_and_a_new_building_shows_after(
        territory, community_staff, monkeypatch):
    from petitions.views import workbench as views

    client = client_for(community_staff)
    with CaptureQueriesContext(connection) as first:
        client.get(URL)
    with CaptureQueriesContext(connection) as second:
        response = client.get(URL)
    assert len(first.captured_queries) - len(second.captured_queries) == 2  # categories, buildings
    added = Building.objects.create(compound=territory.compound, micro_grid=territory.micro1,
                                    number="99")
    assert str(added.pk) not in building_options(client.get(URL))  # still remembered
    monkeypatch.setattr(views, "FILTER_OPTIONS_SECONDS", 0)  # as once the minute is up
    assert str(added.pk) in building_options(client.get(URL))
    assert response.status_code == 200


def test_the_category_and_building_filters_narrow(spread, territory, community_staff):
    client = client_for(community_staff)
    noise = client.get(URL, {"tab": "overdue", "category": category("噪音扰民").pk})
    assert row_ids(noise) == [spread["tuesday"].pk]
    building2 = client.get(URL, {"tab": "overdue", "building": territory.building2.pk})
    assert row_ids(building2) == [spread["wednesday"].pk]


def test_the_overdue_filter_narrows_a_tab_to_either_clock_missed(territory, resident_user,
                                                                  microgrid_worker,
                                                                  time_machine):
    time_machine.move_to(MONDAY_9AM, tick=False)
    reached = submit(resident_user)
    services.petition_check_in(petition_id=reached.pk, actor=microgrid_worker)
    not_reached = submit(resident_user)
    time_machine.move_to(MONDAY_9AM + timedelta(minutes=8), tick=False)
    client = client_for(microgrid_worker)
    assert set(row_ids(client.get(URL))) == {reached.pk, not_reached.pk}
    assert row_ids(client.get(URL, {"overdue": "true"})) == [not_reached.pk]
    assert row_ids(client.get(URL, {"overdue": "false"})) == [reached.pk]


def test_a_search_finds_by_number_with_or_without_the_hash(spread, community_staff):
    client = client_for(community_staff)
    monday = spread["monday"].pk
    assert row_ids(client.get(URL, {"tab": "overdue", "q": f"#{monday}"})) == [monday]
    assert row_ids(client.get(URL, {"tab": "overdue", "q": str(monday)})) == [monday]


def test_a_search_by_whole_phone_is_an_audited_reveal(spread, community_staff, grid_worker):
    tuesday = spread["tuesday"]
    response = client_for(community_staff).get(URL, {"tab": "overdue", "q": "137 0000 0001"})
    assert row_ids(response) == [tuesday.pk]
    event = AuditEvent.objects.get()
    assert (event.action, event.object_type, event.object_id, event.fields, event.actor) == (
        "reveal", "petitions.petition", str(tuesday.pk), ["contact_phone"], community_staff)
    # The rows never print the number; a miss reveals nothing and writes nothing.
    assert "13700000001" not in response.content.decode()
    assert not row_ids(client_for(grid_worker).get(URL, {"tab": "overdue",
                                                         "q": "13799999999"}))
    assert AuditEvent.objects.count() == 1


def test_a_phone_search_spends_the_lookup_budget_and_says_so_in_chinese(spread, community_staff,
                                                                        monkeypatch):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "protected_lookup", "1/min")
    client = client_for(community_staff)
    assert row_ids(client.get(URL, {"tab": "overdue", "q": "13700000001"}))
    response = client.get(URL, {"tab": "overdue", "q": "13700000001"})
    assert response.status_code == 429
    assert "查找过于频繁" in response.content.decode()
    assert response.context["rows"] == []
    # Without a whole phone number the search spends nothing.
    assert row_ids(client.get(URL, {"tab": "overdue", "q": "噪音"}))


def test_bad_filter_values_are_a_chinese_message_not_a_500(spread, community_staff):
    response = client_for(community_staff).get(URL, {"tier": "nowhere", "building": "x",
                                                     "submitted_after": "昨天"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "筛选条件有误" in page
    assert response.context["rows"] == []


def test_empty_fields_of_the_filter_form_are_dropped_from_the_url(territory, community_staff):
    response = client_for(community_staff).get(URL, {"tab": "mine", "state": "", "tier": "grid",
                                                     "q": ""})
    assert response.status_code == 302
    assert parse_qs(urlsplit(response["Location"]).query) == {"tab": ["mine"],
                                                              "tier": ["grid"]}


def test_the_api_list_takes_the_same_filters(spread, community_staff, territory):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(community_staff)
    answer = api.get(reverse("api:petition-list"),
                     {"building": territory.building2.pk, "submitted_until": "2026-11-18"})
    assert answer.status_code == 200, answer.content
    assert [row["id"] for row in answer.json()["results"]] == [spread["wednesday"].pk]


# --- pages, links, rows ------------------------------------------------------------------------


def _copies(petition: Petition, count: int, **changes: Any) -> None:
    """`count` more petitions like `petition`, in one INSERT (the service is slow for 100)."""
    rows = []
    stored = Petition.objects.get(pk=petition.pk)  # read (and decrypted) once, not per copy
    for index in range(count):
        row = copy.copy(stored)
        row.pk = None
        row.due_at = petition.due_at + timedelta(minutes=index + 1)
        for name, value in changes.items():
            setattr(row, name, value)
        rows.append(row)
    Petition.objects.bulk_create(rows)


def links(html: str, rel: str) -> dict[str, list[str]]:
    match = re.search(rf'href="\?([^"]*)" rel="{rel}"', html)
    assert match is not None, f"no {rel} link"
    return parse_qs(unescape(match.group(1)))


def test_the_pager_and_the_tabs_keep_the_filters(territory, resident_user, microgrid_worker,
                                                  frozen):
    first = submit(resident_user)
    _copies(first, 60)
    _copies(first, 5, tier="grid")  # filtered out below
    client = client_for(microgrid_worker)
    assert tab_counts(client.get(URL))["mine"] == 66
    response = client.get(URL, {"page": 2, "tier": "microgrid", "q": "杂物"})
    html = response.content.decode()
    assert response.context["page"].paginator.count == 61
    assert len(row_ids(response)) == 11
    assert links(html, "prev") == {"page": ["1"], "tier": ["microgrid"], "q": ["杂物"]}
    assert 'rel="next"' not in html
    first_page = client.get(URL, {"tier": "microgrid", "q": "杂物"}).content.decode()
    assert links(first_page, "next") == {"page": ["2"], "tier": ["microgrid"], "q": ["杂物"]}
    # Each tab link keeps the filters and starts at page 1.
    tab_links = re.findall(r'<a class="tab[^"]*" href="\?([^"]*)"', html)
    assert len(tab_links) == 5
    for query in tab_links:
        params = parse_qs(unescape(query))
        assert (params["tier"], params["q"], "page" in params) == (["microgrid"], ["杂物"],
                                                                   False)
    # The form shows the values, so the next search starts from them.
    assert 'name="q" value="杂物"' in html
    assert re.search(r'<option value="microgrid" selected>', html)
    beyond = client.get(URL, {"page": "99", "tier": "microgrid"})  # a stale link: last page
    assert beyond.status_code == 200 and beyond.context["page"].number == 2


def test_every_row_is_one_link_to_the_staff_page(territory, resident_user, microgrid_worker,
                                                 frozen):
    petitions = [submit(resident_user) for _index in range(3)]
    html = client_for(microgrid_worker).get(URL).content.decode()
    rows = re.findall(r'<li class="wb-row[^"]*">(.*?)</li>', html, flags=re.DOTALL)
    assert len(rows) == 3
    for row, petition in zip(rows, petitions, strict=True):  # same deadline: by number
        # One link per row wrapping all of it, and nothing else to tap inside it.
        assert row.strip().startswith(
            f'<a class="wb-link" href="{reverse("petitions:staff-detail", args=[petition.pk])}"')
        assert row.strip().endswith("</a>")
        assert row.count("<a ") == 1
        assert not re.search(r"<(button|input|select|textarea|form)\b", row)


def _page_queries(client: Client, params: dict[str, Any]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL, params)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("tab", TABS)
def test_a_tab_costs_the_same_queries_for_3_rows_and_for_120(world, community_staff, tab,
                                                            time_machine,
                                                            django_assert_num_queries):
    if tab == "overdue":  # nobody has arrived: the arrival clocks have run out
        time_machine.move_to(MONDAY_9AM + timedelta(minutes=10), tick=False)
    client = client_for(community_staff)
    with_few = _page_queries(client, {"tab": tab, "tier": "microgrid"})
    for name in ("waiting", "mine", "resolved_by_worker", "returned", "supervised"):
        _copies(Petition.objects.get(pk=world[name]), 24)
    memo.forget_all()  # the filter options are asked again, as on the first page
    with django_assert_num_queries(with_few):
        response = client.get(URL, {"tab": tab, "tier": "microgrid", "page": 2})
    # Session, the user with their scope area, unread count; the seven counts in one query, the
    # page's ids then its rows (the pager reuses its tab's count: no second COUNT), the
    # categories and buildings of the form (then remembered for a minute); on 待分派 the
    # placement-quality line; on 全部 its own count, capped (it reads finished rows, which the
    # seven counts leave out).
    assert with_few == 8 + (tab in ("dispatch", "all"))
    counts = tab_counts(response)
    assert counts[tab] == response.context["page"].paginator.count


def test_the_all_tab_counts_up_to_its_cap_and_says_more_past_it(world, community_staff,
                                                                  monkeypatch):
    # 7 petitions in the world: a cap of 7 counts them all, a cap of 6 stops and says 6+.
    client = client_for(community_staff)
    monkeypatch.setattr(workbench, "ALL_COUNT_CAP", 7)
    response = client.get(URL, {"tab": "all"})
    assert tab_counts(response)["all"] == 7
    assert str(tab_counts(response)["all"]) == "7"
    monkeypatch.setattr(workbench, "ALL_COUNT_CAP", 6)
    response = client.get(URL, {"tab": "all"})
    count = tab_counts(response)["all"]
    assert count == 7 and str(count) == "6+"  # more than 6, shown as such
    html = response.content.decode()
    assert '<span class="wb-count">6+</span>' in html
    assert len(row_ids(response)) == 7  # the rows are not capped, only their count
    # The other tabs' counts are exact whatever the cap.
    assert tab_counts(response)["supervised"] == 1


def test_the_export_of_the_all_tab_counts_up_to_its_row_limit_not_the_page_cap(
        world, community_staff, monkeypatch):
    client = client_for(community_staff)
    monkeypatch.setattr(workbench, "ALL_COUNT_CAP", 2)
    response = client.get(reverse("petitions:staff-export-csv"), {"tab": "all"})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert len(list(csv.DictReader(io.StringIO(text)))) == 7
    monkeypatch.setattr(exports, "EXPORT_ROW_LIMIT", 5)
    response = client.get(reverse("petitions:staff-export-csv"), {"tab": "all"}, follow=True)
    assert "一次最多导出 5 条，当前 5+ 条，请缩小筛选范围后再导出。" in response.content.decode()


# --- the verifier hears of a resolution -------------------------------------------------------


def test_a_resolution_tells_the_verifiers_in_scope_but_not_the_resolver(
        territory, resident_user, microgrid_worker, grid_worker, community_staff, outsider):
    petition = submit(resident_user)
    services.petition_check_in(petition_id=petition.pk, actor=microgrid_worker)
    services.petition_resolve(petition_id=petition.pk, actor=microgrid_worker,
                              resolution="已清理")
    told = Notification.objects.filter(title__contains="办结", link__contains=f"/{petition.pk}/")
    link = reverse("petitions:staff-detail", args=[petition.pk])
    assert {(note.user_id, note.link) for note in told.exclude(user=resident_user)} == {
        (grid_worker.pk, link), (community_staff.pk, link)}
    assert not told.filter(user__in=[microgrid_worker, outsider]).exists()


def test_a_dispatcher_who_resolves_leaves_the_check_to_the_others(
        territory, resident_user, microgrid_worker, grid_worker, community_staff):
    petition = submit(resident_user)
    services.petition_return(petition_id=petition.pk, actor=microgrid_worker, reason="需协调")
    services.petition_dispatch(petition_id=petition.pk, actor=community_staff,
                               holder=community_staff)
    services.petition_check_in(petition_id=petition.pk, actor=community_staff)
    services.petition_resolve(petition_id=petition.pk, actor=community_staff,
                              resolution="已协调")
    told = Notification.objects.filter(title__contains="办结").exclude(user=resident_user)
    assert set(told.values_list("user_id", flat=True)) == {grid_worker.pk}


def test_with_nobody_else_in_the_community_the_street_admins_verify(territory, resident_user,
                                                                    microgrid_worker):
    street = UserFactory(username="street2", role=User.Role.STREET_ADMIN,
                         scope_area=territory.street)
    petition = submit(resident_user)
    services.petition_check_in(petition_id=petition.pk, actor=microgrid_worker)
    services.petition_resolve(petition_id=petition.pk, actor=microgrid_worker,
                              resolution="已清理")
    told = Notification.objects.filter(title__contains="办结").exclude(user=resident_user)
    assert set(told.values_list("user_id", flat=True)) == {street.pk}


# --- the counts: one query, the same figures as one COUNT per tab --------------------------------


@pytest.mark.parametrize("viewer", ["community_staff", "grid_worker", "microgrid_worker"])
def test_the_tab_counts_are_each_tabs_own_count(world, request, time_machine, viewer):
    """The one query of the counts against one .filter(tab_q(...)).count() per tab, over the
    world's petitions (every tab holds some at one of the two moments), with and without
    filters, for each kind of staff, on every tab they have (全部 counted only while open)."""
    Petition.objects.filter(pk=world["resolved_by_me"]).update(state=PetitionState.CLOSED)
    user = request.getfixturevalue(viewer)
    seen: dict[str, int] = {}
    for minutes in (2, 10):  # arrivals due soon, then missed
        time_machine.move_to(MONDAY_9AM + timedelta(minutes=minutes), tick=False)
        now = datetime.now(tz=SHANGHAI)
        for params in ("", "state=resolved", "q=噪音", "channel=walk_in",
                       "submitted_until=2026-11-15"):
            filters = QueryDict(params)
            base = selectors.petition_list(user=user, filters=filters)
            expected: dict[str, int | None] = {
                item.key: base.filter(workbench.tab_q(key=item.key, user=user, now=now)).count()
                for item in workbench.workbench_tabs(user=user)}
            for tab in expected:
                board = workbench.petition_workbench(user=user, tab=tab, filters=filters,
                                                     now=now)
                assert {item.key: item.count for item in board.tabs} == {
                    **expected, **({} if tab == "all" else {"all": None})}, (minutes, params, tab)
                assert board.count == expected[tab] == board.petitions.count()
            for key, count in expected.items():
                seen[key] = max(seen.get(key, 0), count or 0)
    # Not a vacuous comparison: each of the community staff's eight tabs held a petition at
    # some point (the grid workers hold none, so their 我的待办 stays empty).
    assert all(seen.values()) if viewer == "community_staff" else sum(seen.values()), seen


def test_the_states_written_into_the_counts_sql_are_only_state_words():
    """_in writes the states into the statement (not as parameters): anything but a state's
    lowercase word is refused before it reaches the SQL."""
    assert workbench._in("state", ["returned", "dispatched"]) == (
        "state IN ('dispatched', 'returned')", [])
    for bad in ("x') OR 1=1 --", "Closed", ""):
        with pytest.raises(ValueError, match="not a state"):
            workbench._in("state", ["closed", bad])


def test_the_statement_kept_for_a_users_unfiltered_tabs_is_the_one_their_rules_compile(
        world, territory, community_staff, grid_worker, microgrid_worker, street_admin,
        resident_user):
    """Without filters the workbench reads the visible rows through a statement compiled once
    per rules.visibility_key: for each kind of user it is the statement the rules compile
    afresh, and a user moved to another scope (or switched off) gets another statement and
    other counts at once."""
    def fresh(user: User) -> tuple[str, list[Any]] | None:
        return workbench._visible_sql(selectors.petition_list(user=user, filters=None))

    now = datetime.now(tz=SHANGHAI)
    for user in (community_staff, grid_worker, microgrid_worker, street_admin, resident_user):
        assert workbench._unfiltered_visible_sql(user, "default") == fresh(user), user.role
    before = workbench.petition_workbench(user=grid_worker, tab="all", filters=None, now=now)
    assert before.count
    grid_worker.scope_area = territory.other_grid
    grid_worker.save()
    moved = User.objects.get(pk=grid_worker.pk)
    assert workbench._unfiltered_visible_sql(moved, "default") == fresh(moved)
    after = workbench.petition_workbench(user=moved, tab="all", filters=None, now=now)
    assert after.count != before.count
    moved.is_active = False
    assert workbench._unfiltered_visible_sql(moved, "default") is None


def nav_links(response: Any) -> set[str]:
    nav = re.search(r'<nav class="topnav".*?</nav>', response.content.decode(), re.S)
    assert nav is not None
    return set(re.findall(r'<a href="[^"]*"(?: class="active")?>([^<]+)</a>', nav.group(0)))


def test_the_staff_menu_offers_each_role_its_own_links_though_frozen(territory, community_staff,
                                                                     grid_worker,
                                                                     microgrid_worker):
    """The menu is rendered once per role ({% frozen %}): asked in turn, each role still gets
    its own links, and the open page is marked."""
    street = UserFactory(username="street-nav", role=User.Role.STREET_ADMIN,
                         scope_area=territory.street)
    everyone = {"工作台", "统计", "一张图", "考核排名", "消息"}
    expected = {
        street: everyone | {"代录", "报表", "剔除审批", "延期审批", "未诉先办"},
        community_staff: everyone | {"代录", "报表", "延期审批", "未诉先办"},
        grid_worker: everyone | {"代录", "延期审批"},
        microgrid_worker: everyone,
    }
    for _round in range(2):
        for user, links in expected.items():
            response = client_for(user).get(URL)
            assert nav_links(response) == links, user.role
            assert '<a href="/petitions/staff/" class="active">' in response.content.decode()
