"""The upload corpus: hostile and odd files through every place that accepts an upload.

Each sample is built in code (no binary blobs). Every endpoint gets the whole corpus and must
answer without a server error: a rejected file gets a Chinese message and stores nothing; an
accepted file is stored only as freshly re-encoded pixels (decodes, ends at its end marker, no
EXIF GPS, not the uploaded bytes, extension matching the content).

The endpoints: the resident submission page, the petitions API (resident and API key), the staff
note and resolve pages and their API actions, the deliberation progress page and API, the micro
wish fulfilment page and API, the two admin forms with an image field, and the residents'
spreadsheet import (where every picture is refused).
"""

from __future__ import annotations

import io
import mimetypes
import os
import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import api_key_create
from core.images import PhotoFormField
from deliberation.models import ActionEvidence, ActionItem
from petitions import services as petition_services
from petitions.models import Petition, PetitionPhoto
from residents.models import Resident
from tests.deliberation.factories import ActionItemFactory, TopicFactory
from tests.governance.factories import org_root
from tests.petitions.factories import category, submit
from tests.residents.factories import PartyMemberFactory
from tests.volunteers.conftest import resident_account
from volunteers.models import MicroWish
from volunteers.services import wishes

LIMIT = 64 * 1024  # PHOTO_MAX_BYTES during the corpus run: keeps the oversize sample small
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{3,} [A-Za-z]{3,} [A-Za-z]{3,}")
HOSTILE_MARKERS = (b"<script", b"<html", b"<svg", b"%PDF", b"onerror")


# --- the corpus ------------------------------------------------------------------------------


def _encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}
    exif[0x0112] = 6  # rotated: the re-encode must turn the pixels, not keep the tag
    return exif


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_declaring(width: int, height: int, *, rows: int, is_rgba: bool = False) -> bytes:
    """A 1-bit grey (or 8-bit RGBA) PNG whose header declares width×height; `rows` rows of
    zeros follow."""
    depth, color_type, row_bytes = (8, 6, width * 4) if is_rgba else (1, 0, (width + 7) // 8)
    header = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    pixels = zlib.compress((b"\0" * (1 + row_bytes)) * rows, 9)
    return (PNG_SIGNATURE + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", pixels)
            + _png_chunk(b"IEND", b""))


def _noise_jpeg() -> bytes:
    return _encode(Image.effect_noise((120, 90), 60).convert("RGB"), "JPEG", quality=90)


def _animated_gif() -> bytes:
    frames = [Image.new("P", (40, 30), index) for index in range(3)]
    return _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], loop=0)


def _pdf() -> bytes:
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"
SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b"<script>alert(1)</script><rect width='10' height='10'/></svg>")


@dataclass(frozen=True)
class Sample:
    key: str
    filename: str
    content_type: str
    data: bytes
    is_accepted: bool
    count: int = 1  # how many copies are sent at once

    def uploads(self) -> list[SimpleUploadedFile]:
        return [SimpleUploadedFile(self.filename if index == 0 else f"{index}-{self.filename}",
                                   self.data, content_type=self.content_type)
                for index in range(self.count)]


