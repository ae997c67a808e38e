"""Photos survive a refused petition form (issue 13, item 1): the re-encoded photo is kept for
the resident who sent it, shown back as 已上传 with a thumbnail, and attached when the form
goes through; another resident's token is refused; a day later an unused one is purged."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from petitions import pending_photos
from petitions.models import PendingPhoto, Petition
from petitions.tasks import petitions_pending_photos_purge_task
from tests.petitions.factories import category, photo

pytestmark = pytest.mark.django_db

CREATE = reverse("petitions:create")
TOKEN = re.compile(r'name="held_photo" value="([^"]+)"')


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_data(territory: Any, **overrides: Any) -> dict[str, Any]:
    data = {"category": category().pk, "description": "楼道灯坏了",
            "compound": territory.compound.pk, "building": territory.building1.pk,
            "unit": territory.unit1.pk,
            "household": territory.household1.pk, "location_text": ""}
    return data | overrides


def test_a_refused_form_keeps_the_photos_and_the_next_submit_attaches_them(
        territory, resident_user):
    client = client_for(resident_user)
    refused = client.post(CREATE, form_data(territory, description="",
                                            photos=[photo("a.jpg"), photo("b.jpg")]))
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "请填写诉求内容。" in page
    assert page.count("已上传") >= 2
    assert page.count('src="data:image/jpeg;base64,') == 2  # thumbnails, no /media/ URL
    tokens = TOKEN.findall(page)
    assert len(tokens) == 2
    assert all(len(token) >= 40 for token in tokens)  # unguessable
    # The resident keeps the first photo only (the second's box unticked) and submits.
    response = client.post(CREATE, form_data(territory, held_photo=[tokens[0]]))
    assert response.status_code == 302, response.content
    petition = Petition.objects.get()
    [attached] = petition.photos.all()
    assert default_storage.exists(attached.image.name)
    assert attached.uploaded_by == resident_user
    assert attached.event.kind == "submitted"
    assert list(PendingPhoto.objects.values_list("token", flat=True)) == [tokens[1]]


def test_a_kept_photo_counts_towards_the_three(territory, resident_user):
    client = client_for(resident_user)
    refused = client.post(CREATE, form_data(territory, description="",
                                            photos=[photo("a.jpg"), photo("b.jpg")]))
    tokens = TOKEN.findall(refused.content.decode())
    response = client.post(CREATE, form_data(territory, held_photo=tokens,
                                             photos=[photo("c.jpg"), photo("d.jpg")]))
    assert response.status_code == 400
    assert "最多上传 3 张照片。" in response.content.decode()
    assert not Petition.objects.exists()


def test_another_residents_token_is_refused(territory, resident_user, other_resident):
    refused = client_for(resident_user).post(CREATE, form_data(territory, description="",
                                                               photos=[photo()]))
    [token] = TOKEN.findall(refused.content.decode())
    other = client_for(other_resident)
    response = other.post(CREATE, {"category": category().pk, "description": "占用通道",
                                    "location_text": "小区东门", "held_photo": [token]})
    assert response.status_code == 302
    assert not Petition.objects.get().photos.exists()
    assert PendingPhoto.objects.get().token == token  # still the first resident's
    assert pending_photos.pending_photo_list(actor=other_resident, tokens=[token]) == []


def test_unused_photos_are_purged_after_a_day_and_a_second_purge_is_harmless(
        resident_user):
    [old] = pending_photos.pending_photos_hold(actor=resident_user, photos=[photo()]).photos
    with time_machine.travel(timezone.now() + timedelta(hours=20), tick=False):
        [fresh] = pending_photos.pending_photos_hold(actor=resident_user,
                                                     photos=[photo()]).photos
    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        assert petitions_pending_photos_purge_task.delay().get() == 1
        assert petitions_pending_photos_purge_task.delay().get() == 0
    assert not default_storage.exists(old.image.name)
    assert default_storage.exists(fresh.image.name)
    assert list(PendingPhoto.objects.all()) == [fresh]
    entry = settings.CELERY_BEAT_SCHEDULE["petitions-pending-photos-purge"]
    assert entry["task"] == petitions_pending_photos_purge_task.name


def test_a_deleted_account_leaves_no_pending_photo(resident_user):
    from privacy.services import account_anonymise

    [kept] = pending_photos.pending_photos_hold(actor=resident_user, photos=[photo()]).photos
    account_anonymise(user=resident_user)
    assert not PendingPhoto.objects.exists()
    assert not default_storage.exists(kept.image.name)


def test_a_kept_photo_does_not_open_through_media_until_a_petition_holds_it(territory,
                                                                          resident_user):
    client = client_for(resident_user)
    client.post(CREATE, form_data(territory, description="", photos=[photo("a.jpg")]))
    [pending] = PendingPhoto.objects.all()
    assert default_storage.exists(pending.image.name)

    assert client.get(f"/media/{pending.image.name}").status_code == 404
