"""Petition ↔ topic, both ways, through the core.referral hook each app fills in."""

from __future__ import annotations

import pytest
from django.http import Http404
from django.utils import timezone

from core.exceptions import ApplicationError, PermissionDeniedError
from core.referral import petition_source, referrer
from deliberation.models import Need, Topic
from deliberation.services.topics import (
    topic_close,
    topic_decide,
    topic_propose_from_petition,
    topic_schedule,
)


def test_the_petitions_hooks_are_there() -> None:
    # Was a module-level runtime skip: a missing hook must fail, not skip the module.
    from petitions import referral

    assert petition_source() is referral
    assert referrer() is topic_propose_from_petition


@pytest.fixture
def petition(territory, resident_user):
    from tests.petitions.factories import submit

    # Public: its text may become the topic's (a private one: test_referral_privacy.py).
    return submit(resident_user, household=territory.household1, is_public=True,
                  description="小区充电桩太少，电动车充电难，需要扩容")


def _evaluating(topic):
    Topic.objects.filter(pk=topic.pk).update(status=Topic.Status.EVALUATING,
                                             evaluation_ends_at=timezone.now())
    topic.refresh_from_db()
    return topic


def test_a_referred_petition_becomes_a_big_topic_and_the_petition_is_referred(
        petition, community_staff, territory):
    topic = topic_propose_from_petition(petition_id=petition.pk, actor=community_staff)
    assert (topic.compound, topic.channel, topic.scale) == (territory.compound, "petition", "big")
    assert topic.petition_id == petition.pk
    assert "充电桩" in topic.title
    petition.refresh_from_db()
    assert petition.state == "referred"
    assert petition.deliberation_topic_id == topic.pk
    assert Need.objects.get(topic=topic).source == Need.Source.PETITION


def test_closing_the_topic_closes_the_petition_with_the_outcome(petition, community_staff):
    topic = topic_propose_from_petition(petition_id=petition.pk, actor=community_staff)
    topic_close(topic=_evaluating(topic), actor=community_staff,
                         outcome="新增充电桩40个，已投入使用",
                         evaluation_note="居民代表评议会：到会9人，均满意")
    petition.refresh_from_db()
    assert petition.state == "closed"
    assert petition.resolution == "新增充电桩40个，已投入使用"


def test_a_topic_rejected_by_vote_also_closes_its_petition(petition, community_staff, session):
    topic = topic_propose_from_petition(petition_id=petition.pk, actor=community_staff)
    topic_schedule(topic=topic, session=session, actor=community_staff)
    topic_decide(topic=topic, actor=community_staff, decision_text="暂缓", mode="vote",
                          review_on=None, votes_for=1, votes_against=5, eligible_voters=6)
    petition.refresh_from_db()
    assert petition.state == "closed"
    assert "表决未通过" in petition.resolution


def test_a_petition_is_referred_only_once(petition, community_staff):
    topic_propose_from_petition(petition_id=petition.pk, actor=community_staff)
    with pytest.raises(ApplicationError, match="已转为议题"):
        topic_propose_from_petition(petition_id=petition.pk, actor=community_staff)


def test_an_outsider_cannot_refer_a_petition_and_no_topic_is_left(petition, outsider):
    with pytest.raises(Http404):
        topic_propose_from_petition(petition_id=petition.pk, actor=outsider)
    assert not Topic.objects.exists()


def test_a_grid_worker_of_the_petitions_grid_refers_it(petition, grid_worker):
    topic = topic_propose_from_petition(petition_id=petition.pk, actor=grid_worker)
    petition.refresh_from_db()
    assert (petition.state, petition.deliberation_topic_id) == ("referred", topic.pk)


def test_a_micro_grid_worker_is_refused_and_no_topic_is_left(petition, microgrid_worker):
    # petitions decides who may refer (grid level and up); the topic is rolled back with it.
    with pytest.raises((PermissionDeniedError, Http404), match="您无权进行此操作"):
        topic_propose_from_petition(petition_id=petition.pk, actor=microgrid_worker)
    assert not Topic.objects.exists()
    petition.refresh_from_db()
    assert petition.state != "referred"


def test_staff_refer_a_petition_from_the_dashboard(client, petition, community_staff):
    from django.urls import reverse

    client.force_login(community_staff)
    response = client.post(reverse("deliberation:topic-from-petition"),
                           {"petition_id": petition.pk})
    topic = Topic.objects.get()
    assert response.url == reverse("deliberation:topic-detail", args=[topic.pk])
    page = client.post(reverse("deliberation:topic-from-petition"), {"petition_id": 999999},
                       follow=True).content.decode()
    assert "找不到该诉求" in page


def test_the_api_refers_a_petition(petition, community_staff):
    from django.urls import reverse
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(community_staff)
    response = api.post(reverse("api:deliberation-topic-from-petition"),
                        {"petition_id": petition.pk})
    assert response.status_code == 201
    assert response.json()["petition_id"] == petition.pk


def test_a_referred_petitions_pages_link_to_its_topic(client, petition, community_staff,
                                                       resident_user):
    from django.urls import reverse

    topic = topic_propose_from_petition(petition_id=petition.pk, actor=community_staff)
    topic_url = reverse("deliberation:topic-detail", args=[topic.pk])
    for user, page in ((resident_user, "petitions:detail"),
                       (community_staff, "petitions:staff-detail")):
        client.force_login(user)
        html = client.get(reverse(page, args=[petition.pk])).content.decode()
        assert f'href="{topic_url}"' in html, page
        assert client.get(topic_url).status_code == 200
