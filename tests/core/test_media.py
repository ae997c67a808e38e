"""The media view's own promises (core.media): every uploaded-file field has an access rule, a
name is the storage's name exactly (no traversal), an unknown or missing file is a 404 like a
refusal. Each app's rule is tested in its own folder (tests/<app>/test_media.py)."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.files.storage import default_storage
from django.db import models
from django.test import Client, override_settings
from django.test.utils import isolate_apps

from core.media import (
    media_content_type,
    media_name_is_clean,
    media_register,
    media_registered_fields,
    upload_prefix,
)
from core.models import AuditEvent
from petitions.models import PetitionPhoto
from tests.petitions.factories import photo, submit

PROJECT_APPS = {"accounts", "core", "deliberation", "governance", "notifications", "petitions",
                "privacy", "reports", "residents", "territory", "volunteers"}


def test_every_file_field_of_the_project_has_an_access_rule():
    """A new upload field is closed (404 to all) until its app registers who may open it."""
    fields = {f"{model._meta.label_lower}.{field.name}"
              for model in apps.get_models() if model._meta.app_label in PROJECT_APPS
              for field in model._meta.get_fields() if isinstance(field, models.FileField)}
    assert fields == media_registered_fields() == {
        "petitions.petitionphoto.image", "deliberation.actionevidence.photo",
        "volunteers.microwish.fulfilment_photo", "petitions.pendingphoto.image",
        "reports.monthlyreport.file"}


@isolate_apps("core")
def test_a_field_whose_upload_prefix_overlaps_another_cannot_register():
    # "petitions/" already leads to PetitionPhoto.image; a second field under it would make a
    # name ambiguous (and the first rule could hand out the second field's files).
    class Scan(models.Model):
        file = models.FileField(upload_to="petitions/scans/%Y/")

        class Meta:
            app_label = "core"

        def __str__(self) -> str:
            return self.file.name

    assert upload_prefix(PetitionPhoto, "image") == "petitions/"
    with pytest.raises(ValueError, match=r"overlaps petitions\.petitionphoto\.image"):
        media_register(Scan, "file", access=lambda **kwargs: None)
    assert "core.scan.file" not in media_registered_fields()


@pytest.mark.parametrize("name", [
    "../config/settings/base.py", "petitions/../../etc/passwd", "/etc/passwd",
    "petitions//2026/x.jpg", "petitions/./x.jpg", "petitions\\x.jpg", "petitions/x.jpg\n",
    "petitions/..", "",
])
def test_a_name_that_is_not_a_plain_relative_path_is_not_clean(name):
    assert not media_name_is_clean(name)


def test_a_storage_name_is_clean():
    assert media_name_is_clean("petitions/2026/11/0123456789abcdef0123456789abcdef.jpg")


def test_only_image_types_are_served_inline():
    assert media_content_type("wishes/2026/11/a.JPG") == "image/jpeg"
    assert media_content_type("petitions/2026/11/a.png") == "image/png"
    assert media_content_type("petitions/2026/11/a.svg") == "application/octet-stream"
    assert media_content_type("petitions/2026/11/a.html") == "application/octet-stream"


@pytest.mark.django_db
@pytest.mark.parametrize("template", ["/media/petitions/../{name}", "/media/%2e%2e/media/{name}",
                                      "/media//{name}", "/media/./{name}"])
def test_a_traversal_to_a_stored_photo_is_refused_even_to_the_street_admin(
        template, territory, resident_user, street_admin):
    name = submit(resident_user, photos=[photo()]).photos.get().image.name
    client = Client()
    client.force_login(street_admin)
    assert client.get(f"/media/{name}").status_code == 200  # the street admin sees everything
    assert client.get(template.format(name=name)).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("accel", ["", "/protected-media/"])
def test_an_unknown_name_and_a_row_whose_file_is_gone_are_404s(accel, territory, resident_user,
                                                               street_admin):
    sent = submit(resident_user, photos=[photo()]).photos.get()
    client = Client()
    client.force_login(street_admin)
    assert client.get("/media/petitions/2026/11/" + "0" * 32 + ".jpg").status_code == 404
    assert client.get("/media/elsewhere/x.jpg").status_code == 404
    default_storage.delete(sent.image.name)
    with override_settings(MEDIA_ACCEL_REDIRECT=accel):
        assert client.get(sent.image.url).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.MEDIA_VIEW).exists()
