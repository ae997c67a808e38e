"""A micro-wish's fulfilment photo at /media/ (issue 12, item 1): opened by whoever may open the
wish (its resident, the member who fulfilled it, staff in scope); it shows a resident's home or
person, so staff opening it is audited."""

from __future__ import annotations

import re

import pytest

from tests.media_helpers import client_as, media_views
from tests.petitions.factories import photo
from tests.volunteers.conftest import resident_account
from volunteers.services import wishes

pytestmark = pytest.mark.django_db
IMG_SRC = re.compile(r'<img src="(/media/[^"]+)"')


@pytest.fixture
def wish(territory, cast, community_staff, resident_user):
    wish = wishes.micro_wish_submit(resident=resident_user.residents.get(), title="想要助行器")
    wishes.micro_wish_publish(wish=wish, actor=community_staff)
    wishes.micro_wish_claim(wish=wish, user=cast.member_user)
    wishes.micro_wish_fulfil(wish=wish, user=cast.member_user, note="已送到",
                             photo=photo("delivered.jpg"))
    wish.refresh_from_db()
    return wish


def test_the_wisher_and_the_member_who_fulfilled_it_open_the_photo_their_page_shows(
        wish, resident_user, cast):
    for user in (resident_user, cast.member_user):
        client = client_as(user)
        shown = IMG_SRC.findall(client.get(f"/volunteers/wishes/{wish.pk}/").content.decode())
        assert shown == [wish.fulfilment_photo.url]
        assert client.get(shown[0]).status_code == 200
    assert media_views() == []


def test_staff_in_scope_open_it_audited(wish, community_staff):
    assert client_as(community_staff).get(wish.fulfilment_photo.url).status_code == 200
    assert media_views() == [("community", "volunteers.microwish", ["fulfilment_photo"])]


def test_a_neighbour_staff_out_of_scope_and_visitors_get_a_404(territory, wish, outsider):
    neighbour = resident_account(territory, "neighbour", household=territory.household2)
    for user in (neighbour, outsider, None):
        assert client_as(user).get(wish.fulfilment_photo.url).status_code == 404
    assert media_views() == []
