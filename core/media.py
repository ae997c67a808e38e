"""Uploaded files (photos of homes and people) are served only after the same check as the row
that holds them: the resident it belongs to, staff whose scope covers it, anyone only where the
公示 publishes it. Every other request is a 404, never a 403 (a 403 would confirm the file).

Each app registers its file fields here, with its own access rule (in its selectors), from its
AppConfig.ready(): core never imports the apps above it. A name is resolved by the fixed part of
the field's `upload_to` ("petitions/" for "petitions/%Y/%m/"), so one request costs one lookup
of the owning row whatever the number of registered fields.

The bytes are sent by nginx when MEDIA_ACCEL_REDIRECT names its internal location
(X-Accel-Redirect: the worker is free as soon as the check is done), else streamed by Django.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import FileField, Model
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase
from django.utils.translation import gettext as _

from core.types import AnyUser

# Browsers keep a photo for a while (a page's thumbnails are not fetched and audited again on
# every poll of the page), never a shared cache.
PRIVATE_CACHE = "private, max-age=600"
# Only these are served as what they are; anything else is a download (no HTML, no SVG inline).
CONTENT_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
                 ".gif": "image/gif", ".webp": "image/webp"}
DOWNLOAD_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class MediaGrant:
    """The access rule's yes: the row that holds the file and whether the view is audited
    (someone other than the person the data is about, or who took the photo, sees it)."""

    obj: Model
    is_audited: bool
    field: str = ""  # the registered field (filled in by media_grant_for)


MediaAccess = Callable[..., MediaGrant | None]  # (*, user, name) -> grant or None


@dataclass(frozen=True)
class MediaEntry:
    model: type[Model]
    field: str
    prefix: str
    access: MediaAccess
    allows_anonymous: bool


_ENTRIES: dict[str, MediaEntry] = {}
_NEVER_SERVED: dict[str, str] = {}


def media_register(model: type[Model], field: str, *, access: MediaAccess,
                   allows_anonymous: bool = False) -> None:
    """Files of `model.field` are served to whom `access(user=…, name=…)` grants them.
    `allows_anonymous`: the rule has a public case (else an anonymous request is refused before
    it is asked). Registering a field twice replaces its entry."""
    prefix = upload_prefix(model, field)
    label = f"{model._meta.label_lower}.{field}"
    for other_label, other in _ENTRIES.items():
        overlaps = other.prefix.startswith(prefix) or prefix.startswith(other.prefix)
        if other_label != label and overlaps:
            raise ValueError(f"{label}: upload prefix {prefix!r} overlaps {other_label}'s "
                             f"{other.prefix!r}; a file name must lead to one field")
    _ENTRIES[label] = MediaEntry(model=model, field=field, prefix=prefix, access=access,
                                 allows_anonymous=allows_anonymous)


def upload_prefix(model: type[Model], field: str) -> str:
    """The fixed directories of a field's `upload_to` ("wishes/%Y/%m/" -> "wishes/")."""
    model_field = model._meta.get_field(field)
    upload_to = getattr(model_field, "upload_to", None)
    if not isinstance(model_field, FileField) or not isinstance(upload_to, str):
        raise ValueError(f"{model._meta.label}.{field}: a FileField with a string upload_to")
    if model_field.storage is not default_storage:
        # The view opens (or hands nginx) names of the default storage only; object storage
        # would answer with a signed URL instead (docs/privacy.md), which is not built.
        raise ValueError(f"{model._meta.label}.{field}: only the default storage is served")
    fixed = upload_to.split("%", 1)[0]
    prefix = fixed[:fixed.rfind("/") + 1]
    if not prefix:
        raise ValueError(f"{model._meta.label}.{field}: upload_to needs a fixed directory")
    return prefix


def media_never_served(model: type[Model], field: str, *, reason: str) -> None:
    """Declare that files of `model.field` are not opened through /media/ at all (their names
    may lie under another field's folder: they then answer only to that field's rule)."""
    _NEVER_SERVED[f"{model._meta.label_lower}.{field}"] = reason


def media_registered_fields() -> set[str]:
    """Every field with a decision: a rule, or never served."""
    return set(_ENTRIES) | set(_NEVER_SERVED)


def media_name_is_clean(name: str) -> bool:
    """A relative POSIX path exactly as the storage writes it: no "..", ".", empty or absolute
    segment, no backslash or control character (a name lands in a header and a file path)."""
    if not name or name.startswith("/") or "\\" in name:
        return False
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in name):
        return False
    return all(part not in ("", ".", "..") for part in name.split("/"))


def media_grant_for(*, user: AnyUser, name: str) -> MediaGrant | None:
    """Whether `user` may open the stored file `name`: the owning field's rule decides."""
    if not media_name_is_clean(name):
        return None
    entry = next((entry for entry in _ENTRIES.values() if name.startswith(entry.prefix)), None)
    if entry is None:
        return None
    if not user.is_authenticated and not entry.allows_anonymous:
        return None
    grant = entry.access(user=user, name=name)
    return None if grant is None else replace(grant, field=entry.field)


def media_content_type(name: str) -> str:
    return CONTENT_TYPES.get(PurePosixPath(name).suffix.lower(), DOWNLOAD_TYPE)


def media_file_response(name: str, *, cache_control: str = PRIVATE_CACHE) -> HttpResponseBase:
    """The stored file, already authorised: handed to nginx (X-Accel-Redirect, empty body) when
    MEDIA_ACCEL_REDIRECT is set, else streamed. Http404 when the storage has no such file."""
    content_type = media_content_type(name)
    accel_prefix = settings.MEDIA_ACCEL_REDIRECT
    response: HttpResponseBase
    if accel_prefix:
        if not default_storage.exists(name):  # else the audit would record a view nginx 404s
            raise Http404(_("照片不存在。"))
        response = HttpResponse(b"", content_type=content_type)
        # Quoted as an URI (nginx unescapes it); storage names are ASCII, so usually unchanged.
        response["X-Accel-Redirect"] = accel_prefix.rstrip("/") + "/" + quote(name)
    else:
        try:
            handle = default_storage.open(name, "rb")
        except FileNotFoundError:
            raise Http404(_("照片不存在。")) from None
        response = FileResponse(handle, content_type=content_type)
    if content_type == DOWNLOAD_TYPE:
        response["Content-Disposition"] = "attachment"
    response["Cache-Control"] = cache_control
    response["X-Content-Type-Options"] = "nosniff"
    return response
