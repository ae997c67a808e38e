"""Photos from residents and staff: check type and size, re-encode the pixels, drop EXIF.

Django's ImageField accepts a PNG with HTML appended, so every upload is decoded by Pillow and
written anew as JPEG (or PNG when it has transparency). Only the re-encoded pixels are stored;
the original bytes, EXIF (GPS included) and any trailer are dropped.

Decoding is bounded by memory, not only by pixel count: a 155 KB PNG can declare 6320×6320 RGBA,
160 MB of pixels once decoded. Before any pixel is decoded, the bytes the decode will take
(pixels × Pillow's bytes a pixel, plus what the codec holds) are checked against
MAX_DECODE_BYTES. A JPEG over it is decoded at 1/2, 1/4 or 1/8 scale instead (libjpeg's DCT
scaling), so a phone photo of any resolution passes; any other picture over it is refused. A JPEG
at twice the stored size or more is decoded at such a scale anyway: it is cheaper by the square.
"""

from __future__ import annotations

import base64
import io
import os
import uuid
from typing import IO, Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import models
from django.utils.translation import gettext as _
from PIL import Image, ImageMode, ImageOps, UnidentifiedImageError
from PIL.JpegImagePlugin import JpegImageFile

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "MPO"}
MAX_PIXELS = 40_000_000  # declared in the header; a JPEG may have more (it decodes scaled down)
MAX_CAMERA_PIXELS = 80_000_000  # a JPEG: above a 64 MP phone's full-resolution mode
# The stored photo's long side. A complaint photo is looked at on a phone or a workbench, never
# printed: 1600 px shows a crack or a pile of rubbish plainly. At 2560 nothing a phone sends
# shrank much, so each upload was decoded whole and written whole (issue #16); at 1600 a photo
# of twice that or more (a 12 MP phone's 4032×3024) decodes at 1/2 or 1/4 scale straight from
# the DCT, and every photo is written at under half the pixels.
MAX_SIDE = 1600
# ... and a JPEG decodes straight from the DCT at ½, ¼ or ⅛ scale while its long side stays at
# least this: a 2400×1800 phone photo decodes at 1200×900 and is stored so (a full decode and a
# 1.5× resize cost 40 ms of CPU; the ½-scale decode alone 19 ms), a 4032×3024 one at 2016×1512
# and is scaled to 1600. 1200 px is a phone screen's width at full resolution.
MIN_DRAFT_SIDE = 1200
# Downscaling filter. HAMMING costs what BILINEAR does and comes closer to LANCZOS (on a 1.5×
# reduction: 42.8 dB against 39.4 for bilinear and 35.8 for box, under what a JPEG at quality 85
# loses anyway); BICUBIC costs half again as much CPU. reducing_gap: a reduction of 4× or more
# first goes through Image.reduce (an exact box average, a few times cheaper), the filter after.
RESAMPLE = Image.Resampling.HAMMING
REDUCING_GAP = 2.0
JPEG_QUALITY = 85
# A 12 MP phone photo (4032×3024, 4 bytes a pixel in Pillow) decodes at full size within it;
# each upload's peak stays near twice this (the decode plus the scaled copy).
MAX_DECODE_BYTES = 48 * 1024 * 1024
DCT_SCALES = (1, 2, 4, 8)
# Decoders that hold their own copies of the pixels beside Pillow's: libwebp keeps the canvas
# and hands Pillow a copy of the frame.
CODEC_COPIES = {"WEBP": 3}
# Pillow frees a picture's memory to malloc, and glibc hands it back to the kernel once a photo's
# ~37 MB (the decode, the scaler's intermediate, the result) comes free at once: the next photo
# page-faults all of it in again, 12 of its 55 ms of CPU. Pillow's arena keeps freed blocks for
# the next picture instead; in 1 MB blocks (not its 16 MB) they fit any picture's rows without a
# realloc. Pillow trims a kept block to the block size, so a process holds at most 48 MB once it
# has handled a photo. PILLOW_BLOCKS_MAX or PILLOW_BLOCK_SIZE in the environment overrides this.
ARENA_BLOCK_BYTES = 1024 * 1024
ARENA_BLOCKS_KEPT = 48
if not {"PILLOW_BLOCKS_MAX", "PILLOW_BLOCK_SIZE"} & os.environ.keys():
    # Image.core: the C module, where Pillow's docs point; its stubs do not re-export it.
    Image.core.set_block_size(ARENA_BLOCK_BYTES)  # type: ignore[attr-defined]
    Image.core.set_blocks_max(ARENA_BLOCKS_KEPT)  # type: ignore[attr-defined]


class PhotoFormField(forms.FileField):
    """For a model ImageField edited in the admin: the upload goes through photo_reencode, so
    the admin stores the same clean pixels as the services (Django's ImageField would keep the
    original bytes, trailer and EXIF included)."""

    def to_python(self, data: File[Any] | None) -> ContentFile[bytes] | None:
        upload = super().to_python(data)
        return None if upload is None else photo_reencode(upload)


# A ModelAdmin's formfield_overrides for a model with an ImageField.
ADMIN_PHOTO_OVERRIDES: dict[type[models.Field[Any, Any]], dict[str, Any]] = {
    models.ImageField: {"form_class": PhotoFormField},
}


