"""The public pages, open without a session: the 公示 list (anonymised, presentation.public_row)
and its photo.

The one photo anyone may open: the first photo a resident sent with a petition on the 公示
list whose text they agreed to publish. It is Open311's `media_url`, so it opens without a
session or a key; every other photo opens (at /media/, core.media) only for those who may see
the petition.

Only files that went through core.images.photo_reencode are served (their names are the uuid it
gives them): re-encoded pixels, no EXIF (GPS), no trailer.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import View

from core.media import media_file_response
from petitions import extensions, selectors
from petitions.presentation import public_row

PUBLIC_PAGE_SIZE = 20
REENCODED_NAME = re.compile(r"[0-9a-f]{32}\.(jpg|png)")
# The petition may leave the 公示 list (a reopen): caches keep the photo only briefly.
CACHE_CONTROL = "public, max-age=300"


class PetitionPublicPhotoView(View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        photo = selectors.petition_public_photo(petition_id=pk)
        image_name = photo.image.name if photo is not None else None
        if not image_name or REENCODED_NAME.fullmatch(PurePosixPath(image_name).name) is None:
            raise Http404(_("照片不存在。"))
        # The same answer as /media/ gives this photo (which is open to anyone there too, by the
        # same rule: selectors.petition_photo_get_for_media), only cacheable by anyone.
        return media_file_response(image_name, cache_control=CACHE_CONTROL)


class PetitionPublicListView(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        paginator = Paginator(selectors.petition_public_list(), PUBLIC_PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
        # 延期 is part of the 公示: the days granted in the round shown (one query a page).
        extended = extensions.extension_granted_by_petition(
            petitions=[(petition.pk, petition.reopened_count) for petition in page.object_list])
        rows = [public_row(petition, extended=extended.get(petition.pk, (0, 0)))
                for petition in page.object_list]
        return render(request, "petitions/public.html", {"page": page, "rows": rows})