def _corpus() -> list[Sample]:
    red_png = _encode(Image.new("RGB", (40, 30), "red"), "PNG")
    jpeg = _noise_jpeg()
    return [
        Sample("png+html", "evil.png", "image/png", red_png + HTML, is_accepted=True),
        Sample("jpeg+html", "evil.jpg", "image/jpeg", jpeg + HTML, is_accepted=True),
        Sample("svg+script", "vector.svg", "image/svg+xml", SVG, is_accepted=False),
        # 30000×30000 declared in 100 bytes: Pillow's DecompressionBombError must be a 400.
        Sample("bomb", "bomb.png", "image/png", _png_declaring(30000, 30000, rows=4),
               is_accepted=False),
        # 8000×6000 pixels in 6 KB: a valid image, refused for its pixel count.
        Sample("huge-dimensions", "big.png", "image/png", _png_declaring(8000, 6000, rows=6000),
               is_accepted=False),
        # 3800×3800 RGBA, complete, in 56 KB: under MAX_PIXELS, but 58 MB once decoded (twice
        # that to scale it): refused for its decode memory before a pixel is decoded.
        Sample("rgba-decode-bomb", "screen.png", "image/png",
               _png_declaring(3800, 3800, rows=3800, is_rgba=True), is_accepted=False),
        # 30000×4 is few pixels, however wide: accepted and scaled down.
        Sample("huge-width", "strip.png", "image/png", _png_declaring(30000, 4, rows=4),
               is_accepted=True),
        Sample("truncated-jpeg", "cut.jpg", "image/jpeg", jpeg[: len(jpeg) // 2],
               is_accepted=False),
        Sample("png-named-jpg", "really-png.jpg", "image/jpeg", red_png, is_accepted=True),
        Sample("pdf-named-png", "doc.png", "image/png", _pdf(), is_accepted=False),
        Sample("html-named-png", "page.png", "image/png", HTML, is_accepted=False),
        Sample("oversize", "huge.jpg", "image/jpeg", jpeg + b"\0" * LIMIT, is_accepted=False),
        Sample("gps-jpeg", "gps.jpg", "image/jpeg",
               _encode(Image.new("RGB", (40, 30), "green"), "JPEG", exif=_gps_exif()),
               is_accepted=True),
        Sample("gps-png-alpha", "gps.png", "image/png",
               _encode(Image.new("RGBA", (40, 30), (0, 0, 255, 128)), "PNG", exif=_gps_exif()),
               is_accepted=True),
        Sample("ten-files", "photo.jpg", "image/jpeg", jpeg, is_accepted=False, count=10),
        Sample("zero-bytes", "empty.jpg", "image/jpeg", b"", is_accepted=False),
        Sample("animated-gif", "anim.gif", "image/gif", _animated_gif(), is_accepted=True),
        Sample("cmyk-jpeg", "cmyk.jpg", "image/jpeg",
               _encode(Image.new("CMYK", (40, 30), (0, 90, 90, 0)), "JPEG"), is_accepted=True),
        Sample("16-bit-png", "deep.png", "image/png",
               _encode(Image.new("I;16", (40, 30), 40000), "PNG"), is_accepted=True),
    ]


CORPUS = _corpus()


# --- what "stored as re-encoded pixels" means -------------------------------------------------


def _png_end(data: bytes) -> int:
    """The offset just past the IEND chunk, walking the chunks from the signature."""
    position = len(PNG_SIGNATURE)
    while position + 8 <= len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind = data[position + 4:position + 8]
        position += 12 + length
        if kind == b"IEND":
            return position
    raise AssertionError("no IEND chunk")


def stored_problems(stored: bytes, name: str, sample: Sample) -> list[str]:
    problems = []
    with Image.open(io.BytesIO(stored)) as image:
        image.load()  # decodes the whole picture
        picture_format = image.format
        exif = image.getexif()
        if 0x8825 in exif or exif.get_ifd(0x8825):
            problems.append("GPS EXIF kept")
    if picture_format == "JPEG":
        if not (stored.startswith(b"\xff\xd8") and stored.endswith(b"\xff\xd9")):
            problems.append("bytes after the JPEG end marker")
    elif picture_format == "PNG":
        if _png_end(stored) != len(stored):
            problems.append("bytes after the PNG IEND chunk")
    else:
        problems.append(f"stored as {picture_format}")
    if mimetypes.guess_type(name)[0] != Image.MIME.get(picture_format or ""):
        problems.append(f"{name} holds {picture_format}")
    if stored == sample.data:
        problems.append("the uploaded bytes were stored as they came")
    problems += [f"{marker!r} kept" for marker in HOSTILE_MARKERS if marker in stored]
    return problems


@dataclass
class Outcome:
    status: int
    errors: str
    stored: list[tuple[str, bytes]] = field(default_factory=list)


# --- the endpoints ---------------------------------------------------------------------------


def _client(user: User) -> Client:
    client = Client(raise_request_exception=False)  # a server error is a status to report
    client.force_login(user)
    return client


def _api_client(user: User | None = None) -> APIClient:
    client = APIClient(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def _messages(client: Client, response: Any) -> str:
    """The error messages of this request; dropped from the client so the next starts clean."""
    shown = list(get_messages(response.wsgi_request))
    client.cookies.pop("messages", None)
    return "；".join(str(message) for message in shown if message.level_tag == "error")


def _api_errors(response: Any) -> str:
    return str(response.json().get("errors")) if response.status_code == 400 else ""


def _petition_photos_after(last_id: int) -> list[tuple[str, bytes]]:
    rows = PetitionPhoto.objects.filter(pk__gt=last_id).order_by("pk")
    return [(row.image.name, row.image.open("rb").read()) for row in rows]


def _last_photo_id() -> int:
    return PetitionPhoto.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@dataclass
class Endpoint:
    """One place that accepts an upload; `send` posts a sample and says what happened."""

    name: str
    is_multiple: bool  # takes up to 3 photos (else one: the last of several files wins)
    send: Callable[[Sample], Outcome]
    takes_images: bool = True  # False: every picture is refused (a spreadsheet import)


def _petition_endpoint(name: str, post: Callable[[Sample], tuple[int, str]]) -> Endpoint:
    def send(sample: Sample) -> Outcome:
        last_id = _last_photo_id()
        status, errors = post(sample)
        return Outcome(status, errors, _petition_photos_after(last_id))

    return Endpoint(name, is_multiple=True, send=send)


def resident_page(world: World) -> Endpoint:
    client = _client(world.resident)

    def post(sample: Sample) -> tuple[int, str]:
        response = client.post("/petitions/create/", {
            "category": world.category_id, "description": "楼道堆放杂物",
            "location_text": "3号楼北侧", "photos": sample.uploads()})
        errors = str(response.context["form"].errors) if response.status_code == 400 else ""
        return response.status_code, errors

    return _petition_endpoint("resident page", post)


def resident_api(world: World) -> Endpoint:
    client = _api_client(world.resident)

    def post(sample: Sample) -> tuple[int, str]:
        response = client.post("/api/v1/petitions/", {
            "category": world.category_id, "description": "路灯不亮",
            "photos": sample.uploads()}, format="multipart")
        return response.status_code, _api_errors(response)

    return _petition_endpoint("resident API", post)


def api_key_api(world: World) -> Endpoint:
    client = _api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {world.raw_key}")

    def post(sample: Sample) -> tuple[int, str]:
        response = client.post("/api/v1/petitions/", {
            "category": world.category_id, "description": "噪音扰民",
            "building": world.building_id, "photos": sample.uploads()}, format="multipart")
        return response.status_code, _api_errors(response)

    return _petition_endpoint("API key", post)


def staff_note_page(world: World) -> Endpoint:
    client = _client(world.worker)
    petition = submit(world.resident)

    def post(sample: Sample) -> tuple[int, str]:
        response = client.post(f"/petitions/staff/{petition.pk}/notes/create/",
                               {"note": "现场查看", "photos": sample.uploads()})
        return response.status_code, _messages(client, response)

    return _petition_endpoint("staff note page", post)


def staff_note_api(world: World) -> Endpoint:
    client = _api_client(world.worker)
    petition = submit(world.resident)

    def post(sample: Sample) -> tuple[int, str]:
        response = client.post(f"/api/v1/petitions/{petition.pk}/notes/",
                               {"note": "现场查看", "photos": sample.uploads()},
                               format="multipart")
        return response.status_code, _api_errors(response)

    return _petition_endpoint("staff note API", post)


class Fresh:
    """An object in the state an upload needs; made anew once an accepted upload moved it on."""

    def __init__(self, make: Callable[[], Any], is_ready: Callable[[Any], bool]) -> None:
        self.make, self.is_ready, self.current = make, is_ready, None

    def get(self) -> Any:
        if self.current is not None:
            self.current.refresh_from_db()
        if self.current is None or not self.is_ready(self.current):
            self.current = self.make()
        return self.current


def _checked_in_petition(world: World) -> Fresh:
    """Dispatched to the worker, who is on site: 办结 needs the check-in."""

    def make() -> Petition:
        petition = submit(world.resident)
        return petition_services.petition_check_in(petition_id=petition.pk, actor=world.worker)

    return Fresh(make, lambda petition: petition.state == Petition.State.ON_SITE)


def staff_resolve_page(world: World) -> Endpoint:
    client = _client(world.worker)
    petitions = _checked_in_petition(world)

    def post(sample: Sample) -> tuple[int, str]:
        petition = petitions.get()
        response = client.post(f"/petitions/staff/{petition.pk}/resolve/",
                               {"resolution": "已清理", "photos": sample.uploads()})
        errors = _messages(client, response)
        is_resolved = Petition.objects.get(pk=petition.pk).state == Petition.State.RESOLVED
        assert is_resolved == (not errors), errors
        return response.status_code, errors

    return _petition_endpoint("staff resolve page", post)


def staff_resolve_api(world: World) -> Endpoint:
    client = _api_client(world.worker)
    petitions = _checked_in_petition(world)

    def post(sample: Sample) -> tuple[int, str]:
        petition = petitions.get()
        response = client.post(f"/api/v1/petitions/{petition.pk}/resolve/",
                               {"resolution": "已清理", "photos": sample.uploads()},
                               format="multipart")
        return response.status_code, _api_errors(response)

    return _petition_endpoint("staff resolve API", post)


def _evidence_endpoint(name: str, post: Callable[[Sample], tuple[int, str]]) -> Endpoint:
    def send(sample: Sample) -> Outcome:
        last_id = ActionEvidence.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        status, errors = post(sample)
        rows = ActionEvidence.objects.filter(pk__gt=last_id).order_by("pk")
        return Outcome(status, errors, [(row.photo.name, row.photo.open("rb").read())
                                        for row in rows])

    return Endpoint(name, is_multiple=False, send=send)


def progress_page(world: World) -> Endpoint:
    client = _client(world.staff)

    def post(sample: Sample) -> tuple[int, str]:
        response = client.post(f"/deliberation/staff/actions/{world.action_item.pk}/progress/",
                               {"progress": 50, "note": "已采购", "photo": sample.uploads()})
        return response.status_code, _messages(client, response)

    return _evidence_endpoint("deliberation progress page", post)


def progress_api(world: World) -> Endpoint:
    client = _api_client(world.staff)

    def post(sample: Sample) -> tuple[int, str]:
        response = client.post(
            f"/api/v1/deliberation/action-items/{world.action_item.pk}/progress/",
            {"progress": 50, "note": "已采购", "photo": sample.uploads()}, format="multipart")
        return response.status_code, _api_errors(response)

    return _evidence_endpoint("deliberation progress API", post)


def admin_evidence_add(world: World) -> Endpoint:
    client = _client(world.admin)

    def post(sample: Sample) -> tuple[int, str]:
        response = client.post("/admin/deliberation/actionevidence/add/", {
            "action_item": world.action_item.pk, "caption": "现场", "uploaded_by": world.admin.pk,
            "photo": sample.uploads()})
        errors = (str(response.context["adminform"].form.errors)
                  if response.status_code == 200 else "")
        return response.status_code, errors

    return _evidence_endpoint("admin evidence add", post)


def _wish_endpoint(name: str, post: Callable[[MicroWish, Sample], tuple[int, str]], *,
                   make_wish: Callable[[], MicroWish]) -> Endpoint:
    def send(sample: Sample) -> Outcome:
        wish = make_wish()
        before = wish.fulfilment_photo.name
        status, errors = post(wish, sample)
        wish.refresh_from_db()
        after = wish.fulfilment_photo.name
        stored = ([(after, wish.fulfilment_photo.open("rb").read())]
                  if after and after != before else [])
        return Outcome(status, errors, stored)

    return Endpoint(name, is_multiple=False, send=send)


def _claimed_wishes(world: World) -> Fresh:
    return Fresh(lambda: _claimed_wish(world),
                 lambda wish: wish.status == MicroWish.Status.CLAIMED)


def _claimed_wish(world: World) -> MicroWish:
    wish = wishes.micro_wish_submit(resident=world.resident.residents.get(),
                                    title="想要一副老花镜")
    wishes.micro_wish_publish(wish=wish, actor=world.staff)
    return wishes.micro_wish_claim(wish=wish, user=world.member)


def wish_fulfil_page(world: World) -> Endpoint:
    client = _client(world.member)

    def post(wish: MicroWish, sample: Sample) -> tuple[int, str]:
        response = client.post(f"/volunteers/wishes/{wish.pk}/fulfil/",
                               {"note": "", "photo": sample.uploads()})
        return response.status_code, _messages(client, response)

    return _wish_endpoint("wish fulfil page", post, make_wish=_claimed_wishes(world).get)


def wish_fulfil_api(world: World) -> Endpoint:
    client = _api_client(world.member)

    def post(wish: MicroWish, sample: Sample) -> tuple[int, str]:
        response = client.post(f"/api/v1/volunteers/wishes/{wish.pk}/fulfil/",
                               {"note": "", "photo": sample.uploads()}, format="multipart")
        return response.status_code, _api_errors(response)

    return _wish_endpoint("wish fulfil API", post, make_wish=_claimed_wishes(world).get)


def _admin_change_data(response: Any) -> dict[str, Any]:
    """What the admin change page would post back unchanged: its form and inline formsets."""
    form = response.context["adminform"].form
    data = {name: form[name].value() for name in form.fields
            if form[name].value() is not None and name != "fulfilment_photo"}
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        data |= {f"{management.prefix}-{name}": management[name].value()
                 for name in management.fields}
        for member in formset.forms:
            data |= {f"{member.prefix}-{name}": member[name].value() for name in member.fields
                     if member[name].value() is not None}
    return data


def admin_wish_change(world: World) -> Endpoint:
    client = _client(world.admin)
    wish = _claimed_wish(world)
    url = f"/admin/volunteers/microwish/{wish.pk}/change/"
    data = _admin_change_data(client.get(url))

    def post(wish: MicroWish, sample: Sample) -> tuple[int, str]:
        response = client.post(url, data | {"fulfilment_photo": sample.uploads()})
        errors = (str(response.context["adminform"].form.errors)
                  if response.status_code == 200 else "")
        return response.status_code, errors

    return _wish_endpoint("admin wish change", post, make_wish=lambda: wish)


def _import_errors(response: Any) -> str:
    """The import form's errors, or the dry run's: bad rows and file-level errors."""
    context = response.context or {}
    if context.get("form") is not None and context["form"].errors:
        return str(context["form"].errors)
    result = context.get("result")
    if result is None:
        return ""
    messages = [str(error.error) for error in result.base_errors]
    messages += [str(message) for row in result.invalid_rows
                 for errors in row.error_dict.values() for message in errors]
    return "；".join(messages)


def admin_resident_import(world: World) -> Endpoint:
    """The residents' spreadsheet import: a picture is no spreadsheet, whatever its name."""
    client = _client(world.admin)

    def send(sample: Sample) -> Outcome:
        before = Resident.objects.count()
        response = client.post("/admin/residents/resident/import/", {
            "format": "1", "import_file": sample.uploads()})  # csv (0 is xlsx)
        added = Resident.objects.count() - before
        return Outcome(response.status_code, _import_errors(response),
                       [("resident rows", b"")] * added)

    return Endpoint("admin resident import", is_multiple=False, send=send, takes_images=False)


# --- the run ---------------------------------------------------------------------------------


@dataclass
class World:
    resident: User
    worker: User
    staff: User
    admin: User
    member: User
    raw_key: str
    category_id: int
    building_id: int
    action_item: ActionItem


@pytest.fixture
def world(territory, resident_user, microgrid_worker, community_staff, street_admin,
          settings) -> World:
    settings.PHOTO_MAX_BYTES = LIMIT
    member = resident_account(territory, "member", household=territory.household2)
    PartyMemberFactory(resident=member.residents.get(), org_node=org_root(area=territory.community))
    _key, raw_key = api_key_create(name="12345 热线")
    topic = TopicFactory(compound=territory.compound, proposer=resident_user)
    return World(resident=resident_user, worker=microgrid_worker, staff=community_staff,
                 admin=street_admin, member=member, raw_key=raw_key,
                 category_id=category().pk, building_id=territory.building3.pk,
                 action_item=ActionItemFactory(topic=topic))


def check(endpoint: Endpoint, sample: Sample) -> list[str]:
    """What is wrong with how `endpoint` handled `sample` (nothing: an empty list)."""
    outcome = endpoint.send(sample)
    is_accepted = endpoint.takes_images and (
        sample.is_accepted or (sample.count > 1 and not endpoint.is_multiple))
    where = f"{endpoint.name} / {sample.key}"
    if outcome.status >= 500:
        return [f"{where}: server error {outcome.status}"]
    if not is_accepted:
        problems = [] if outcome.errors else [f"{where}: accepted ({outcome.status})"]
        if outcome.errors and not CJK.search(outcome.errors):
            problems.append(f"{where}: message not in Chinese: {outcome.errors}")
        if ENGLISH_SENTENCE.search(outcome.errors):
            problems.append(f"{where}: English in the message: {outcome.errors}")
        if outcome.stored:
            problems.append(f"{where}: stored {len(outcome.stored)} file(s) though refused")
        return problems
    if outcome.errors:
        return [f"{where}: refused: {outcome.errors}"]
    if len(outcome.stored) != 1:
        return [f"{where}: stored {len(outcome.stored)} files, expected 1"]
    name, stored = outcome.stored[0]
    return [f"{where}: {problem}" for problem in stored_problems(stored, name, sample)]


# The whole corpus goes through the resident page (the petitions' PhotosField form), the petitions
# API (DRF's list of files), an API with DRF's ImageField and an admin model form; the other
# places parse uploads the same way as one of those and get the samples that tell refusal,
# storage and EXIF apart (that keeps make test cheap). UPLOAD_CORPUS_FULL=1 sends the whole
# corpus everywhere.
FULL_CORPUS_ENDPOINTS = [resident_page, resident_api, progress_api, admin_evidence_add]
SHORT_CORPUS_ENDPOINTS = [api_key_api, staff_note_page, staff_note_api, staff_resolve_page,
                          staff_resolve_api, progress_page, wish_fulfil_page, wish_fulfil_api,
                          admin_wish_change, admin_resident_import]
SHORT_CORPUS = [sample for sample in CORPUS
                if sample.key in {"png+html", "gps-jpeg", "bomb", "zero-bytes", "ten-files",
                                  "pdf-named-png"}]


def test_every_upload_place_refuses_or_reencodes_the_corpus(world):
    is_full = os.environ.get("UPLOAD_CORPUS_FULL") == "1"
    runs = [(make, CORPUS) for make in FULL_CORPUS_ENDPOINTS]
    runs += [(make, CORPUS if is_full else SHORT_CORPUS) for make in SHORT_CORPUS_ENDPOINTS]
    problems = []
    for make_endpoint, samples in runs:
        endpoint = make_endpoint(world)
        problems += [problem for sample in samples for problem in check(endpoint, sample)]
    assert not problems, "\n".join(problems)


def test_the_real_size_limit_refuses_an_oversize_photo_with_a_chinese_message(world, settings):
    settings.PHOTO_MAX_BYTES = 8 * 1024 * 1024
    oversize = Sample("oversize-8mb", "big.jpg", "image/jpeg",
                      _noise_jpeg() + b"\0" * settings.PHOTO_MAX_BYTES, is_accepted=False)
    outcome = resident_api(world).send(oversize)
    assert (outcome.status, outcome.stored) == (400, [])
    assert "照片不能超过 8 MB" in outcome.errors


def test_a_decompression_bomb_is_refused_as_too_large_not_as_a_wrong_format(world):
    bomb = next(sample for sample in CORPUS if sample.key == "bomb")
    assert "照片尺寸过大" in resident_api(world).send(bomb).errors


def test_every_admin_form_with_a_file_field_reencodes_the_upload(rf, street_admin):
    """A new admin with an editable image field must use core.images.PhotoFormField too."""
    request = rf.get("/admin/")
    request.user = street_admin
    plain = []
    for model, model_admin in admin.site._registry.items():
        admins = [model_admin, *(inline(model, admin.site) for inline in model_admin.inlines)]
        for each in admins:
            readonly = set(each.get_readonly_fields(request))
            for db_field in each.model._meta.get_fields():
                if not isinstance(db_field, models.FileField) or db_field.name in readonly:
                    continue
                formfield = each.formfield_for_dbfield(db_field, request=request)
                if formfield is not None and not isinstance(formfield, PhotoFormField):
                    plain.append(f"{type(each).__name__}.{db_field.name}")
    assert plain == []
