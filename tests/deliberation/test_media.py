"""Evidence photos of action items at /media/ (issue 12, item 1): opened by whoever may open the
topic page that links them (the compound's residents and staff) or the action item (its owner);
they show the work done, not a person, so opening one is not audited."""

from __future__ import annotations

import re

import pytest

from core.models import AuditEvent
from deliberation.services.topics import action_item_progress
from tests.deliberation.factories import ActionItemFactory
from tests.media_helpers import client_as
from tests.petitions.factories import photo

pytestmark = pytest.mark.django_db
EVIDENCE_LINK = re.compile(r'<a href="(/media/[^"]+)">')


@pytest.fixture
def evidence_url(topic, community_staff) -> str:
    item = ActionItemFactory(topic=topic)
    action_item_progress(item=item, actor=community_staff, progress=50, note="已开工",
                                  photo=photo("work.jpg"))
    return item.evidence.get().photo.url


def test_a_resident_of_the_compound_opens_the_evidence_the_topic_page_links(
        territory, topic, evidence_url, resident_user):
    client = client_as(resident_user)
    links = EVIDENCE_LINK.findall(client.get(f"/deliberation/topics/{topic.pk}/")
                                  .content.decode())
    assert links == [evidence_url]
    assert client.get(evidence_url).status_code == 200
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.MEDIA_VIEW).exists()


def test_another_compounds_resident_staff_out_of_scope_and_visitors_get_a_404(
        territory, evidence_url, other_resident, outsider):
    assert client_as(other_resident).get(evidence_url).status_code == 404
    assert client_as(outsider).get(evidence_url).status_code == 404
    assert client_as().get(evidence_url).status_code == 404


def test_the_action_items_owner_opens_its_evidence_from_outside_the_compound(
        territory, topic, evidence_url, other_resident):
    topic.action_items.update(owner_user=other_resident)
    assert client_as(other_resident).get(evidence_url).status_code == 200
