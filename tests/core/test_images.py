from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core.images import photo_reencode


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (40, 30), "red")
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0)}
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def test_it_reencodes_a_photo_and_drops_its_exif():
    cleaned = photo_reencode(SimpleUploadedFile("a.jpg", _jpeg_with_gps()))
    with Image.open(io.BytesIO(cleaned.read())) as image:
        assert image.format == "JPEG"
        assert not image.getexif()


def test_html_appended_to_a_png_is_not_stored():
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10), "blue").save(buffer, format="PNG")
    payload = buffer.getvalue() + b"<script>alert(1)</script>"
    cleaned = photo_reencode(SimpleUploadedFile("x.png", payload))
    assert b"<script>" not in cleaned.read()


@pytest.mark.parametrize("payload", [b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"GIF89a\x00"])
def test_it_refuses_what_is_not_a_photo(payload):
    with pytest.raises(ValidationError) as error:
        photo_reencode(SimpleUploadedFile("x.jpg", payload))
    assert error.value.code == "invalid_image"


def test_it_refuses_an_oversize_file(settings):
    settings.PHOTO_MAX_BYTES = 1000
    with pytest.raises(ValidationError) as error:
        photo_reencode(SimpleUploadedFile("a.jpg", _jpeg_with_gps() + b"\0" * 2000))
    assert error.value.code == "too_large"
