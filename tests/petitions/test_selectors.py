"""Scope rules, the FilterSet, queues, the Open311 updates feed and the rates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from petitions import rules, selectors, services
from petitions.models import Petition
from tests.petitions.factories import category, external_system, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def spread(territory, resident_user, other_resident, microgrid_worker):
    """Two petitions in 微网格一, one in 微网格二, one in the other community."""
    return {
        "mine": submit(resident_user),
        "mine_too": submit(resident_user, category=category("噪音扰民")),
        "neighbour": submit(other_resident),
        "elsewhere": submit(None, building=territory.other_building),
    }


def _ids(queryset):
    return {petition.pk for petition in queryset}


def test_a_resident_sees_only_their_own(spread, resident_user):
    assert _ids(selectors.petition_list(user=resident_user)) == {
        spread["mine"].pk, spread["mine_too"].pk}


def test_staff_see_their_scope(spread, microgrid_worker, grid_worker, community_staff,
                               street_admin, outsider):
    assert _ids(selectors.petition_list(user=microgrid_worker)) == {
        spread["mine"].pk, spread["mine_too"].pk}
    local = {spread["mine"].pk, spread["mine_too"].pk, spread["neighbour"].pk}
    assert _ids(selectors.petition_list(user=grid_worker)) == local
    assert _ids(selectors.petition_list(user=community_staff)) == local
    assert _ids(selectors.petition_list(user=outsider)) == {spread["elsewhere"].pk}
    assert len(_ids(selectors.petition_list(user=street_admin))) == 4


def test_local_staff_still_see_a_petition_escalated_out_of_their_area(
        spread, microgrid_worker, street_admin):
    services.petition_escalate_by_hand(petition_id=spread["mine"].pk, actor=microgrid_worker,
                                       reason="需要协调")
    services.petition_escalate_by_hand(petition_id=spread["mine"].pk, actor=street_admin,
                                       reason="需要街道")
    assert spread["mine"].pk in _ids(selectors.petition_list(user=microgrid_worker))


def test_an_external_system_sees_what_it_submitted_unless_its_scope_says_more(
        spread, territory):
    hotline = external_system()
    own = submit(hotline, channel="hotline_12345", building=territory.building3)
    assert _ids(selectors.petition_list(user=hotline)) == {own.pk}
    hotline.scope_area = territory.other_community
    hotline.save(update_fields=["scope_area"])
    assert _ids(selectors.petition_list(user=hotline)) == {own.pk, spread["elsewhere"].pk}


def test_the_getter_is_404_for_outsiders_and_garbage(spread, other_resident, outsider):
    with pytest.raises(Http404):
        selectors.petition_get_for_user(user=other_resident, petition_id=spread["mine"].pk)
    with pytest.raises(Http404):
        selectors.petition_get_for_user(user=outsider, petition_id=spread["mine"].pk)
    with pytest.raises(Http404):
        selectors.petition_get_for_user(user=outsider, petition_id="1 OR 1=1")
    assert selectors.petition_get_for_user(user=outsider, petition_id=spread["elsewhere"].pk)


def test_filters_narrow_the_list(spread, street_admin, territory):
    noise = category("噪音扰民")
    assert _ids(selectors.petition_list(user=street_admin, filters={"category": noise.pk})) == {
        spread["mine_too"].pk}
    assert _ids(selectors.petition_list(
        user=street_admin, filters={"area": territory.micro2.pk})) == {spread["neighbour"].pk}
    assert _ids(selectors.petition_list(user=street_admin, filters={"state": ["submitted"]})) == {
        spread["neighbour"].pk, spread["elsewhere"].pk}
    assert not selectors.petition_list(user=street_admin, filters={"overdue": "true"}).exists()
    with pytest.raises(ValidationError, match="选择一个有效的选项"):
        selectors.petition_list(user=street_admin, filters={"tier": ["nowhere"]})


def test_the_list_costs_a_fixed_number_of_queries(spread, street_admin,
                                                  django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        rows = list(selectors.petition_list(user=street_admin))
        labels = [(row.category.name, row.area.name, row.holder and row.holder.pk) for row in rows]
    assert len(labels) == 4


def test_queue_overdue_and_due_today(frozen, spread, microgrid_worker, street_admin):
    assert [p.pk for p in selectors.petition_queue(user=microgrid_worker)] == [
        spread["mine"].pk, spread["mine_too"].pk]
    # Accepted Monday 09:00: due Tuesday 09:00, so it is due "today" on Tuesday 08:00.
    frozen.shift(timedelta(hours=23))
    assert len(selectors.petition_due_today_list(user=street_admin)) == 4
    frozen.shift(timedelta(hours=2))
    assert len(selectors.petition_overdue_list(user=street_admin)) == 4
    assert not selectors.petition_due_today_list(user=street_admin).exists()


def test_duplicate_hint_finds_open_petitions_of_the_category_in_the_building(spread,
                                                                            territory):
    duplicates = selectors.petition_duplicates(category_id=category().pk,
                                               building_id=territory.building1.pk,
                                               exclude_id=spread["mine_too"].pk)
    assert _ids(duplicates) == {spread["mine"].pk}


def test_masked_phone_for_outsiders_of_the_handling(spread, microgrid_worker, territory):
    from accounts.models import User
    from tests.accounts.factories import UserFactory

    other_micro = UserFactory(role=User.Role.MICROGRID_WORKER, scope_area=territory.micro2)
    petition = spread["mine"]
    # Masked even for the handler, who may reveal it (audited); the other micro-grid may not.
    assert selectors.petition_contact_phone_for(user=microgrid_worker,
                                                petition=petition) == "138****1111"
    assert rules.may_reveal_contact(microgrid_worker, petition)
    assert selectors.petition_contact_phone_for(user=other_micro,
                                                petition=petition) == "138****1111"
    assert not rules.may_reveal_contact(other_micro, petition)


def test_the_open311_updates_feed_holds_only_the_systems_public_events(
        frozen, territory, resident_user, microgrid_worker):
    hotline = external_system()
    own = submit(hotline, channel="hotline_12345", building=territory.building1)
    submit(resident_user)
    since = timezone.now()
    frozen.shift(timedelta(minutes=1))
    services.petition_add_note(petition_id=own.pk, actor=microgrid_worker, note="内部",
                               is_internal=True)
    services.petition_check_in(petition_id=own.pk, actor=microgrid_worker)
    events = list(selectors.petition_events_for_external(user=hotline, since=since))
    assert [event.kind for event in events] == ["checked_in"]
    assert len(selectors.petition_events_for_external(user=hotline)) == 3


def test_rates_per_week_with_sample_sizes(frozen, resident_user, microgrid_worker,
                                          grid_worker, street_admin,
                                          django_assert_max_num_queries):
    petitions = [submit(resident_user) for _ in range(4)]
    for petition, rating in zip(petitions[:3], ["satisfied", "basic", "unsatisfied"],
                                strict=True):
        services.petition_check_in(petition_id=petition.pk, actor=microgrid_worker)
        services.petition_resolve(petition_id=petition.pk, actor=microgrid_worker,
                                  resolution="好")
        services.petition_verify(petition_id=petition.pk, actor=grid_worker)
        services.petition_rate(petition_id=petition.pk, actor=resident_user, rating=rating)
    start = timezone.now() - timedelta(days=7)
    with django_assert_max_num_queries(1):
        rows = selectors.petition_rates(user=street_admin, start=start,
                                        end=timezone.now() + timedelta(days=1), by="week")
    assert len(rows) == 1
    row = rows[0]
    assert row["submitted"] == 4
    # The unsatisfied one was reopened and re-dispatched: it awaits a new arrival and a new
    # resolution, so two of four count as arrived and as resolved.
    assert (row["response_rate"], row["response_sample"]) == (0.5, 4)
    assert (row["resolution_rate"], row["resolution_sample"]) == (0.5, 4)
    assert (row["satisfaction_rate"], row["satisfaction_sample"]) == (round(2 / 3, 4), 3)
    assert row["on_time_rate"]["microgrid"] == {"rate": 1.0, "sample": 2}
    monthly = selectors.petition_rates(user=resident_user, start=start,
                                       end=timezone.now() + timedelta(days=1), by="month")
    assert monthly[0]["submitted"] == 4
    assert Petition.objects.count() == 4
