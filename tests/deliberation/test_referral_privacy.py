"""A petition referred to deliberation: its own words and its petitioner stay in the petition.

The leak scan's referral check (issue 10, item 2). A topic is read by every resident of the
compound (API, pages), its agenda line by anyone holding the iCal feed's URL. A petition the
resident did not agree to publish, or filed anonymously, is referred with a neutral title and
text written by staff and the proposer "居民"; every referral path (the petitions dashboard and
API, the deliberation dashboard and API) is walked, then every topic-facing output is scanned
for the petition's text and the petitioner's name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from core.exceptions import ApplicationError
from deliberation.models import Need, Topic
from deliberation.services.topics import _topic_create, topic_propose_from_petition, topic_schedule
from petitions.models import Petition
from tests.petitions.factories import submit

pytestmark = pytest.mark.django_db

PRIVATE_TEXT = "3号楼502的老张天天半夜装修，吵得睡不着，不要让他知道是我反映的"
PETITIONER = "王阿姨"
NEUTRAL_TITLE = "夜间装修噪声管理"
NEUTRAL_TEXT = "有居民反映夜间装修噪声扰民，提请议事会商定装修时段公约。"


def private_petition(territory, resident_user, **fields: Any) -> Petition:
    fields = {"is_public": False, "is_anonymous": False} | fields
    return submit(resident_user, household=territory.household1, description=PRIVATE_TEXT,
                  contact_name=PETITIONER, **fields)


def _session_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def refer_on_the_deliberation_page(staff, petition: Petition, texts: dict[str, str]) -> None:
    _session_client(staff).post(reverse("deliberation:topic-from-petition"),
                                {"petition_id": petition.pk, **texts})


def refer_through_the_deliberation_api(staff, petition: Petition, texts: dict[str, str]) -> None:
    _api_client(staff).post(reverse("api:deliberation-topic-from-petition"),
                            {"petition_id": petition.pk, **texts}, format="json")


def refer_on_the_petition_page(staff, petition: Petition, texts: dict[str, str]) -> None:
    _session_client(staff).post(reverse("petitions:staff-refer", args=[petition.pk]),
                                {"note": "需居民议事", **texts})


def refer_through_the_petitions_api(staff, petition: Petition, texts: dict[str, str]) -> None:
    _api_client(staff).post(reverse("api:petition-refer", args=[petition.pk]),
                            {"note": "需居民议事", **texts}, format="json")


REFERRAL_PATHS: list[Callable[..., None]] = [
    refer_on_the_deliberation_page, refer_through_the_deliberation_api,
    refer_on_the_petition_page, refer_through_the_petitions_api,
]
NEUTRAL = {"title": NEUTRAL_TITLE, "description": NEUTRAL_TEXT}


def topic_facing_outputs(topic: Topic, *, reader, session) -> dict[str, str]:
    """Everything a resident of the compound, or anyone with the feed's URL, reads of a topic."""
    resident, api, anonymous = _session_client(reader), _api_client(reader), Client()
    compound_id = topic.compound_id
    outputs = {
        "topic page": resident.get(reverse("deliberation:topic-detail", args=[topic.pk])),
        "deliberation home": resident.get(reverse("deliberation:home")),
        "session page": resident.get(reverse("deliberation:session-detail", args=[session.pk])),
        "inbox": resident.get(reverse("notifications:inbox")),
        "topic list API": api.get(reverse("api:deliberation-topic-list")),
        "topic API": api.get(reverse("api:deliberation-topic-detail", args=[topic.pk])),
        "needs API": api.get(reverse("api:deliberation-need-list")),
        "session API": api.get(reverse("api:deliberation-session-detail", args=[session.pk])),
        "iCal feed": anonymous.get(reverse("deliberation:compound-calendar",
                                           args=[compound_id])),
    }
    texts = {}
    for where, response in outputs.items():
        assert response.status_code == 200, where
        texts[where] = response.content.decode()
    return texts


def assert_no_petition_words(texts: dict[str, str]) -> None:
    fragments = (PRIVATE_TEXT, PRIVATE_TEXT[:12], "不要让他知道", "老张", PETITIONER)
    leaks = [(where, fragment) for where, text in texts.items() for fragment in fragments
             if fragment in text]
    assert not leaks, leaks


@pytest.mark.parametrize("refer", REFERRAL_PATHS, ids=lambda refer: refer.__name__)
@pytest.mark.parametrize("kind", ["not public", "anonymous"])
def test_a_private_petition_referred_by_any_path_publishes_only_the_staffs_neutral_text(
        territory, resident_user, community_staff, neighbour, session, refer, kind):
    fields = {"is_anonymous": True, "is_public": True} if kind == "anonymous" else {}
    petition = private_petition(territory, resident_user, **fields)
    refer(community_staff, petition, NEUTRAL)
    topic = Topic.objects.get(petition_id=petition.pk)
    assert (topic.title, topic.description, topic.proposer_name) == (
        NEUTRAL_TITLE, NEUTRAL_TEXT, "居民")
    # Scheduled, so the agenda (session page, iCal feed) carries its line too.
    topic_schedule(topic=topic, session=session, actor=community_staff)
    texts = topic_facing_outputs(topic, reader=neighbour, session=session)
    assert NEUTRAL_TITLE in texts["topic page"] and NEUTRAL_TITLE in texts["iCal feed"]
    assert NEUTRAL_TEXT in texts["topic API"]
    assert_no_petition_words(texts)
    petition.refresh_from_db()
    assert petition.state == Petition.State.REFERRED