def photo_reencode(upload: File[Any]) -> ContentFile[bytes]:
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
    # In place and only as needed: each copy of a large picture is tens of MB more at the peak.
    image.thumbnail((MAX_SIDE, MAX_SIDE), resample=RESAMPLE, reducing_gap=REDUCING_GAP)
    ImageOps.exif_transpose(image, in_place=True)
    mode, extension = ("RGBA", "png") if has_alpha else ("RGB", "jpg")
    if image.mode != mode:
        image = image.convert(mode)
    output = io.BytesIO()
    # Neither optimize (a second pass over the picture for a few % fewer bytes) nor progressive.
    if has_alpha:
        image.save(output, format="PNG")
    else:
        image.save(output, format="JPEG", quality=JPEG_QUALITY)
    return ContentFile(output.getvalue(), name=f"{uuid.uuid4().hex}.{extension}")


THUMBNAIL_SIDE = 240


def photo_thumbnail_data_uri(handle: IO[bytes]) -> str:
    """A small JPEG of a photo photo_reencode stored, as a data: URI a page can show inline
    (a few KB: a pending upload is never served under /media/). Only for our own re-encoded
    files: their size is bounded, so the decode is."""
    with Image.open(handle) as image:
        image.draft("RGB", (THUMBNAIL_SIDE, THUMBNAIL_SIDE))  # JPEG: decode at a fraction
        image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        picture: Image.Image = image
        if image.mode in ("RGBA", "LA", "P"):
            picture = Image.new("RGB", image.size, "white")
            picture.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        output = io.BytesIO()
        picture.convert("RGB").save(output, format="JPEG", quality=70)
    return "data:image/jpeg;base64," + base64.b64encode(output.getvalue()).decode("ascii")


def _open_checked(data: bytes) -> Image.Image:
    invalid = ValidationError(_("请上传 JPEG、PNG 或 WebP 格式的照片。"), code="invalid_image")
    too_many_pixels = ValidationError(_("照片尺寸过大。"), code="too_many_pixels")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ALLOWED_FORMATS:
                raise invalid
            width, height = probe.size
            is_jpeg = probe.format in ("JPEG", "MPO")
            if width * height > (MAX_CAMERA_PIXELS if is_jpeg else MAX_PIXELS):
                raise too_many_pixels
            probe.verify()
        image = Image.open(io.BytesIO(data))
        _fit_decode_budget(image)
        image.load()
    except ValidationError:
        raise
    except Image.DecompressionBombError:  # a header declaring far more pixels than MAX_PIXELS
        raise too_many_pixels from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise invalid from None
    return image


def _fit_decode_budget(image: Image.Image) -> None:
    """Before any pixel is decoded: pick the JPEG scale that fits MAX_DECODE_BYTES, or refuse.

    A JPEG decodes at the coarsest DCT scale whose long side is still at least MIN_DRAFT_SIDE
    (or the stored size, when that is smaller: nothing is upscaled), or coarser if the budget
    demands it."""
    if isinstance(image, JpegImageFile):
        width, height = image.size
        floor = min(max(_stored_size(width, height)), MIN_DRAFT_SIDE)
        preferred = max(scale for scale in DCT_SCALES if max(width, height) // scale >= floor)
        for scale in (scale for scale in DCT_SCALES if scale >= preferred):
            if _decode_bytes(image, scale=scale) <= MAX_DECODE_BYTES:
                # draft() keeps at least the size it is given: asking for 1/scale gets 1/scale.
                image.draft(None, (max(1, width // scale), max(1, height // scale)))
                return
    elif _decode_bytes(image, scale=1) <= MAX_DECODE_BYTES:
        return
    raise ValidationError(_("照片尺寸过大。"), code="too_many_pixels")


def _stored_size(width: int, height: int) -> tuple[int, int]:
    """The size a picture is stored at: within MAX_SIDE on its long side, its aspect kept."""
    ratio = MAX_SIDE / max(width, height)
    if ratio >= 1:
        return width, height
    return max(1, round(width * ratio)), max(1, round(height * ratio))


def _decode_bytes(image: Image.Image, *, scale: int) -> int:
    """The memory a decode at 1/scale takes, from the header alone."""
    width, height = image.size
    mode = ImageMode.getmode(image.mode)
    # Pillow keeps every multi-band mode in 4 bytes a pixel (RGB as RGBX).
    pixel_bytes = 4 if len(mode.bands) > 1 else int(mode.typestr[2:])
    pixels = -(-width // scale) * -(-height // scale)
    copies = CODEC_COPIES.get(image.format or "", 1)
    if "A" in mode.bands:
        copies += 1  # scaling premultiplies the alpha into a second copy (RGBA -> RGBa)
    total = pixels * pixel_bytes * copies
    if isinstance(image, JpegImageFile) and image.info.get("progressive"):
        total += _coefficient_bytes(image)
    return total


def _coefficient_bytes(image: JpegImageFile) -> int:
    """libjpeg holds every DCT coefficient of a progressive JPEG, at full size, whatever the
    output scale: 2 bytes a sample of each component (chroma subsampled as the header says)."""
    width, height = image.size
    h_max = max(h_sampling for _, h_sampling, _, _ in image.layer)
    v_max = max(v_sampling for _, _, v_sampling, _ in image.layer)
    return sum(
        -(-width * h_sampling // h_max) * -(-height * v_sampling // v_max) * 2
        for _, h_sampling, v_sampling, _ in image.layer
    )
