"""考核排名: a small fixed month whose figures are computed by hand (rates, n, Wilson bounds,
ranking order, 样本不足, exclusions), who sees which rows, bad pickers, and the query count."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from petitions.models import AssessmentExclusion, Petition, PetitionState
from reports.rankings import grid_ranking, month_period, wilson_interval, worker_ranking
from territory.models import Area
from tests.accounts.factories import UserFactory
from tests.petitions.factories import category

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOVEMBER, DECEMBER = date(2026, 11, 1), date(2026, 12, 1)


def at(day: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, 9, 0, tzinfo=SHANGHAI)


def grid_with_micro(parent: Area, step: int, name: str) -> Area:
    """A grid under `parent` (and one micro-grid in it), as treebeard's add_child writes it."""
    grid = Area(path=Area._get_path(parent.path, parent.depth + 1, step),
                depth=parent.depth + 1, numchild=1, name=name, kind=Area.Kind.GRID)
    micro = Area(path=Area._get_path(grid.path, grid.depth + 1, 1), depth=grid.depth + 1,
                 numchild=0, name=f"{name}微网格", kind=Area.Kind.MICROGRID)
    Area.objects.bulk_create([grid, micro])
    return micro


def petitions(micro: Area, count: int, *, resolved: int, when: datetime | None = None,
              resolver: User | None = None, holder: User | None = None) -> list[Petition]:
    """`count` petitions placed in `micro`, the first `resolved` of them resolved (by
    `resolver`), the rest held by `holder`. Written as facts: the rankings read facts."""
    when = when or at(10)
    rows = [Petition(category=category(), description="楼道堆物", area=micro,
                     area_path=micro.path, origin_path=micro.path, submitted_at=when,
                     clock_started_at=when, microgrid_due_at=when, grid_due_at=when,
                     street_due_at=when, due_at=when, dispatched_at=when,
                     state=PetitionState.RESOLVED if index < resolved else PetitionState.DISPATCHED,
                     resolved_at=when if index < resolved else None,
                     resolved_by=resolver if index < resolved else None, holder=holder)
            for index in range(count)]
    return Petition.objects.bulk_create(rows)


@pytest.fixture
def month(territory, microgrid_worker, grid_worker, outsider):
    """November 2026 in four grids:

    网格一 (A): 10 petitions, 8 resolved (by the micro-grid worker), 2 held by the grid worker;
    黄河网格 (B): 3 petitions, 3 resolved (by the outsider, 黄河's grid worker);
    网格二 (C): 4 petitions, 2 resolved; 网格三 (D): 1 petition, resolved.
    Also not counted: one of A's rejected (不予受理), and one of A's from December.
    """
    t = territory
    grid_c = grid_with_micro(t.community, 2, "网格二")
    grid_d = grid_with_micro(t.community, 3, "网格三")
    rows = {
        "A": petitions(t.micro1, 10, resolved=8, resolver=microgrid_worker, holder=grid_worker),
        "B": petitions(t.other_micro, 3, resolved=3, resolver=outsider),
        "C": petitions(grid_c, 4, resolved=2),
        "D": petitions(grid_d, 1, resolved=1),
    }
    rejected = petitions(t.micro1, 1, resolved=0)[0]
    Petition.objects.filter(pk=rejected.pk).update(state=PetitionState.REJECTED)
    petitions(t.micro1, 1, resolved=0, when=at(2, month=12))
    return rows


