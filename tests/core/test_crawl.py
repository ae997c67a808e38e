"""The crawl of the whole site as every kind of user, and the guard of its machinery.

Every URL pattern of the resolver (tests/core/urlmap.py) is fetched with GET by every role, its
arguments filled with real rows, with the other community's rows and with bogus values. The
pass itself runs once per role in tests/core/test_access_matrix.py, which checks in the same
requests the crawl's two promises and the access policy:

1. no page or endpoint answers 5xx (or raises);
2. no response body shows, in full, the phone number of a resident the role may not see: a staff
   member sees the phones of households inside their scope (core.scope.path_in_scope), a resident
   only their own, anonymous visitors and external systems none.

This module guards the machinery: the ids it fills resolve to rows that render.
"""

from __future__ import annotations

import pytest

from territory.models import Area
from tests.conftest import Territory
from tests.core.urlmap import (
    BOGUS_INT,
    PHONE_MICRO1,
    PHONE_MICRO2,
    PHONE_OTHER,
    PHONE_OWN,
    all_routes,
    body_text,
    build_world,
    client_for,
    forbidden_phones,
    urls_for,
)


def test_the_crawl_fills_real_ids_that_resolve_to_rows(territory: Territory,
                                                        request: pytest.FixtureRequest) -> None:
    """Guards the crawl itself: detail URLs get real ids, so the pages render real rows."""
    world = build_world(territory, request)
    urls = urls_for(world, all_routes(), "street_admin")
    client = client_for(world, "street_admin")
    petition_pk = world.real["petitions"]
    assert f"/petitions/staff/{petition_pk}/" in urls
    assert f"/api/v1/petitions/{petition_pk}/" in urls
    assert f"/deliberation/topics/{world.real['topics']}/" in urls
    assert f"/petitions/staff/{BOGUS_INT}/" in urls
    assert any(url.endswith("?q=138") for url in urls)
    assert client.get(f"/petitions/staff/{petition_pk}/").status_code == 200
    assert client.get(f"/api/v1/petitions/{petition_pk}/").status_code == 200
    assert forbidden_phones(world, "microgrid_worker") == {PHONE_MICRO2, PHONE_OTHER}
    assert forbidden_phones(world, "outsider") == {PHONE_OWN, PHONE_MICRO1, PHONE_MICRO2}
    assert forbidden_phones(world, "street_admin") == set()
    assert Area.objects.count() == 8
    # The check can fail: a phone in full is found in a body (the resident's own, in their
    # petition's API detail), and the same URL refused to an outsider does not show it.
    own_page = body_text(client_for(world, "resident").get(f"/api/v1/petitions/{petition_pk}/"))
    assert PHONE_OWN in own_page
    assert PHONE_OWN not in body_text(client_for(world, "outsider").get(
        f"/api/v1/petitions/{petition_pk}/"))
    assert world.other["petitions"] != petition_pk and world.other["topics"] != world.real["topics"]
