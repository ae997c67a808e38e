"""Working-day deadlines read the holiday table; past its end they are weekdays and flagged."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from core.exceptions import ApplicationError
from core.models import CalendarDay, CalendarYear
from petitions import services
from petitions.models import Petition, SlaPolicy
from tests.petitions.factories import submit

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
BANNER = "节假日表"


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def local_date(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).date().isoformat()


@pytest.fixture
def working_days() -> SlaPolicy:
    policy = SlaPolicy.current()
    policy.calendar = SlaPolicy.Calendar.WORKING_DAYS
    policy.save()
    return policy


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_deadline_inside_the_table_skips_its_holidays_and_is_not_flagged(
        working_days, resident_user, microgrid_worker):
    with time_machine.travel(at(2026, 9, 30, 10), tick=False):
        petition = submit(resident_user)
    assert local_date(petition.street_due_at) == "2026-10-13"
    assert not petition.deadline_estimated


def test_a_deadline_past_the_tables_end_is_counted_in_weekdays_and_flagged(
        working_days, resident_user, microgrid_worker):
    # The table ends on 2026-12-31 (nobody has entered 2027): Friday 2027-01-01 may well be New
    # Year's Day, but nothing says so, so it counts, and the petition says the deadline is a guess.
    with time_machine.travel(at(2026, 12, 30, 10), tick=False):
        petition = submit(resident_user)
    assert local_date(petition.microgrid_due_at) == "2026-12-31"
    assert local_date(petition.street_due_at) == "2027-01-06"  # Thu, Fri, Mon, Tue, Wed
    assert petition.deadline_estimated
    assert Petition.objects.filter(deadline_estimated=True).count() == 1


def test_calendar_days_never_consult_the_table_and_are_never_flagged(resident_user,
                                                                   microgrid_worker):
    with time_machine.travel(at(2026, 12, 30, 10), tick=False):
        petition = submit(resident_user)
    assert local_date(petition.street_due_at) == "2027-01-04"
    assert not petition.deadline_estimated


def test_a_reopen_past_the_tables_end_flags_the_new_deadlines(
        working_days, resident_user, microgrid_worker, grid_worker):
    with time_machine.travel(at(2026, 12, 1, 10), tick=False):
        petition = submit(resident_user)
        assert not petition.deadline_estimated
        services.petition_check_in(petition_id=petition.pk, actor=microgrid_worker)
        services.petition_resolve(petition_id=petition.pk, actor=microgrid_worker,
                                  resolution="已清理")
        services.petition_verify(petition_id=petition.pk, actor=grid_worker)
    with time_machine.travel(at(2026, 12, 29, 10), tick=False):
        services.petition_rate(petition_id=petition.pk, actor=resident_user,
                               rating="unsatisfied", comment="又堆上了")
    petition.refresh_from_db()
    assert petition.reopened_count == 1
    assert petition.deadline_estimated


def test_the_staff_page_and_the_admin_show_the_estimate(working_days, resident_user,
                                                        microgrid_worker, street_admin):
    with time_machine.travel(at(2026, 12, 1, 10), tick=False):
        inside = submit(resident_user)  # its deadlines fall inside the table: no estimate
    with time_machine.travel(at(2026, 12, 30, 10), tick=False):
        petition = submit(resident_user)
        page = client_for(microgrid_worker).get(
            reverse("petitions:staff-detail", args=[petition.pk]))
        admin = client_for(street_admin)
        changelist = reverse("admin:petitions_petition_changelist")
        every = admin.get(changelist)
        estimated = admin.get(changelist, {"deadline_estimated__exact": "1"})
        own = client_for(resident_user).get(reverse("petitions:detail", args=[petition.pk]))
    assert "按周一至周五估算" in page.content.decode()
    assert {row.pk for row in every.context["cl"].result_list} == {inside.pk, petition.pk}
    assert [row.pk for row in estimated.context["cl"].result_list] == [petition.pk]
    assert "按周一至周五估算" not in own.content.decode()


def test_the_api_says_which_deadlines_are_estimates(working_days, resident_user,
                                                    microgrid_worker):
    with time_machine.travel(at(2026, 12, 1, 10), tick=False):
        inside = submit(resident_user)
    with time_machine.travel(at(2026, 12, 30, 10), tick=False):
        past = submit(resident_user)
        client = client_for(microgrid_worker)
        rows = client.get("/api/v1/petitions/").json()["results"]
        detail = client.get(f"/api/v1/petitions/{past.pk}/").json()
    assert {row["id"]: row["deadline_estimated"] for row in rows} == {inside.pk: False,
                                                                      past.pk: True}
    assert detail["deadline_estimated"] is True


def test_editing_the_table_in_the_admin_changes_the_next_deadline(
        working_days, resident_user, microgrid_worker, street_admin):
    """The State Council publishes 2027: the street admin enters New Year's Day and marks the
    year complete, and the very next petition skips it and is no longer flagged."""
    admin = client_for(street_admin)
    response = admin.post(reverse("admin:core_calendaryear_add"), {
        "year": "2027", "is_complete": "on", "source": "国务院办公厅通知",
        "days-TOTAL_FORMS": "1", "days-INITIAL_FORMS": "0",
        "days-MIN_NUM_FORMS": "0", "days-MAX_NUM_FORMS": "1000",
        "days-0-date": "2027-01-01", "days-0-kind": "holiday", "days-0-name": "元旦",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    assert CalendarDay.objects.get(date=date(2027, 1, 1)).year_id == 2027
    with time_machine.travel(at(2026, 12, 30, 10), tick=False):
        petition = submit(resident_user)
    assert local_date(petition.street_due_at) == "2027-01-07"
    assert not petition.deadline_estimated

    # A make-up Saturday added to the year afterwards counts for the petition after that.
    day = admin.post(reverse("admin:core_calendarday_add"), {
        "year": "2027", "date": "2027-01-02", "kind": "workday", "name": "元旦"})
    assert day.status_code == 302, day.content.decode()[:2000]
    with time_machine.travel(at(2026, 12, 30, 10), tick=False):
        later = submit(resident_user)
    assert local_date(later.street_due_at) == "2027-01-06"


def test_the_calendar_admin_lists_filters_and_searches(street_admin):
    admin = client_for(street_admin)
    changelist = reverse("admin:core_calendarday_changelist")
    every = admin.get(changelist).context["cl"]
    holidays = admin.get(changelist, {"year__year__exact": "2026", "kind__exact": "holiday"})
    assert holidays.status_code == 200
    days = holidays.context["cl"]
    assert {(day.year_id, day.kind) for day in days.result_list} == {(2026, "holiday")}
    assert "国庆节" in {day.name for day in days.result_list}
    assert days.result_count == CalendarDay.objects.filter(year=2026, kind="holiday").count()
    assert days.result_count < every.result_count
    found = admin.get(changelist, {"q": "国庆"}).context["cl"]
    assert all("国庆" in day.name for day in found.result_list)
    assert {day.kind for day in found.result_list} == {"holiday", "workday"}
    assert found.result_count < every.result_count
    years = admin.get(reverse("admin:core_calendaryear_changelist"))
    assert "已录入完整" in years.content.decode()


def test_a_street_admin_without_superuser_rights_may_edit_the_table(territory):
    from accounts.models import User
    from governance.services import staff_groups_ensure
    from tests.accounts.factories import UserFactory

    admin = UserFactory(username="street2", role=User.Role.STREET_ADMIN,
                        scope_area=territory.street, is_staff=True)
    staff_groups_ensure()
    admin = User.objects.get(pk=admin.pk)
    assert admin.has_perm("core.add_calendarday")
    assert admin.has_perm("core.change_calendaryear")
    community = UserFactory(username="community2", role=User.Role.COMMUNITY_STAFF,
                            scope_area=territory.community, is_staff=True)
    staff_groups_ensure()
    assert not User.objects.get(pk=community.pk).has_perm("core.change_calendarday")


# --- the banner ---------------------------------------------------------------------------------


def test_the_banner_warns_street_admins_on_staff_pages_and_in_the_admin(street_admin,
                                                                      microgrid_worker,
                                                                      community_staff):
    with time_machine.travel(at(2026, 12, 5, 9), tick=False):
        staff_page = client_for(street_admin).get(reverse("petitions:staff-queue"))
        admin_page = client_for(street_admin).get(reverse("admin:index"))
        others = [client_for(user).get(reverse("petitions:staff-queue"))
                  for user in (microgrid_worker, community_staff)]
    assert "节假日表只录入到 2026-12-31" in staff_page.content.decode()
    assert "还剩 26 天" in staff_page.content.decode()
    assert reverse("admin:core_calendaryear_changelist") in staff_page.content.decode()
    assert "节假日表只录入到 2026-12-31" in admin_page.content.decode()
    for page in others:
        assert page.status_code == 200
        assert BANNER not in page.content.decode()


def test_the_banner_is_gone_61_days_before_the_end(street_admin):
    with time_machine.travel(at(2026, 10, 31, 9), tick=False):
        page = client_for(street_admin).get(reverse("petitions:staff-queue"))
    assert BANNER not in page.content.decode()
    CalendarYear.objects.create(year=2027, is_complete=True)
    with time_machine.travel(at(2026, 12, 5, 9), tick=False):
        page = client_for(street_admin).get(reverse("petitions:staff-queue"))
    assert BANNER not in page.content.decode()


def test_the_banner_says_when_the_table_has_ended(street_admin):
    with time_machine.travel(at(2027, 1, 4, 9), tick=False):
        page = client_for(street_admin).get(reverse("admin:index"))
    assert "节假日表已于 2026-12-31 结束" in page.content.decode()


# --- recounting the estimates once the table is extended -----------------------------------------


def _enter_2027_new_years_day() -> None:
    year = CalendarYear.objects.create(year=2027, is_complete=True)
    CalendarDay.objects.create(year=year, date=date(2027, 1, 1), kind="holiday", name="元旦")


def test_the_admin_action_recounts_estimated_deadlines_once_the_year_is_entered(
        working_days, resident_user, microgrid_worker, street_admin):
    with time_machine.travel(at(2026, 12, 1, 10), tick=False):
        inside = submit(resident_user, description="楼道灯坏了")
    with time_machine.travel(at(2026, 12, 30, 10), tick=False):
        petition = submit(resident_user)
    _enter_2027_new_years_day()
    with time_machine.travel(at(2026, 12, 31, 9), tick=False):
        response = client_for(street_admin).post(
            reverse("admin:petitions_petition_changelist"),
            {"action": "recount_deadlines", "_selected_action": [petition.pk, inside.pk]},
            follow=True)
    petition.refresh_from_db()
    assert local_date(petition.street_due_at) == "2027-01-07"  # New Year's Day skipped now
    assert not petition.deadline_estimated
    note = petition.events.get(kind="note")
    assert note.is_internal
    assert "2026-12-31 10:00" in note.note  # the micro-grid deadline, unchanged
    messages = [str(message) for message in response.context["messages"]]
    assert any("1 件诉求已重新计算时限" in message for message in messages)
    assert any(f"#{inside.pk}" in message for message in messages)  # not an estimate: refused


def test_a_recount_is_refused_when_the_policy_changed_after_acceptance(
        working_days, resident_user, microgrid_worker, street_admin):
    with time_machine.travel(at(2026, 12, 30, 10), tick=False):
        petition = submit(resident_user)
    with time_machine.travel(at(2026, 12, 30, 11), tick=False):
        working_days.street = working_days.street * 2
        working_days.save()
    _enter_2027_new_years_day()
    with pytest.raises(ApplicationError, match="时限规则已修改"):
        services.petition_deadlines_recount(petition_id=petition.pk, actor=street_admin)
    petition.refresh_from_db()
    assert petition.deadline_estimated