def test_the_wilson_interval_matches_the_hand_computation():
    # z = 1.959963984540054, z² = 3.841459; d = 1 + z²/n; centre = (p + z²/2n) / d;
    # half = (z / d) · √(p(1 − p)/n + z²/4n²).
    # 8 of 10: d = 1.384146; centre = (0.8 + 0.192073) / d = 0.716740;
    #   half = 1.416010 · √(0.016 + 0.009604) = 1.416010 · 0.160011 = 0.226578;
    #   (0.490162, 0.943318).
    # 3 of 3: p = 1, so low = 1 / d = 1 / 2.280486 = 0.438503, high = 1.
    # 2 of 4: d = 1.960365; centre = (0.5 + 0.480182) / d = 0.5;
    #   half = 0.999796 · √(0.0625 + 0.060023) = 0.999796 · 0.350033 = 0.349961;
    #   (0.150039, 0.849961).
    assert wilson_interval(8, 10) == pytest.approx((0.490162, 0.943318), abs=2e-6)
    assert wilson_interval(3, 3) == pytest.approx((0.438503, 1.0), abs=2e-6)
    assert wilson_interval(2, 4) == pytest.approx((0.150039, 0.849961), abs=2e-6)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_grids_rank_by_the_lower_bound_so_three_of_three_ranks_below_eight_of_ten(
        territory, month):
    ranking = grid_ranking(street=territory.street, start=NOVEMBER, end=DECEMBER,
                           rate="resolution", min_sample=3)
    # B is 100 % but n = 3 (low 0.438503) ranks below A's 80 % of n = 10 (low 0.490162); C's
    # 50 % of 4 (low 0.150039) last (test_the_wilson_interval_matches_the_hand_computation).
    # D's one petition is under the minimum: listed apart.
    assert [(row.rank, row.name, row.successes, row.n, row.rate) for row in ranking.rows] == [
        (1, "网格一", 8, 10, 0.8), (2, "黄河网格", 3, 3, 1.0), (3, "网格二", 2, 4, 0.5)]
    assert [row.low for row in ranking.rows] == pytest.approx([0.490162, 0.438503, 0.150039],
                                                              abs=2e-6)
    assert [(row.name, row.n, row.rank) for row in ranking.apart] == [("网格三", 1, None)]
    assert ranking.median == 0.8  # of 0.8, 1.0 and 0.5
    assert (ranking.excluded, ranking.pending) == (0, 0)


def test_workers_count_what_they_resolved_and_what_they_still_hold(
        territory, month, microgrid_worker, grid_worker, outsider):
    ranking = worker_ranking(street=territory.street, start=NOVEMBER, end=DECEMBER,
                             rate="resolution", min_sample=3)
    # The micro-grid worker resolved 8 (8/8: low = 1 / (1 + z²/8) = 0.675592); the outsider
    # resolved B's 3 (3/3: 0.438503); the grid worker holds A's 2 unresolved (0/2: apart).
    # C's and D's petitions have neither resolver nor holder: they count for nobody.
    assert [(row.name, row.successes, row.n) for row in ranking.rows] == [
        ("李微网格员", 8, 8), ("黄河网格员", 3, 3)]
    assert ranking.rows[0].low == pytest.approx(0.675592, abs=2e-6)
    assert [(row.name, row.successes, row.n) for row in ranking.apart] == [("张网格员", 0, 2)]


def test_an_approved_exclusion_leaves_the_figures_and_a_pending_one_does_not(
        territory, month, street_admin, grid_worker):
    first, second = month["A"][0], month["A"][9]  # one resolved, one not
    AssessmentExclusion.objects.create(petition=first, reason="duplicate", note="重复",
                                       requested_by=grid_worker, status="approved",
                                       decided_by=street_admin)
    AssessmentExclusion.objects.create(petition=second, reason="misrouted", note="错派",
                                       requested_by=grid_worker)
    ranking = grid_ranking(street=territory.street, start=NOVEMBER, end=DECEMBER,
                           rate="resolution", min_sample=3)
    # A: 7 resolved of 9 (the approved one gone; the pending one still counts).
    assert (ranking.rows[0].name, ranking.rows[0].successes, ranking.rows[0].n) == (
        "网格一", 7, 9)
    assert (ranking.excluded, ranking.pending) == (1, 1)


def test_the_response_rate_counts_for_the_holder_and_arrivals_on_time_only(
        territory, month, grid_worker):
    a_rows = [row.pk for row in month["A"]]
    # Of A's 10 dispatched: 6 arrived on time, 1 arrived late (arrival_missed), 3 not at all.
    Petition.objects.filter(pk__in=a_rows[:7]).update(arrived_at=at(10))
    Petition.objects.filter(pk=a_rows[6]).update(arrival_missed=True)
    Petition.objects.filter(pk__in=a_rows).update(holder=grid_worker)
    grids = grid_ranking(street=territory.street, start=NOVEMBER, end=DECEMBER,
                         rate="response", min_sample=3)
    workers = worker_ranking(street=territory.street, start=NOVEMBER, end=DECEMBER,
                             rate="response", min_sample=3)
    # 6 of 10: p = 0.6, d = 1.384146, centre = (0.6 + 0.192073) / d = 0.572247,
    # half = 1.416010 · √(0.024 + 0.009604) = 1.416010 · 0.183313 = 0.259573: low 0.312674.
    first = grids.rows[0]
    assert (first.name, first.successes, first.n) == ("网格一", 6, 10)
    assert first.low == pytest.approx(0.312674, abs=2e-6)
    # The holder answers for the arrival: the grid worker holds all ten.
    assert [(row.name, row.successes, row.n) for row in workers.rows] == [("张网格员", 6, 10)]


