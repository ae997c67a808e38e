"""A phone-photo-like JPEG for the benches (no Django): noise over a gradient, photo-sized and
hard to compress, at the first JPEG quality that reaches PHOTO_BYTES (bench/load/prepare.py's
submission photo, bench/photo.py's re-encode)."""

from __future__ import annotations

import io

from PIL import Image, ImageChops

PHOTO_BYTES = 2_000_000


def phone_photo(size: tuple[int, int] = (2400, 1800)) -> bytes:
    gradient = Image.linear_gradient("L").resize(size)
    channels = [ImageChops.add(Image.effect_noise(size, sigma), gradient, scale=2)
                for sigma in (30, 45, 60)]
    image = Image.merge("RGB", channels)
    data = b""
    for quality in range(80, 96):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        data = buffer.getvalue()
        if len(data) >= PHOTO_BYTES:
            break
    return data
