"""未诉先办: petitions of one category recurring in one building (RECURRENCE_MIN_COUNT within
RECURRENCE_WINDOW_DAYS) raise one suggestion to the staff in scope; a staff member accepts it
(deliberation opens a topic or adds a need) or dismisses it with a reason; never automatic."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core.exceptions import ApplicationError, InvalidTransition, PermissionDeniedError
from core.models import AuditEvent
from deliberation.models import Need, Topic
from notifications.models import Notification
from petitions.models import Petition, PetitionEvent, RecurrenceSuggestion
from petitions.recurrence import (
    recurrence_accept,
    recurrence_detect,
    recurrence_dismiss,
    recurrence_due_groups,
    recurrence_for_petition,
    recurrence_open_list,
    recurrence_raise,
)
from tests.accounts.factories import UserFactory
from tests.petitions.conftest import MONDAY_9AM
from tests.petitions.factories import category, submit

Status = RecurrenceSuggestion.Status


@pytest.fixture(autouse=True)
def thresholds(settings):
    settings.RECURRENCE_MIN_COUNT = 3
    settings.RECURRENCE_WINDOW_DAYS = 30


def petitions_at(building, *, days_ago: list[float], name: str = "环境卫生",
                 description: str = "楼道里堆满了杂物，影响通行") -> list[Petition]:
    """Petitions accepted `days_ago` before MONDAY_9AM, through the real service."""
    made = []
    for days in days_ago:
        with time_machine.travel(MONDAY_9AM - timedelta(days=days), tick=False):
            made.append(submit(None, building=building, category=category(name),
                               description=description))
    return made


def recurrence_notices():
    return Notification.objects.filter(dedupe_key__startswith="recurrence:")


def detect() -> int:
    with time_machine.travel(MONDAY_9AM, tick=False):
        return recurrence_detect(now=timezone.now())


def test_one_petition_short_of_the_count_in_the_window_raises_nothing(territory):
    petitions_at(territory.building1, days_ago=[1, 10])
    assert detect() == 0
    assert not RecurrenceSuggestion.objects.exists()


def test_the_count_within_the_window_raises_one_suggestion_linked_to_the_petitions(
        territory, community_staff):
    made = petitions_at(territory.building1, days_ago=[1, 10, 29])
    assert detect() == 1
    suggestion = RecurrenceSuggestion.objects.get()
    assert (suggestion.building, suggestion.category.name, suggestion.status,
            suggestion.petition_count, suggestion.area_path) == (
        territory.building1, "环境卫生", Status.OPEN, 3, territory.micro1.path)
    assert set(suggestion.petitions.values_list("pk", flat=True)) == {p.pk for p in made}


def test_the_count_spread_beyond_the_window_raises_nothing(territory):
    petitions_at(territory.building1, days_ago=[1, 10, 31])
    assert detect() == 0


def test_other_buildings_and_categories_do_not_add_up(territory):
    petitions_at(territory.building1, days_ago=[1, 2])
    petitions_at(territory.building2, days_ago=[3])
    petitions_at(territory.building1, days_ago=[4], name="邻里纠纷")
    assert detect() == 0


def test_refused_petitions_do_not_count(territory, community_staff):
    made = petitions_at(territory.building1, days_ago=[1, 2, 3])
    Petition.objects.filter(pk=made[0].pk).update(state=Petition.State.REJECTED)
    assert detect() == 0


def test_two_runs_raise_one_suggestion_and_notify_once(territory, community_staff):
    petitions_at(territory.building1, days_ago=[1, 2, 3])
    assert detect() == 1
    assert detect() == 0
    assert RecurrenceSuggestion.objects.count() == 1
    assert recurrence_notices().filter(user=community_staff).count() == 1


def test_the_database_allows_one_open_suggestion_per_building_and_category(territory):
    petitions_at(territory.building1, days_ago=[1, 2, 3])
    detect()
    existing = RecurrenceSuggestion.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        RecurrenceSuggestion.objects.create(
            building=existing.building, category=existing.category, area_path="x",
            petition_count=3, window_days=30, first_submitted_at=timezone.now(),
            last_submitted_at=timezone.now())


def test_a_petition_arriving_later_joins_the_open_suggestion(territory):
    petitions_at(territory.building1, days_ago=[3, 4, 5])
    detect()
    later = petitions_at(territory.building1, days_ago=[0.5])[0]
    assert detect() == 0
    assert RecurrenceSuggestion.objects.get().petitions.filter(pk=later.pk).exists()


def test_staff_covering_the_building_are_notified_and_others_are_not(
        territory, community_staff, street_admin, grid_worker, outsider):
    petitions_at(territory.building1, days_ago=[1, 2, 3])
    detect()
    notified = set(recurrence_notices().values_list("user__username", flat=True))
    assert notified == {"community", "street"}
    message = recurrence_notices().get(user=community_staff)
    assert message.link == "/petitions/staff/recurrences/"
    assert "1号楼" in message.body and "3 件" in message.body


@pytest.fixture
def suggestion(territory, community_staff) -> RecurrenceSuggestion:
    petitions_at(territory.building1, days_ago=[1, 2, 3])
    detect()
    return RecurrenceSuggestion.objects.get()


def test_accepting_as_a_topic_opens_it_in_deliberation_and_notes_the_petitions(
        suggestion, community_staff, territory):
    accepted = recurrence_accept(suggestion_id=suggestion.pk, actor=community_staff,
                                 outcome="topic", title="1号楼楼道杂物长期堆放",
                                 description="商量清理和长效管理办法")
    topic = Topic.objects.get(pk=accepted.topic_id)
    assert (accepted.status, accepted.outcome, accepted.decided_by) == (
        Status.ACCEPTED, "topic", community_staff)
    assert (topic.compound_id, topic.title, topic.petition_id, topic.recorded_by) == (
        territory.compound.pk, "1号楼楼道杂物长期堆放", None, community_staff)
    notes = PetitionEvent.objects.filter(kind="note", is_internal=True,
                                         note__contains="发起议题")
    assert notes.count() == 3
    assert AuditEvent.objects.filter(object_type="petitions.recurrencesuggestion",
                                     object_id=str(suggestion.pk)).exists()


def test_accepting_as_a_need_adds_it_to_the_needs_list_with_the_latest_petition(
        suggestion, community_staff):
    accepted = recurrence_accept(suggestion_id=suggestion.pk, actor=community_staff,
                                 outcome="need", title="1号楼楼道需要定期清理")
    need = Need.objects.get(pk=accepted.need_id)
    latest = suggestion.petitions.order_by("-submitted_at").first()
    assert (need.source, need.petition_id, need.title) == (
        Need.Source.PETITION, latest.pk, "1号楼楼道需要定期清理")
    assert not Topic.objects.exists()


def test_accepting_needs_an_outcome_and_a_title(suggestion, community_staff):
    with pytest.raises(ApplicationError, match="请选择"):
        recurrence_accept(suggestion_id=suggestion.pk, actor=community_staff,
                          outcome="auto", title="x")
    with pytest.raises(ApplicationError, match="名称"):
        recurrence_accept(suggestion_id=suggestion.pk, actor=community_staff,
                          outcome="topic", title="  ")


def test_the_text_may_not_quote_a_petition(suggestion, community_staff):
    with pytest.raises(ApplicationError, match="不能引用诉求原文"):
        recurrence_accept(suggestion_id=suggestion.pk, actor=community_staff, outcome="topic",
                          title="楼道杂物", description="居民说：楼道里堆满了杂物，影响通行")
    suggestion.refresh_from_db()
    assert suggestion.status == Status.OPEN and not Topic.objects.exists()


def test_dismissing_needs_a_reason_and_is_recorded(suggestion, community_staff):
    with pytest.raises(ApplicationError, match="理由"):
        recurrence_dismiss(suggestion_id=suggestion.pk, actor=community_staff, reason=" ")
    dismissed = recurrence_dismiss(suggestion_id=suggestion.pk, actor=community_staff,
                                   reason="物业已签约每周清理")
    assert (dismissed.status, dismissed.decision_note) == (Status.DISMISSED, "物业已签约每周清理")
    noted = PetitionEvent.objects.filter(note="未诉先办建议不予采纳：物业已签约每周清理")
    assert noted.count() == 3


def test_a_decided_suggestion_cannot_be_decided_again(suggestion, community_staff):
    recurrence_dismiss(suggestion_id=suggestion.pk, actor=community_staff, reason="已处理")
    with pytest.raises(InvalidTransition, match="不能从“不予采纳”变为“已采纳”"):
        recurrence_accept(suggestion_id=suggestion.pk, actor=community_staff, outcome="need",
                          title="x")


def test_a_dismissed_suggestion_is_not_raised_again_until_a_new_petition_arrives(
        territory, community_staff):
    petitions_at(territory.building1, days_ago=[3, 4, 5])
    detect()
    with time_machine.travel(MONDAY_9AM - timedelta(days=2), tick=False):
        recurrence_dismiss(suggestion_id=RecurrenceSuggestion.objects.get().pk,
                           actor=community_staff, reason="已协调物业")
    assert detect() == 0  # the same petitions, still in the window
    petitions_at(territory.building1, days_ago=[1])
    assert detect() == 1
    assert RecurrenceSuggestion.objects.filter(status=Status.OPEN).get().petitions.count() == 4


def test_staff_outside_the_scope_get_404_and_grid_workers_may_not_decide(
        suggestion, outsider, grid_worker):
    with pytest.raises(Http404):
        recurrence_dismiss(suggestion_id=suggestion.pk, actor=outsider, reason="x")
    with pytest.raises(PermissionDeniedError, match="只有社区工作人员或街道管理员"):
        recurrence_dismiss(suggestion_id=suggestion.pk, actor=grid_worker, reason="x")
    suggestion.refresh_from_db()
    assert suggestion.status == Status.OPEN


def test_the_queue_holds_the_suggestions_in_the_users_scope(
        suggestion, territory, community_staff, street_admin, grid_worker, outsider):
    assert list(recurrence_open_list(user=community_staff)) == [suggestion]
    assert list(recurrence_open_list(user=street_admin)) == [suggestion]
    assert not recurrence_open_list(user=grid_worker).exists()
    assert not recurrence_open_list(user=outsider).exists()


def test_a_petition_knows_its_suggestions(suggestion):
    petition = suggestion.petitions.first()
    assert recurrence_for_petition(petition_id=petition.pk) == [suggestion]


# --- the pages ---------------------------------------------------------------------------------


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def two_suggestions(territory, community_staff) -> list[RecurrenceSuggestion]:
    petitions_at(territory.building1, days_ago=[1, 2, 3])
    petitions_at(territory.building3, days_ago=[4, 5, 6, 7], name="邻里纠纷")
    detect()
    return list(RecurrenceSuggestion.objects.order_by("id"))


def test_the_queue_lists_the_suggestions_in_scope_in_a_constant_number_of_queries(
        two_suggestions, community_staff, django_assert_num_queries):
    client = client_for(community_staff)
    # session, the user with their scope area, count, page, the linked petitions' ids, the
    # inbox badge: the same whatever the number of suggestions on the page.
    with django_assert_num_queries(6):
        html = client.get(reverse("petitions:staff-recurrences")).content.decode()
    assert "长江瑞城 1号楼 · 环境卫生" in html and "长江瑞城 3号楼 · 邻里纠纷" in html
    assert "30 天内受理 4 件" in html
    # The default text is neutral: it names the building and the category, not a petition.
    assert "楼道里堆满了杂物" not in html


def test_the_queue_is_for_community_staff_and_street_admins_only(
        two_suggestions, grid_worker, resident_user, territory):
    assert client_for(grid_worker).get(reverse("petitions:staff-recurrences")).status_code == 404
    assert client_for(resident_user).get(
        reverse("petitions:staff-recurrences")).status_code in (302, 404)


def test_staff_of_another_community_see_none_and_cannot_decide(two_suggestions, territory):
    other = UserFactory(username="other-community", role=User.Role.COMMUNITY_STAFF,
                        scope_area=territory.other_community)
    client = client_for(other)
    assert "没有待处理的未诉先办建议" in client.get(
        reverse("petitions:staff-recurrences")).content.decode()
    response = client.post(reverse("petitions:staff-recurrence-dismiss",
                                   args=[two_suggestions[0].pk]), {"reason": "不归我们管"})
    assert response.status_code == 404


def test_accepting_from_the_queue_opens_the_topic(two_suggestions, community_staff):
    suggestion = two_suggestions[0]
    response = client_for(community_staff).post(
        reverse("petitions:staff-recurrence-accept", args=[suggestion.pk]),
        {"outcome": "topic", "title": "1号楼楼道环境整治", "description": "商量长效办法"},
        follow=True)
    assert "已发起议题" in response.content.decode()
    suggestion.refresh_from_db()
    assert Topic.objects.get(pk=suggestion.topic_id).title == "1号楼楼道环境整治"


def test_dismissing_from_the_queue_without_a_reason_is_refused_in_chinese(
        two_suggestions, community_staff):
    suggestion = two_suggestions[0]
    response = client_for(community_staff).post(
        reverse("petitions:staff-recurrence-dismiss", args=[suggestion.pk]), {"reason": ""},
        follow=True)
    assert "不采纳须填写理由" in response.content.decode()
    suggestion.refresh_from_db()
    assert suggestion.status == Status.OPEN


def test_the_linked_petitions_staff_page_shows_the_suggestion(two_suggestions, community_staff):
    petition = two_suggestions[0].petitions.first()
    html = client_for(community_staff).get(
        reverse("petitions:staff-detail", args=[petition.pk])).content.decode()
    assert "未诉先办：同楼栋同类诉求 30 天内 3 件" in html and "去处理" in html


def test_the_admin_lists_suggestions_in_scope_read_only(two_suggestions, street_admin,
                                                        django_assert_max_num_queries):
    client = client_for(street_admin)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:petitions_recurrencesuggestion_changelist"))
    assert response.status_code == 200 and "1号楼" in response.content.decode()
    suggestion = two_suggestions[0]
    page = client.get(reverse("admin:petitions_recurrencesuggestion_change",
                              args=[suggestion.pk])).content.decode()
    assert all(f"#{pk}" in page for pk in suggestion.petitions.values_list("pk", flat=True))
    assert client.get(reverse("admin:petitions_recurrencesuggestion_add")).status_code == 403


def test_detection_takes_the_same_number_of_queries_for_one_group_or_many(
        territory, community_staff, street_admin, django_assert_num_queries):
    petitions_at(territory.building1, days_ago=[1, 2, 3])
    # groups, insert, link (read + insert), the raised rows, the deciders, the inbox rows, and
    # the transaction's savepoint and release (the test runs inside a transaction)
    with django_assert_num_queries(9):
        assert detect() == 1
    petitions_at(territory.building2, days_ago=[1, 2, 3])
    petitions_at(territory.building3, days_ago=[1, 2, 3], name="邻里纠纷")
    petitions_at(territory.other_building, days_ago=[1, 2, 3])
    with django_assert_num_queries(9):
        assert detect() == 3


def test_two_runs_at_once_leave_one_suggestion_and_one_message_each(
        territory, community_staff):
    # Run A finds the group due; run B (a second beat, a minute later) raises it before A
    # inserts. A's insert is dropped by the constraint and A tells no one.
    petitions_at(territory.building1, days_ago=[1, 2, 3])
    counted = Petition.objects.all()
    groups = recurrence_due_groups(counted, min_count=3)
    assert len(groups) == 1
    with time_machine.travel(MONDAY_9AM + timedelta(minutes=1), tick=False):
        assert recurrence_detect(now=timezone.now()) == 1
    with time_machine.travel(MONDAY_9AM, tick=False):
        assert recurrence_raise(counted, groups=groups, now=timezone.now(), window_days=30) == 0
    assert RecurrenceSuggestion.objects.count() == 1
    assert RecurrenceSuggestion.objects.get().petitions.count() == 3
    assert recurrence_notices().filter(user=community_staff).count() == 1


def test_a_dismissal_reason_on_the_petitions_staff_page_has_its_phone_numbers_masked(
        two_suggestions, community_staff):
    suggestion = two_suggestions[0]
    recurrence_dismiss(suggestion_id=suggestion.pk, actor=community_staff,
                       reason="已请物业处理，联系人13812345678")
    petition = suggestion.petitions.first()
    html = client_for(community_staff).get(
        reverse("petitions:staff-detail", args=[petition.pk])).content.decode()
    assert "已请物业处理" in html and "13812345678" not in html
