"""The resident's say before a petition closes (issue 10, item 6).

Staff could resolve, verify and close back to back, so the rating (and 不满意 → reopen) was never
asked. Now the resolver may not verify their own work, and staff close a verified petition only
once the resident has rated it or the rating window (SlaPolicy.rating_window) has passed.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from core.exceptions import ApplicationError, PermissionDeniedError
from petitions import services
from petitions.models import Petition, SlaPolicy
from tests.petitions.factories import resolve_after_visit, submit

pytestmark = pytest.mark.django_db
State = Petition.State
RESOLVER_REFUSED = "办结人不能核实自己办结的诉求，请由其他工作人员核实。"


def _resolved(resident, worker):
    """Resolved by `worker`: after the holder's check-in, or by phone for handler staff who do
    not hold it (only the holder checks in)."""
    petition = submit(resident)
    if petition.holder_id == worker.pk:
        return resolve_after_visit(petition_id=petition.pk, actor=worker, resolution="已清理")
    return services.petition_resolve(petition_id=petition.pk, actor=worker, resolution="已清理",
                                     no_visit_reason="phone")


def _verified(resident, worker, verifier):
    petition = _resolved(resident, worker)
    return services.petition_verify(petition_id=petition.pk, actor=verifier)


# --- verification by someone else -------------------------------------------------------------


def test_the_resolver_may_not_verify_their_own_resolution(territory, resident_user,
                                                          microgrid_worker, grid_worker,
                                                          community_staff):
    # The grid worker may both resolve and verify, but not the same petition.
    petition = _resolved(resident_user, grid_worker)
    for accepted in (True, False):
        with pytest.raises(PermissionDeniedError, match="办结人不能核实自己办结的诉求") as refused:
            services.petition_verify(petition_id=petition.pk, actor=grid_worker,
                                     accepted=accepted, note="自己核实")
        assert refused.value.message == RESOLVER_REFUSED
    assert Petition.objects.get(pk=petition.pk).state == State.RESOLVED
    petition = services.petition_verify(petition_id=petition.pk, actor=community_staff)
    assert petition.state == State.VERIFIED


def test_the_resolver_is_refused_verification_through_the_api_with_a_403(
        territory, resident_user, microgrid_worker, grid_worker):
    petition = _resolved(resident_user, grid_worker)
    client = APIClient()
    client.force_login(grid_worker)
    response = client.post(f"/api/v1/petitions/{petition.pk}/verify/", {}, format="json")
    assert response.status_code == 403
    assert response.json()["message"] == RESOLVER_REFUSED


def test_the_resolver_is_not_offered_the_verify_form(client, territory, resident_user,
                                                     microgrid_worker, grid_worker):
    petition = _resolved(resident_user, grid_worker)
    client.force_login(grid_worker)
    page = client.get(reverse("petitions:staff-detail", args=[petition.pk]))
    assert reverse("petitions:staff-verify", args=[petition.pk]) not in page.text


def test_a_second_round_is_verified_against_its_own_resolver(
        territory, resident_user, microgrid_worker, grid_worker, community_staff):
    # Refused by the grid worker, the holder resolves again; the grid worker may now verify.
    petition = _resolved(resident_user, grid_worker)
    services.petition_verify(petition_id=petition.pk, actor=community_staff, accepted=False,
                             note="照片不清楚")
    resolve_after_visit(petition_id=petition.pk, actor=microgrid_worker,
                        resolution="已补拍照片")
    petition = services.petition_verify(petition_id=petition.pk, actor=grid_worker)
    assert petition.state == State.VERIFIED


# --- closing waits for the rating or its window -----------------------------------------------


def test_staff_close_a_verified_petition_only_after_the_rating_window(
        frozen, territory, resident_user, microgrid_worker, grid_worker):
    petition = _verified(resident_user, microgrid_worker, grid_worker)
    assert petition.rating_due_at == petition.verified_at + timedelta(days=7)
    with pytest.raises(ApplicationError, match="居民尚未评价") as refused:
        services.petition_close(petition_id=petition.pk, actor=grid_worker)
    assert refused.value.message == (
        "居民尚未评价，评价期至 2026-11-23 09:00，届满后方可关闭。")
    frozen.shift(timedelta(days=7))  # the window's last instant (petitions.policy.is_late)
    with pytest.raises(ApplicationError, match="居民尚未评价"):
        services.petition_close(petition_id=petition.pk, actor=grid_worker)
    frozen.shift(timedelta(seconds=1))
    petition = services.petition_close(petition_id=petition.pk, actor=grid_worker,
                                       note="评价期满，居民未评价")
    assert petition.state == State.CLOSED and petition.rating == ""


def test_within_the_window_the_resident_rates_and_a_dissatisfied_rating_reopens(
        frozen, territory, resident_user, microgrid_worker, grid_worker):
    petition = _verified(resident_user, microgrid_worker, grid_worker)
    frozen.shift(timedelta(days=3))
    petition = services.petition_rate(petition_id=petition.pk, actor=resident_user,
                                      rating=Petition.Rating.UNSATISFIED, comment="没清干净")
    assert petition.state == State.DISPATCHED and petition.reopened_count == 1


def test_the_rating_window_comes_from_the_sla_policy(frozen, territory, resident_user,
                                                     microgrid_worker, grid_worker):
    SlaPolicy.objects.update_or_create(pk=SlaPolicy.SINGLETON_ID,
                                       defaults={"rating_window": timedelta(hours=2)})
    petition = _verified(resident_user, microgrid_worker, grid_worker)
    frozen.shift(timedelta(hours=2, seconds=1))
    assert services.petition_close(petition_id=petition.pk,
                                   actor=grid_worker).state == State.CLOSED


def test_the_api_refuses_an_early_close_with_a_400_in_chinese(
        frozen, territory, resident_user, microgrid_worker, grid_worker):
    petition = _verified(resident_user, microgrid_worker, grid_worker)
    client = APIClient()
    client.force_login(grid_worker)
    response = client.post(f"/api/v1/petitions/{petition.pk}/close/", {}, format="json")
    assert response.status_code == 400
    assert "评价期至" in response.json()["message"]
    assert Petition.objects.get(pk=petition.pk).state == State.VERIFIED


def test_the_close_form_waits_for_the_rating_window_and_says_until_when(
        client, frozen, territory, resident_user, microgrid_worker, grid_worker):
    petition = _verified(resident_user, microgrid_worker, grid_worker)
    client.force_login(grid_worker)
    close_url = reverse("petitions:staff-close", args=[petition.pk])
    page = client.get(reverse("petitions:staff-detail", args=[petition.pk]))
    assert close_url not in page.text
    assert "等待居民评价，2026-11-23 09:00 后可关闭" in page.text
    frozen.shift(timedelta(days=7, seconds=1))
    page = client.get(reverse("petitions:staff-detail", args=[petition.pk]))
    assert close_url in page.text


def test_the_admin_close_action_leaves_a_petition_within_its_window_open(
        client, frozen, territory, resident_user, microgrid_worker, grid_worker, street_admin):
    petition = _verified(resident_user, microgrid_worker, grid_worker)
    client.force_login(street_admin)
    response = client.post(reverse("admin:petitions_petition_changelist"),
                           {"action": "close", "_selected_action": [petition.pk]}, follow=True)
    assert "评价期至 2026-11-23 09:00" in response.content.decode()
    assert Petition.objects.get(pk=petition.pk).state == State.VERIFIED