def test_this_month_runs_to_the_end_of_today_and_a_past_month_is_whole():
    with time_machine.travel(at(16), tick=False):
        assert month_period() == (date(2026, 11, 1), date(2026, 11, 17))
        assert month_period(date(2025, 12, 1)) == (date(2025, 12, 1), date(2026, 1, 1))


def test_the_rankings_query_count_does_not_grow_with_petitions(
        territory, month, django_assert_num_queries):
    def run() -> None:
        grid_ranking(street=territory.street, start=NOVEMBER, end=DECEMBER, min_sample=3)
        worker_ranking(street=territory.street, start=NOVEMBER, end=DECEMBER, min_sample=3)

    with django_assert_num_queries(6):
        run()
    petitions(territory.micro2, 20, resolved=10)
    with django_assert_num_queries(6):
        run()


# --- the page -----------------------------------------------------------------------------------


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(user: User, **params: str) -> tuple[int, str]:
    with time_machine.travel(at(20), tick=False):
        response = client_for(user).get(reverse("reports:rankings"), params)
    return response.status_code, response.content.decode()


@pytest.fixture
def few(settings):
    settings.RANKING_MIN_SAMPLE = 3


def test_a_street_admin_sees_every_grid_and_worker(territory, month, street_admin, few):
    status, html = page(street_admin, period="2026-11")
    assert status == 200
    for name in ("网格一", "黄河网格", "网格二", "网格三", "李微网格员", "黄河网格员", "张网格员",
                 "样本不足", "0.4902–0.9433"):
        assert name in html
    assert "已剔除考核 0 件" in html


def test_a_grid_worker_sees_their_grid_their_own_row_and_the_street_median(
        territory, month, grid_worker, few):
    status, html = page(grid_worker, period="2026-11")
    assert status == 200
    assert "网格一" in html and "80.0%" in html  # their grid, and the street's median (80 %)
    assert "张网格员" in html  # their own worker row (0 of 2, apart)
    for other in ("黄河网格", "网格二", "网格三", "李微网格员", "黄河网格员"):
        assert other not in html


def test_a_micro_grid_worker_sees_the_grid_above_their_micro_grid(territory, month,
                                                                  microgrid_worker, few):
    _status, html = page(microgrid_worker, period="2026-11")
    assert "网格一" in html and "李微网格员" in html
    for other in ("黄河网格", "网格二", "张网格员", "黄河网格员"):
        assert other not in html


def test_the_page_reads_in_a_fixed_number_of_queries(territory, month, street_admin, few):
    client = client_for(street_admin)

    def count_queries() -> int:
        with time_machine.travel(at(20), tick=False), \
                CaptureQueriesContext(connection) as captured:
            client.get(reverse("reports:rankings"), {"period": "2026-11"})
        return len(captured)

    before = count_queries()
    petitions(territory.micro2, 18, resolved=9)  # A's petitions double
    assert count_queries() == before


def test_community_staff_see_their_communitys_grids_only(territory, month, community_staff,
                                                          few):
    _status, html = page(community_staff, period="2026-11")
    assert "网格一" in html and "网格二" in html and "网格三" in html
    assert "黄河网格" not in html


@pytest.mark.parametrize("params", [{"period": "2026-13"}, {"period": "0000-01"},
                                    {"period": "9999-12"}, {"period": "abc"},
                                    {"rate": "speed"}, {"street": "x"}])
def test_bad_pickers_answer_in_chinese_not_a_500(territory, street_admin, params):
    status, html = page(street_admin, **params)
    assert status == 200
    assert 'role="alert"' in html
    assert "网格排名" not in html


def test_residents_and_outsiders_of_staff_get_a_404(territory, resident_user):
    status, _html = page(resident_user)
    assert status == 404
    UserFactory(username="sys", role=User.Role.EXTERNAL_SYSTEM)
    assert page(User.objects.get(username="sys"))[0] == 404
