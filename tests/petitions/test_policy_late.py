""""Late" has one boundary (petitions.policy): a deadline is missed when now is past it. At the
deadline's own instant every reader says on time — the sweep, the overdue list, the due-today
list, the overdue filter, the queryset, the clock on the pages, the API, check-in, resolve and
close — and one second later every reader says late."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.exceptions import ApplicationError
from petitions import selectors, services
from petitions.models import Petition
from petitions.presentation import clock_for
from petitions.sweep import (
    petitions_escalate_overdue,
    petitions_flag_supervision,
    petitions_record_missed_arrivals,
)
from tests.petitions.factories import resolve_after_visit, submit

pytestmark = pytest.mark.django_db
ONE_SECOND = timedelta(seconds=1)


def _staff_page(user, petition: Petition) -> str:
    client = Client()
    client.force_login(user)
    return client.get(reverse("petitions:staff-detail", args=[petition.pk])).content.decode()


def _api_is_overdue(user, petition: Petition) -> bool:
    client = APIClient()
    client.force_login(user)
    return bool(client.get(f"/api/v1/petitions/{petition.pk}/").json()["is_overdue"])


def _readers_of_the_resolution_clock(petition: Petition, user) -> dict[str, bool]:
    """What every reader (but the sweep, which writes) says: is the petition overdue now?"""
    now = timezone.now()
    petition.refresh_from_db()
    listed = selectors.petition_list(user=user, filters={"overdue": "true"})
    return {
        "overdue list": selectors.petition_overdue_list(user=user, now=now)
        .filter(pk=petition.pk).exists(),
        "not in the due-today list": not selectors.petition_due_today_list(user=user, now=now)
        .filter(pk=petition.pk).exists(),
        "overdue filter": listed.filter(pk=petition.pk).exists(),
        "queryset": Petition.objects.overdue(now).filter(pk=petition.pk).exists(),
        "clock": clock_for(petition, now).is_overdue,
        "page": "is-overdue" in _staff_page(user, petition),
        "api": _api_is_overdue(user, petition),
    }


def test_the_resolution_deadline_is_on_time_at_its_instant_and_late_a_second_later(
        frozen, resident_user, microgrid_worker, grid_worker):
    petition = submit(resident_user)
    # On site in time: only the resolution clock runs (the overdue filter reads both clocks).
    services.petition_check_in(petition_id=petition.pk, actor=microgrid_worker)
    frozen.move_to(petition.due_at)
    assert timezone.now() == petition.due_at
    assert not any(_readers_of_the_resolution_clock(petition, microgrid_worker).values())
    assert petitions_escalate_overdue(now=timezone.now()) == 0
    frozen.shift(ONE_SECOND)
    assert all(_readers_of_the_resolution_clock(petition, microgrid_worker).values())
    assert petitions_escalate_overdue(now=timezone.now()) == 1


def test_supervision_starts_a_second_after_the_street_deadline(
        frozen, resident_user, microgrid_worker, street_admin):
    petition = submit(resident_user)
    services.petition_triage(petition_id=petition.pk, actor=street_admin, size="hard")
    petition.refresh_from_db()
    assert petition.tier == "street"
    frozen.move_to(petition.street_due_at)
    assert petitions_flag_supervision(now=timezone.now()) == 0
    frozen.shift(ONE_SECOND)
    assert petitions_flag_supervision(now=timezone.now()) == 1


def test_the_arrival_clock_is_on_time_at_its_instant_and_missed_a_second_later(
        frozen, resident_user, microgrid_worker):
    on_the_dot = submit(resident_user)
    late = submit(resident_user)
    frozen.move_to(late.arrival_due_at)
    now = timezone.now()
    assert not clock_for(late, now).arrival_missed
    assert petitions_record_missed_arrivals(now=now) == 0
    checked_in = services.petition_check_in(petition_id=on_the_dot.pk, actor=microgrid_worker)
    assert not checked_in.arrival_missed
    frozen.shift(ONE_SECOND)
    assert clock_for(late, timezone.now()).arrival_missed
    assert petitions_record_missed_arrivals(now=timezone.now()) == 1
    late = services.petition_check_in(petition_id=late.pk, actor=microgrid_worker)
    assert late.arrival_missed


def test_a_resolution_at_the_deadline_instant_is_on_time_and_a_second_later_is_not(
        frozen, resident_user, microgrid_worker):
    on_the_dot = submit(resident_user)
    late = submit(resident_user)
    for petition in (on_the_dot, late):
        services.petition_check_in(petition_id=petition.pk, actor=microgrid_worker)
    frozen.move_to(on_the_dot.due_at)
    on_the_dot = services.petition_resolve(petition_id=on_the_dot.pk, actor=microgrid_worker,
                                           resolution="修好了")
    frozen.shift(ONE_SECOND)
    late = services.petition_resolve(petition_id=late.pk, actor=microgrid_worker,
                                     resolution="修好了")
    assert (on_the_dot.resolved_on_time, late.resolved_on_time) == (True, False)


def test_the_rating_window_is_open_at_its_instant_and_closable_a_second_later(
        frozen, resident_user, microgrid_worker, grid_worker):
    petition = submit(resident_user)
    resolve_after_visit(petition_id=petition.pk, actor=microgrid_worker, resolution="好")
    petition = services.petition_verify(petition_id=petition.pk, actor=grid_worker)
    frozen.move_to(petition.rating_due_at)
    with pytest.raises(ApplicationError, match="居民尚未评价"):
        services.petition_close(petition_id=petition.pk, actor=grid_worker)
    frozen.shift(ONE_SECOND)
    closed = services.petition_close(petition_id=petition.pk, actor=grid_worker)
    assert closed.state == Petition.State.CLOSED
