"""延期 (issue 18, item 3): the holder asks for working days, the level above grants some or
refuses; only granted days move the clock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from core.exceptions import ApplicationError, PermissionDeniedError
from petitions import services
from petitions.extensions import (
    extension_counts_by_grid,
    petition_decide_extension,
    petition_request_extension,
)
from petitions.models import Petition, PetitionEvent, PetitionExtension, SlaPolicy
from petitions.sweep import petitions_escalate_overdue
from tests.petitions.factories import submit

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def local(moment: datetime | None) -> datetime:
    assert moment is not None
    return timezone.localtime(moment)


@pytest.fixture
def working_days() -> SlaPolicy:
    policy = SlaPolicy.current()
    policy.calendar = SlaPolicy.Calendar.WORKING_DAYS
    policy.save()
    return policy


@pytest.fixture
def before_national_day(working_days, resident_user, microgrid_worker) -> Petition:
    # Wed 09-30 15:00: the micro-grid deadline is Thu 10-08 15:00 (10-01 … 10-07 are off),
    # the grid's Sat 10-10 (a 调休 working day), the street's Tue 10-13.
    with time_machine.travel(at(2026, 9, 30, 15), tick=False):
        petition = submit(resident_user)
    assert local(petition.microgrid_due_at) == at(2026, 10, 8, 15)
    return petition


def test_approval_moves_the_clock_only_by_the_granted_working_days(
        before_national_day, microgrid_worker, grid_worker):
    petition = before_national_day
    with time_machine.travel(at(2026, 10, 8, 9), tick=False):
        extension = petition_request_extension(petition_id=petition.pk, actor=microgrid_worker,
                                               days=3, reason="需协调物业更换管道")
        petition_decide_extension(extension_id=extension.pk, actor=grid_worker, grant=True,
                                  days=2, note="两天足够")
    petition.refresh_from_db()
    extension.refresh_from_db()
    # Two working days after Thu 10-08 15:00: Fri 10-09, Sat 10-10 (调休) — not three.
    assert local(petition.due_at) == at(2026, 10, 10, 15)
    assert local(petition.microgrid_due_at) == at(2026, 10, 10, 15)
    # Every later deadline moves by the same two working days: Sat 10-10 → Tue 10-13 (Sunday
    # off), Tue 10-13 → Thu 10-15.
    assert local(petition.grid_due_at) == at(2026, 10, 13, 15)
    assert local(petition.street_due_at) == at(2026, 10, 15, 15)
    assert (extension.status, extension.days_granted) == ("granted", 2)
    assert local(extension.due_before) == at(2026, 10, 8, 15)
    # The reminder moves with the deadline (SlaPolicy.reminder_share of the new clock).
    share = float(SlaPolicy.current().reminder_share)
    assert petition.due_remind_at == petition.clock_started_at + (
        petition.due_at - petition.clock_started_at) * share
    # The escalation sweep keeps to the new deadline.
    assert petitions_escalate_overdue(now=at(2026, 10, 9, 15, 1)) == 0
    assert petitions_escalate_overdue(now=at(2026, 10, 10, 15, 1)) == 1


def test_a_refusal_moves_nothing(before_national_day, microgrid_worker, grid_worker):
    petition = before_national_day
    before = Petition.objects.values("due_at", "microgrid_due_at", "grid_due_at",
                                     "street_due_at", "due_remind_at").get(pk=petition.pk)
    extension = petition_request_extension(petition_id=petition.pk, actor=microgrid_worker,
                                           days=3, reason="居民不在家")
    with pytest.raises(ApplicationError, match="驳回延期申请须填写理由"):
        petition_decide_extension(extension_id=extension.pk, actor=grid_worker, grant=False)
    petition_decide_extension(extension_id=extension.pk, actor=grid_worker, grant=False,
                              note="可电话预约，无需延期")
    after = Petition.objects.values("due_at", "microgrid_due_at", "grid_due_at",
                                    "street_due_at", "due_remind_at").get(pk=petition.pk)
    assert after == before
    extension.refresh_from_db()
    assert (extension.status, extension.days_granted) == ("refused", 0)


def test_every_request_and_decision_is_on_the_timeline_the_resident_sees(
        before_national_day, microgrid_worker, grid_worker):
    petition = before_national_day
    first = petition_request_extension(petition_id=petition.pk, actor=microgrid_worker, days=2,
                                       reason="等待配件")
    petition_decide_extension(extension_id=first.pk, actor=grid_worker, grant=False,
                              note="请先联系供应商")
    second = petition_request_extension(petition_id=petition.pk, actor=microgrid_worker,
                                        days=2, reason="配件周五到")
    petition_decide_extension(extension_id=second.pk, actor=grid_worker, grant=True, days=1)
    kinds = list(PetitionEvent.objects.for_residents().filter(
        petition=petition, kind__startswith="ext_").values_list("kind", "visible_note"))
    assert [kind for kind, _note in kinds] == ["ext_requested", "ext_refused", "ext_requested",
                                               "ext_granted"]
    assert "请先联系供应商" in kinds[1][1] and "1 天" in kinds[3][1]


def test_only_the_holder_asks_and_only_the_level_above_decides(
        before_national_day, microgrid_worker, grid_worker, outsider):
    petition = before_national_day
    with pytest.raises(PermissionDeniedError, match="只有办理中诉求的承办人可以申请延期"):
        petition_request_extension(petition_id=petition.pk, actor=grid_worker, days=1,
                                   reason="x")
    extension = petition_request_extension(petition_id=petition.pk, actor=microgrid_worker,
                                           days=1, reason="x")
    with pytest.raises(ApplicationError, match="已有待审批的延期申请"):  # one pending at a time
        petition_request_extension(petition_id=petition.pk, actor=microgrid_worker, days=1,
                                   reason="y")
    with pytest.raises(PermissionDeniedError, match="不能审批自己提出的延期申请"):
        petition_decide_extension(extension_id=extension.pk, actor=microgrid_worker,
                                  grant=True, days=1)
    with pytest.raises(ApplicationError, match="批准天数须在 1 到申请的 1 天之间"):  # > asked
        petition_decide_extension(extension_id=extension.pk, actor=grid_worker, grant=True,
                                  days=2)


def test_at_the_grid_a_grid_worker_is_not_the_level_above(
        frozen, territory, resident_user, microgrid_worker, grid_worker, community_staff):
    from accounts.models import User
    from tests.accounts.factories import UserFactory

    colleague = UserFactory(username="grid-colleague", role=User.Role.GRID_WORKER,
                            scope_area=territory.grid)
    petition = submit(resident_user)
    petition = services.petition_escalate_by_hand(petition_id=petition.pk,
                                                  actor=microgrid_worker, reason="需网格协调")
    assert petition.holder_id == grid_worker.pk
    extension = petition_request_extension(petition_id=petition.pk, actor=grid_worker, days=1,
                                           reason="x")
    with pytest.raises(PermissionDeniedError, match="只有上一级的工作人员可以审批延期申请"):
        petition_decide_extension(extension_id=extension.pk, actor=colleague, grant=True,
                                  days=1)
    petition_decide_extension(extension_id=extension.pk, actor=community_staff, grant=True,
                              days=1)


def test_a_lapsed_request_can_only_be_refused(frozen, resident_user, microgrid_worker,
                                             grid_worker, community_staff):
    petition = submit(resident_user)
    extension = petition_request_extension(petition_id=petition.pk, actor=microgrid_worker,
                                           days=1, reason="x")
    services.petition_escalate_by_hand(petition_id=petition.pk, actor=microgrid_worker,
                                       reason="需网格协调")
    with pytest.raises(ApplicationError, match="该延期申请已失效"):
        petition_decide_extension(extension_id=extension.pk, actor=community_staff,
                                  grant=True, days=1)


def test_a_recount_keeps_the_granted_days(before_national_day, microgrid_worker, grid_worker,
                                          community_staff):
    petition = before_national_day
    extension = petition_request_extension(petition_id=petition.pk, actor=microgrid_worker,
                                           days=1, reason="x")
    petition_decide_extension(extension_id=extension.pk, actor=grid_worker, grant=True, days=1)
    Petition.objects.filter(pk=petition.pk).update(deadline_estimated=True)
    SlaPolicy.objects.update(updated_at=at(2026, 1, 1))  # the rules predate the petition
    services.petition_deadlines_recount(petition_id=petition.pk, actor=community_staff)
    petition.refresh_from_db()
    assert local(petition.due_at) == at(2026, 10, 9, 15)


def test_extensions_are_counted_per_grid(before_national_day, microgrid_worker, grid_worker,
                                         territory):
    petition = before_national_day
    extension = petition_request_extension(petition_id=petition.pk, actor=microgrid_worker,
                                           days=3, reason="x")
    petition_decide_extension(extension_id=extension.pk, actor=grid_worker, grant=True, days=2)
    petition_request_extension(petition_id=petition.pk, actor=microgrid_worker, days=1,
                               reason="y")
    counts = extension_counts_by_grid(PetitionExtension.objects.all())
    assert counts == {territory.grid.path: {"requested": 2, "granted": 1, "refused": 0,
                                            "pending": 1, "days": 2}}


# --- the pages, the API, the 公示 and the report ------------------------------------------------


def test_the_holder_asks_on_the_page_and_the_grid_worker_grants_in_the_queue(
        frozen, resident_user, microgrid_worker, grid_worker, client):
    petition = submit(resident_user)
    client.force_login(microgrid_worker)
    page = client.get(f"/petitions/staff/{petition.pk}/").content.decode()
    assert "申请延期" in page
    response = client.post(f"/petitions/staff/{petition.pk}/extension/",
                           {"days": 2, "reason": "需等待物业配件"})
    assert response.status_code == 302
    extension = PetitionExtension.objects.get(petition=petition)
    client.force_login(grid_worker)
    queue = client.get("/petitions/staff/extensions/").content.decode()
    assert "需等待物业配件" in queue
    response = client.post(f"/petitions/staff/extensions/{extension.pk}/grant/",
                           {"days": 1, "note": "一天"})
    assert response.status_code == 302
    extension.refresh_from_db()
    assert (extension.status, extension.days_granted) == ("granted", 1)
    detail = client.get(f"/petitions/staff/{petition.pk}/").content.decode()
    assert "批准 1 天" in detail


def test_the_api_asks_and_decides(frozen, resident_user, microgrid_worker, grid_worker):
    from rest_framework.test import APIClient

    petition = submit(resident_user)
    api = APIClient()
    api.force_authenticate(microgrid_worker)
    answer = api.post(f"/api/v1/petitions/{petition.pk}/extension/",
                      {"days": 3, "reason": "等待配件"}, format="json")
    assert answer.status_code == 200, answer.content
    assert any(event["kind"] == "ext_requested" for event in answer.json()["timeline"])
    api.force_authenticate(grid_worker)
    answer = api.post(f"/api/v1/petitions/{petition.pk}/extension-decision/",
                      {"grant": False, "note": "请先预约"}, format="json")
    assert answer.status_code == 200, answer.content
    assert PetitionExtension.objects.get(petition=petition).status == "refused"
    answer = api.post(f"/api/v1/petitions/{petition.pk}/extension-decision/",
                      {"grant": True}, format="json")
    assert answer.status_code == 404


def test_the_public_notice_shows_the_granted_days(frozen, resident_user, microgrid_worker,
                                                  grid_worker, community_staff, client):
    petition = submit(resident_user, is_public=True)
    extension = petition_request_extension(petition_id=petition.pk, actor=microgrid_worker,
                                           days=3, reason="x")
    petition_decide_extension(extension_id=extension.pk, actor=grid_worker, grant=True, days=2)
    services.petition_check_in(petition_id=petition.pk, actor=microgrid_worker)
    services.petition_resolve(petition_id=petition.pk, actor=microgrid_worker,
                              resolution="已修复")
    services.petition_verify(petition_id=petition.pk, actor=community_staff)
    page = client.get("/petitions/public/").content.decode()
    assert "经批准延期 2 天" in page


def test_the_streets_report_has_a_sheet_per_grid_of_extensions_and_cards(
        frozen, resident_user, microgrid_worker, grid_worker, territory):
    import io

    from openpyxl import load_workbook

    from reports.services import report_generate

    petition = submit(resident_user)
    extension = petition_request_extension(petition_id=petition.pk, actor=microgrid_worker,
                                           days=3, reason="x")
    petition_decide_extension(extension_id=extension.pk, actor=grid_worker, grant=True, days=2)
    report = report_generate(street=territory.street, kind="month",
                             period_start=timezone.localdate().replace(day=1))
    book = load_workbook(io.BytesIO(report.file.read()))
    rows = list(book["延期与黄红牌"].values)
    assert rows[1][:6] == (territory.grid.name, 1, 1, 0, 0, 2)