@pytest.mark.parametrize("refer", REFERRAL_PATHS, ids=lambda refer: refer.__name__)
def test_a_private_petition_is_not_referred_without_a_title_and_text_written_by_staff(
        territory, resident_user, community_staff, refer):
    petition = private_petition(territory, resident_user)
    refer(community_staff, petition, {"title": NEUTRAL_TITLE})
    assert not Topic.objects.exists()
    assert not Need.objects.exists()
    petition.refresh_from_db()
    assert petition.state != Petition.State.REFERRED


def test_the_refusal_says_in_chinese_what_staff_must_write(territory, resident_user,
                                                           community_staff):
    petition = private_petition(territory, resident_user)
    with pytest.raises(ApplicationError, match="议题名称和说明"):
        topic_propose_from_petition(petition_id=petition.pk, actor=community_staff)
    api = _api_client(community_staff)
    response = api.post(reverse("api:petition-refer", args=[petition.pk]), {}, format="json")
    assert response.status_code == 400
    assert "议题名称和说明" in response.json()["message"]


@pytest.mark.parametrize("copied", [
    {"title": NEUTRAL_TITLE, "description": PRIVATE_TEXT},
    {"title": NEUTRAL_TITLE, "description": "据反映：" + PRIVATE_TEXT[6:24] + "。"},
    {"title": f"{PETITIONER}反映的装修问题", "description": NEUTRAL_TEXT},
], ids=["the whole text", "a passage", "the petitioner's name"])
def test_staff_may_not_copy_the_petitions_words_or_name_into_the_topic(
        territory, resident_user, community_staff, copied):
    petition = private_petition(territory, resident_user)
    with pytest.raises(ApplicationError, match="不能引用诉求原文"):
        topic_propose_from_petition(petition_id=petition.pk, actor=community_staff,
                                             **copied)
    assert not Topic.objects.exists()


def test_a_public_petition_is_referred_with_its_text_as_the_public_page_shows_it(
        territory, resident_user, community_staff, neighbour, session):
    # The resident agreed to publish the text "with personal data removed" (the 公示 page: digit
    # runs starred, no names): the topic says no more than that page.
    petition = submit(resident_user, household=territory.household1, contact_name=PETITIONER,
                      is_public=True, description="小区充电桩太少，请联系13812345678，我住502")
    topic = topic_propose_from_petition(petition_id=petition.pk, actor=community_staff)
    assert topic.proposer_name == "居民"
    assert topic.description == "小区充电桩太少，请联系***********，我住***"
    assert "充电桩" in topic.title and "502" not in topic.title
    topic_schedule(topic=topic, session=session, actor=community_staff)
    texts = topic_facing_outputs(topic, reader=neighbour, session=session)
    leaks = [where for where, text in texts.items()
             if PETITIONER in text or "13812345678" in text or "我住502" in text]
    assert not leaks


def test_staff_text_replaces_a_public_petitions_own_words_when_given(
        territory, resident_user, community_staff):
    petition = submit(resident_user, household=territory.household1, is_public=True,
                      description="小区充电桩太少")
    topic = topic_propose_from_petition(
        petition_id=petition.pk, actor=community_staff, title="充电设施扩容",
        description="提请议事会商定充电桩扩容方案。")
    assert (topic.title, topic.description) == ("充电设施扩容", "提请议事会商定充电桩扩容方案。")


@pytest.mark.parametrize("refer", [refer_on_the_petition_page, refer_through_the_petitions_api],
                         ids=lambda refer: refer.__name__)
def test_the_staff_note_of_a_referral_reaches_the_petitions_timeline(
        territory, resident_user, community_staff, refer):
    petition = private_petition(territory, resident_user)
    refer(community_staff, petition, NEUTRAL)
    event = petition.events.get(kind="referred")
    assert NEUTRAL_TITLE in event.note and "需居民议事" in event.note


def test_topics_referred_before_the_rule_are_reworded_by_the_redact_command(
        territory, resident_user, community_staff, neighbour, session):
    # A topic as the old referral wrote it: the petition's words, its petitioner as proposer,
    # an agenda line and a need copied from it. The command rewrites all three, once.
    from io import StringIO

    from django.core.management import call_command

    from deliberation.models import AgendaItem
    from petitions.services import petition_refer_to_deliberation

    petition = private_petition(territory, resident_user)
    petition_refer_to_deliberation(petition_id=petition.pk, actor=community_staff)
    old = _topic_create(
        compound_id=territory.compound.pk, title=f"诉求转议：{PRIVATE_TEXT[:40]}",
        description=PRIVATE_TEXT, scale=Topic.Scale.BIG, channel=Topic.Channel.PETITION,
        proposer_name=PETITIONER, recorded_by=community_staff, petition_id=petition.pk)
    topic_schedule(topic=old, session=session, actor=community_staff)
    ruled = topic_propose_from_petition(
        petition_id=private_petition(territory, resident_user).pk, actor=community_staff,
        **NEUTRAL)
    output = StringIO()
    call_command("referral_topics_redact", stdout=output)
    assert output.getvalue() == "已改写 1 个诉求转议议题。\n"
    old.refresh_from_db()
    assert old.proposer_name == "居民" and old.description == ""
    assert AgendaItem.objects.get(topic=old).title == old.title
    assert Need.objects.get(topic=old).title == old.title
    assert_no_petition_words(topic_facing_outputs(old, reader=neighbour, session=session))
    # A topic written by the rule was left alone; a second run changes nothing.
    ruled.refresh_from_db()
    assert (ruled.title, ruled.description) == (NEUTRAL_TITLE, NEUTRAL_TEXT)
    output = StringIO()
    call_command("referral_topics_redact", stdout=output)
    assert output.getvalue() == "已改写 0 个诉求转议议题。\n"
