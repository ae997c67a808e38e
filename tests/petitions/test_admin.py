from __future__ import annotations

import pytest
from django.urls import reverse

from petitions import services
from petitions.models import Petition
from tests.petitions.factories import submit

pytestmark = pytest.mark.django_db


def listed_ids(response):
    assert response.status_code == 200
    return {petition.pk for petition in response.context["cl"].result_list}


def test_the_changelist_masks_phones_and_filters_by_state(client, street_admin, resident_user,
                                                          django_assert_max_num_queries):
    waiting = {submit(resident_user).pk for _ in range(2)}
    rejected = submit(resident_user)
    services.petition_reject(petition_id=rejected.pk, actor=street_admin, reason="重复提交")
    client.force_login(street_admin)
    url = reverse("admin:petitions_petition_changelist")
    assert listed_ids(client.get(url)) == {*waiting, rejected.pk}
    with django_assert_max_num_queries(12):
        response = client.get(url, {"state__exact": "submitted"})
    assert listed_ids(response) == waiting
    content = response.content.decode()
    assert "138****1111" in content
    assert "13800001111" not in content


def test_the_change_page_shows_the_timeline(client, street_admin, resident_user):
    petition = submit(resident_user)
    client.force_login(street_admin)
    response = client.get(reverse("admin:petitions_petition_change", args=[petition.pk]))
    assert response.status_code == 200
    assert "办理时间线" in response.content.decode()


def test_the_escalate_action_calls_the_service(client, street_admin, resident_user,
                                               grid_worker):
    petition = submit(resident_user)
    client.force_login(street_admin)
    response = client.post(reverse("admin:petitions_petition_changelist"),
                           {"action": "escalate_by_hand", "_selected_action": [petition.pk]},
                           follow=True)
    assert response.status_code == 200
    petition.refresh_from_db()
    assert (petition.tier, petition.holder_id) == ("grid", grid_worker.pk)
    assert petition.events.filter(kind="escalated", actor=street_admin).exists()


def test_an_action_that_breaks_a_rule_shows_the_chinese_error(client, street_admin,
                                                              resident_user):
    petition = submit(resident_user)
    client.force_login(street_admin)
    response = client.post(reverse("admin:petitions_petition_changelist"),
                           {"action": "close", "_selected_action": [petition.pk]}, follow=True)
    assert "不能从" in response.content.decode()
    assert Petition.objects.get(pk=petition.pk).state == "submitted"


def test_the_change_page_of_an_anonymous_petition_never_names_the_submitter(
        client, street_admin, resident_user, microgrid_worker):
    # The submitter field and the timeline's actor column would print the account's name.
    petition = submit(resident_user, is_anonymous=True)
    client.force_login(street_admin)
    response = client.get(reverse("admin:petitions_petition_change", args=[petition.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "王阿姨" not in content
    assert "匿名" in content
    response = client.get(reverse("admin:petitions_petitionevent_changelist"))
    assert response.status_code == 200
    assert "王阿姨" not in response.content.decode()
