from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core import images
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
    with pytest.raises(ValidationError, match="请上传 JPEG、PNG 或 WebP 格式的照片") as error:
        photo_reencode(SimpleUploadedFile("x.jpg", payload))
    assert error.value.code == "invalid_image"


def test_it_refuses_an_oversize_file(settings):
    settings.PHOTO_MAX_BYTES = 1000
    with pytest.raises(ValidationError, match="照片不能超过 0 MB") as error:
        photo_reencode(SimpleUploadedFile("a.jpg", _jpeg_with_gps() + b"\0" * 2000))
    assert error.value.code == "too_large"


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _transparent_png(width: int, height: int) -> bytes:
    """A complete, valid RGBA PNG of zeros, built row by row (the zeros compress ~1000:1)."""
    compressor = zlib.compressobj(9)
    row = b"\0" * (1 + width * 4)
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", pixels)
        + _png_chunk(b"IEND", b"")
    )


def _pixel_bytes_allocated_by_pillow(action: Callable[[], object]) -> int:
    """The bytes of pixel memory Pillow's arena handed out while `action` ran.

    tracemalloc cannot see them: Pillow takes its pixel blocks from malloc, not from Python's
    allocator, so its own arena counters are the measure.
    """
    before = Image.core.get_stats()
    action()
    after = Image.core.get_stats()
    blocks = sum(after[key] - before[key] for key in ("allocated_blocks", "reused_blocks"))
    return blocks * Image.core.get_block_size()


def _jpeg(size: tuple[int, int], **options: Any) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise(size, 40).convert("RGB").save(buffer, format="JPEG", **options)
    return buffer.getvalue()


def test_a_small_png_declaring_160_mb_of_pixels_is_refused_before_decoding(settings):
    # 6320×6320 RGBA: under MAX_PIXELS, 155 KB on the wire, 160 MB once decoded (400 MB at the
    # peak of the old pipeline). The bound is on pixels × bytes a pixel, read from the header.
    payload = _transparent_png(6320, 6320)
    assert len(payload) < 200_000
    settings.PHOTO_MAX_BYTES = 1024 * 1024

    def upload() -> None:
        with pytest.raises(ValidationError, match="照片尺寸过大") as error:
            photo_reencode(SimpleUploadedFile("big.png", payload))
        assert error.value.code == "too_many_pixels"
        assert "照片" in str(error.value.messages[0])

    assert _pixel_bytes_allocated_by_pillow(upload) == 0


def test_a_jpeg_over_the_decode_budget_is_decoded_at_a_reduced_scale(monkeypatch):
    # A phone photo always fits: a JPEG decodes at 1/2, 1/4 or 1/8 of its size (libjpeg's DCT
    # scaling), so it is stored smaller rather than refused; a PNG has no such scale.
    monkeypatch.setattr(images, "MAX_DECODE_BYTES", 800 * 600 * 4)
    stored = photo_reencode(SimpleUploadedFile("phone.jpg", _jpeg((1600, 1200))))
    with Image.open(io.BytesIO(stored.read())) as image:
        assert image.size == (800, 600)
    png = io.BytesIO()
    Image.new("RGB", (1600, 1200), "red").save(png, format="PNG")
    with pytest.raises(ValidationError, match="照片尺寸过大") as error:
        photo_reencode(SimpleUploadedFile("screen.png", png.getvalue()))
    assert error.value.code == "too_many_pixels"


def test_a_progressive_jpeg_counts_its_coefficient_buffer_in_the_budget(monkeypatch):
    # libjpeg keeps every DCT coefficient of a progressive JPEG (2 bytes a sample, at full size)
    # whatever the output scale; a baseline JPEG of the same size streams.
    monkeypatch.setattr(images, "MAX_DECODE_BYTES", 1600 * 1200 * 4)
    size = (2400, 2400)
    photo_reencode(SimpleUploadedFile("baseline.jpg", _jpeg(size, subsampling=0)))
    with pytest.raises(ValidationError, match="照片尺寸过大") as error:
        photo_reencode(SimpleUploadedFile("p.jpg", _jpeg(size, subsampling=0, progressive=True)))
    assert error.value.code == "too_many_pixels"


def _stored(payload: bytes) -> Image.Image:
    stored = photo_reencode(SimpleUploadedFile("phone.jpg", payload))
    image = Image.open(io.BytesIO(stored.read()))
    image.load()
    return image


def test_a_twelve_megapixel_phone_photo_is_stored_at_1600_by_1200():
    # Decoded at 1/2 (2016×1512, libjpeg's DCT scaling), then scaled to 1600 on the long side.
    buffer = io.BytesIO()
    Image.new("RGB", (4032, 3024), "grey").save(buffer, format="JPEG")  # flat: quick to make
    image = _stored(buffer.getvalue())
    assert image.size == (1600, 1200)


def test_a_2400_by_1800_phone_photo_decodes_at_half_scale_to_1200_by_900_without_its_exif():
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}
    buffer = io.BytesIO()
    Image.new("RGB", (2400, 1800), "green").save(buffer, format="JPEG", exif=exif)
    image = _stored(buffer.getvalue())
    # ½ of 2400 is 1200, not under MIN_DRAFT_SIDE: decoded so from the DCT, never resized.
    assert (image.format, image.size) == ("JPEG", (1200, 900))
    assert not image.getexif()


def test_a_portrait_photo_turned_by_its_exif_is_stored_upright_at_900_by_1200():
    # The camera wrote landscape pixels and orientation 6 ("turn 90° clockwise to show"): a
    # portrait whose top half is red and bottom half blue, lying on its side.
    upright = Image.new("RGB", (1800, 2400), "blue")
    upright.paste("red", (0, 0, 1800, 1200))
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    upright.transpose(Image.Transpose.ROTATE_90).save(buffer, format="JPEG", exif=exif)
    image = _stored(buffer.getvalue())
    assert image.size == (900, 1200)
    top, bottom = image.getpixel((450, 100)), image.getpixel((450, 1100))
    assert top[0] > 200 and top[2] < 60  # red
    assert bottom[2] > 200 and bottom[0] < 60  # blue
    assert not image.getexif()  # the orientation tag too: the pixels are turned instead


def test_a_photo_smaller_than_1600_is_stored_at_its_own_size():
    assert _stored(_jpeg((1200, 900))).size == (1200, 900)
    assert _stored(_jpeg((1500, 1000))).size == (1500, 1000)  # ½ would be under 1200: whole


def test_the_stored_jpeg_is_baseline():
    # Progressive costs CPU to write and, read back, holds every coefficient (see the budget).
    assert not _stored(_jpeg((1200, 900))).info.get("progressive")


def test_a_second_photo_is_decoded_into_the_memory_the_first_one_freed():
    # Pillow keeps freed pixel blocks (core.images sets its arena up): without them glibc hands
    # a photo's tens of MB back to the kernel and the next photo page-faults them in again.
    payload = _jpeg((1200, 900))
    photo_reencode(SimpleUploadedFile("first.jpg", payload))
    before = Image.core.get_stats()
    photo_reencode(SimpleUploadedFile("second.jpg", payload))
    after = Image.core.get_stats()
    assert after["reused_blocks"] - before["reused_blocks"] >= 5  # 1200×900×4 bytes in 1 MB blocks
    assert after["allocated_blocks"] == before["allocated_blocks"]
