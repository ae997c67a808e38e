"""Photos from residents and staff: check type and size, re-encode the pixels, drop EXIF.

Django's ImageField accepts a PNG with HTML appended, so every upload is decoded by Pillow and
written anew as JPEG (or PNG when it has transparency). Only the re-encoded pixels are stored;
the original bytes, EXIF (GPS included) and any trailer are dropped.
"""

from __future__ import annotations

import io
import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "MPO"}
MAX_PIXELS = 40_000_000
MAX_SIDE = 2560


class PhotoFormField(forms.FileField):
    """For a model ImageField edited in the admin: the upload goes through photo_reencode, so
    the admin stores the same clean pixels as the services (Django's ImageField would keep the
    original bytes, trailer and EXIF included)."""

    def to_python(self, data: Any) -> ContentFile | None:
        upload = super().to_python(data)
        return None if upload is None else photo_reencode(upload)


# A ModelAdmin's formfield_overrides for a model with an ImageField.
ADMIN_PHOTO_OVERRIDES: dict[type[models.Field[Any, Any]], dict[str, Any]] = {
    models.ImageField: {"form_class": PhotoFormField},
}


def photo_reencode(upload: UploadedFile) -> ContentFile:
    """Return a clean ContentFile of the photo, or raise ValidationError in Chinese."""
    max_bytes = settings.PHOTO_MAX_BYTES
    if upload.size is not None and upload.size > max_bytes:
        raise ValidationError(
            _("照片不能超过 %(mb)s MB。") % {"mb": max_bytes // (1024 * 1024)}, code="too_large"
        )
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValidationError(
            _("照片不能超过 %(mb)s MB。") % {"mb": max_bytes // (1024 * 1024)}, code="too_large"
        )
    image = _open_checked(data)
    has_alpha = image.mode in ("RGBA", "LA") or "transparency" in image.info
    image = ImageOps.exif_transpose(image)
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    output = io.BytesIO()
    if has_alpha:
        image.convert("RGBA").save(output, format="PNG", optimize=True)
        extension = "png"
    else:
        image.convert("RGB").save(output, format="JPEG", quality=85, optimize=True)
        extension = "jpg"
    return ContentFile(output.getvalue(), name=f"{uuid.uuid4().hex}.{extension}")


def _open_checked(data: bytes) -> Image.Image:
    invalid = ValidationError(_("请上传 JPEG、PNG 或 WebP 格式的照片。"), code="invalid_image")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ALLOWED_FORMATS:
                raise invalid
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise ValidationError(_("照片尺寸过大。"), code="too_many_pixels")
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except ValidationError:
        raise
    except Image.DecompressionBombError:  # a header declaring far more pixels than MAX_PIXELS
        raise ValidationError(_("照片尺寸过大。"), code="too_many_pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise invalid from None
    return image
