"""The one photo anyone may open: the first photo a resident sent with a petition on the 公示
list whose text they agreed to publish. It is Open311's `media_url`, so it opens without a
session or a key; every other photo is shown only on the pages of those who may see the
petition.

Only files that went through core.images.photo_reencode are served (their names are the uuid it
gives them): re-encoded pixels, no EXIF (GPS), no trailer.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from django.http import FileResponse, Http404, HttpRequest
from django.utils.translation import gettext as _
from django.views import View

from petitions import selectors

REENCODED_NAME = re.compile(r"[0-9a-f]{32}\.(jpg|png)")
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png"}
# The petition may leave the 公示 list (a reopen): caches keep the photo only briefly.
CACHE_CONTROL = "public, max-age=300"


class PetitionPublicPhotoView(View):
    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        photo = selectors.petition_public_photo(petition_id=pk)
        name = PurePosixPath(photo.image.name).name if photo is not None else ""
        match = REENCODED_NAME.fullmatch(name)
        if photo is None or match is None:
            raise Http404(_("照片不存在。"))
        try:
            handle = photo.image.storage.open(photo.image.name, "rb")
        except FileNotFoundError:
            raise Http404(_("照片不存在。")) from None
        response = FileResponse(handle, content_type=CONTENT_TYPES[match.group(1)])
        response["Cache-Control"] = CACHE_CONTROL
        return response
