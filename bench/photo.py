"""Photo submission benchmark: CPU milliseconds of core.images.photo_reencode on a phone photo.

    .venv/bin/python bench/photo.py [--runs 30] [--size 4032x3024]

The photo is bench/load/prepare.py's: 2400×1800 (or --size), noise over a gradient, the first
JPEG quality from 80 that reaches ~2 MB (hard to compress, like a phone's; at 4032×3024 it ends
near 5 MB). Prints the median of --runs calls of photo_reencode in time.process_time (user +
system CPU of this process, whatever else the box is doing; system time is mostly page faults on
fresh pixel memory), beside a bare full-size decode of the same bytes for scale, and what comes
out.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DEBUG", "false")

import django

django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from PIL import Image  # noqa: E402

from bench.sample_photo import phone_photo  # noqa: E402
from core.images import photo_reencode  # noqa: E402


def cpu_ms(action: Callable[[], object], runs: int) -> str:
    """Median CPU ms of `action`, with its system ms and minor page faults."""
    action()  # warm: first-call imports and codec setup are not the per-request cost
    total, system, faults = [], [], []
    for _ in range(runs):
        usage = resource.getrusage(resource.RUSAGE_SELF)
        started = time.process_time()
        action()
        total.append((time.process_time() - started) * 1000)
        after = resource.getrusage(resource.RUSAGE_SELF)
        system.append((after.ru_stime - usage.ru_stime) * 1000)
        faults.append(after.ru_minflt - usage.ru_minflt)
    return (f"{statistics.median(total):6.1f} ms CPU (system {statistics.median(system):4.1f} ms, "
            f"{statistics.median(faults):,.0f} page faults; median of {runs})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--size", default="2400x1800", help="WIDTHxHEIGHT")
    arguments = parser.parse_args()
    runs = arguments.runs
    width, height = (int(side) for side in arguments.size.split("x"))
    data = phone_photo((width, height))

    def decode() -> None:
        with Image.open(io.BytesIO(data)) as image:
            image.load()

    def reencode() -> bytes:
        return photo_reencode(SimpleUploadedFile("phone.jpg", data)).read()

    stored = reencode()
    with Image.open(io.BytesIO(stored)) as image:
        stored_size = image.size
    print(f"photo: {width}×{height} JPEG, {len(data):,} bytes")
    print(f"full decode alone: {cpu_ms(decode, runs)}")
    print(f"photo_reencode:    {cpu_ms(reencode, runs)}")
    print(f"stored: {stored_size[0]}×{stored_size[1]} JPEG, {len(stored):,} bytes")


if __name__ == "__main__":
    main()
