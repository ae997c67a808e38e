"""申诉剔除: asked for with a reason by staff covering the petition, decided by a second person
(a street admin in scope, never the requester), a refusal with a note, every step audited and
on the petition's internal timeline; the staff page's form and the street admins' queue."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.http import Http404
from django.test import Client
from django.urls import reverse

from accounts.models import User
from core.exceptions import ApplicationError, InvalidTransition, PermissionDeniedError
from core.models import AuditEvent
from petitions import assessment
from petitions.models import AssessmentExclusion, PetitionEvent
from tests.accounts.factories import UserFactory
from tests.petitions.factories import submit

Status = AssessmentExclusion.Status


@pytest.fixture
def petition(territory, frozen):
    return submit(None, building=territory.building1)


@pytest.fixture
def second_admin(territory) -> User:
    """A street admin who is not a superuser (the fixture's street admin is one)."""
    return UserFactory(username="street2", role=User.Role.STREET_ADMIN,
                       scope_area=territory.street, display_name="街道副主任")


def ask(petition, actor, **overrides: Any) -> AssessmentExclusion:
    fields = {"reason": "misrouted", "note": "应属黄河路社区"} | overrides
    return assessment.exclusion_request(petition_id=petition.pk, actor=actor, **fields)


def test_staff_covering_the_petition_ask_and_the_request_is_audited_and_noted(
        petition, grid_worker):
    exclusion = ask(petition, grid_worker)
    assert (exclusion.status, exclusion.requested_by, exclusion.reason) == (
        Status.PENDING, grid_worker, "misrouted")
    audit = AuditEvent.objects.get(object_type="petitions.assessmentexclusion")
    assert (audit.action, audit.actor, audit.object_id) == (
        AuditEvent.Action.ADD, grid_worker, str(exclusion.pk))
    note = PetitionEvent.objects.filter(petition=petition, kind="note").get()
    assert note.is_internal and note.note == "申请剔除考核（错派）：应属黄河路社区"


def test_a_request_needs_a_reason_kind_and_a_written_reason(petition, grid_worker):
    with pytest.raises(ApplicationError, match="情况说明"):
        ask(petition, grid_worker, note="  ")
    with pytest.raises(ApplicationError, match="剔除原因"):
        ask(petition, grid_worker, reason="lazy")


def test_staff_outside_the_petitions_scope_cannot_ask(petition, outsider):
    with pytest.raises(Http404):  # the petition does not exist for them
        ask(petition, outsider)
    assert not AssessmentExclusion.objects.exists()


def test_a_second_request_while_one_is_pending_is_refused(petition, grid_worker,
                                                         community_staff):
    ask(petition, grid_worker)
    with pytest.raises(ApplicationError, match="已有待审批或已批准"):
        ask(petition, community_staff, reason="duplicate")
    # The database holds the line too (two requests at once).
    with pytest.raises(IntegrityError), transaction.atomic():
        AssessmentExclusion.objects.create(petition=petition, reason="duplicate", note="x")


def test_the_requester_cannot_approve_their_own_request(petition, second_admin):
    exclusion = ask(petition, second_admin)
    with pytest.raises(PermissionDeniedError, match="不能审批自己"):
        assessment.exclusion_approve(exclusion_id=exclusion.pk, actor=second_admin)
    exclusion.refresh_from_db()
    assert exclusion.status == Status.PENDING


def test_someone_other_than_a_street_admin_cannot_approve(petition, grid_worker,
                                                         community_staff):
    exclusion = ask(petition, grid_worker)
    with pytest.raises(PermissionDeniedError, match="只有街道管理员"):
        assessment.exclusion_approve(exclusion_id=exclusion.pk, actor=community_staff)


def test_a_street_admin_approves_once_and_the_decision_is_audited(petition, grid_worker,
                                                                  second_admin):
    exclusion = ask(petition, grid_worker)
    approved = assessment.exclusion_approve(exclusion_id=exclusion.pk, actor=second_admin,
                                            note="核实确属错派")
    assert (approved.status, approved.decided_by, approved.decision_note) == (
        Status.APPROVED, second_admin, "核实确属错派")
    assert approved.decided_at is not None
    decision = AuditEvent.objects.get(object_type="petitions.assessmentexclusion",
                                      action=AuditEvent.Action.CHANGE)
    assert decision.actor == second_admin and "status" in decision.fields
    assert PetitionEvent.objects.filter(petition=petition, note="批准剔除考核：核实确属错派",
                                        is_internal=True).exists()
    with pytest.raises(InvalidTransition, match="已批准"):  # decided once: no move from 已批准
        assessment.exclusion_refuse(exclusion_id=exclusion.pk, actor=second_admin, note="改判")


def test_a_refusal_needs_a_note_and_frees_the_petition_for_a_new_request(
        petition, grid_worker, second_admin):
    exclusion = ask(petition, grid_worker)
    with pytest.raises(ApplicationError, match="须填写理由"):
        assessment.exclusion_refuse(exclusion_id=exclusion.pk, actor=second_admin, note=" ")
    refused = assessment.exclusion_refuse(exclusion_id=exclusion.pk, actor=second_admin,
                                          note="属本街道职责")
    assert refused.status == Status.REFUSED
    assert ask(petition, grid_worker, reason="duplicate").status == Status.PENDING


# --- the pages ----------------------------------------------------------------------------------


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_staff_page_offers_the_request_form_and_then_shows_its_status(
        petition, grid_worker):
    client = client_for(grid_worker)
    detail = reverse("petitions:staff-detail", args=[petition.pk])
    assert "申请剔除考核" in client.get(detail).content.decode()
    response = client.post(reverse("petitions:staff-exclusion-request", args=[petition.pk]),
                           {"reason": "duplicate", "note": "与 #1 重复"}, follow=True)
    html = response.content.decode()
    assert "剔除考核申请已提交" in html
    assert "剔除考核（重复诉求）：待审批" in html


def test_a_request_without_a_note_is_refused_on_the_page(petition, grid_worker):
    response = client_for(grid_worker).post(
        reverse("petitions:staff-exclusion-request", args=[petition.pk]),
        {"reason": "duplicate", "note": ""}, follow=True)
    assert "请填写申请剔除的情况说明" in response.content.decode()
    assert not AssessmentExclusion.objects.exists()


def test_the_queue_lists_pending_requests_and_a_street_admin_decides_there(
        petition, grid_worker, second_admin, django_assert_max_num_queries):
    exclusion = ask(petition, grid_worker)
    client = client_for(second_admin)
    with django_assert_max_num_queries(8):
        html = client.get(reverse("petitions:staff-exclusions")).content.decode()
    assert "应属黄河路社区" in html and f"#{petition.pk}" in html
    refused = client.post(reverse("petitions:staff-exclusion-refuse", args=[exclusion.pk]),
                          {"note": ""}, follow=True).content.decode()
    assert "驳回剔除申请须填写理由" in refused
    client.post(reverse("petitions:staff-exclusion-approve", args=[exclusion.pk]), {"note": ""})
    exclusion.refresh_from_db()
    assert exclusion.status == Status.APPROVED


def test_the_queue_is_not_for_other_roles(petition, grid_worker, community_staff):
    exclusion = ask(petition, grid_worker)
    assert client_for(community_staff).get(
        reverse("petitions:staff-exclusions")).status_code == 404
    client_for(community_staff).post(
        reverse("petitions:staff-exclusion-approve", args=[exclusion.pk]), {"note": ""})
    exclusion.refresh_from_db()
    assert exclusion.status == Status.PENDING
