"""A meeting's online link is shown to residents as a link: only http(s) URLs are stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from deliberation.models import Session
from deliberation.services.sessions import session_call_joint


def call(territory, actor, link: str) -> Session:
    return session_call_joint(
        compound=territory.compound, actor=actor, title="线上议事",
        starts_at=timezone.now() + timedelta(days=2), mode=Session.Mode.ONLINE,
        online_link=link)


@pytest.mark.parametrize("link", ["javascript:alert(1)", " javascript:alert(1)",
                                  "JaVaScRiPt:alert(1)", "data:text/html,<script>1</script>",
                                  "vbscript:x", "//evil.example/x"])
def test_a_meeting_link_that_is_not_http_is_refused(territory, community_staff, link):
    with pytest.raises(ValidationError, match="线上会议链接须以 http:// 或 https:// 开头") as error:
        call(territory, community_staff, link)
    assert "http://" in str(error.value.message_dict["online_link"])
    assert not Session.objects.exists()


def test_an_https_meeting_link_is_kept(territory, community_staff):
    session = call(territory, community_staff, "https://meeting.tencent.com/dm/abc")
    assert session.online_link == "https://meeting.tencent.com/dm/abc"


def test_the_joint_meeting_page_shows_why_a_link_is_refused(territory, community_staff, client):
    client.force_login(community_staff)
    response = client.post("/deliberation/staff/sessions/create/", {
        "compound": territory.compound.pk, "title": "线上议事",
        "starts_at": (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "mode": Session.Mode.ONLINE, "online_link": "javascript:alert(1)",
        "invited_bodies": ["party_branch"]})
    assert response.status_code == 400
    assert "线上会议链接须以 http:// 或 https:// 开头" in response.content.decode()
