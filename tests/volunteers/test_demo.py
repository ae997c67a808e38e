from __future__ import annotations

import io
import time
from collections.abc import Iterator

import pytest
from django.db import transaction
from django.utils import timezone

from governance.demo import demo_load
from territory.models import Compound
from volunteers.demo import figures
from volunteers.models import (
    CareFile,
    CareVisit,
    HoursEntry,
    MicroWish,
    ProxyService,
    Qualification,
    ServicePost,
    Shift,
    Volunteer,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo_output(django_db_setup: None, django_db_blocker: pytest.FixtureRequest
                ) -> Iterator[tuple[str, float]]:
    """The demo loaded once for this module (its output and seconds), inside a transaction rolled
    back at the end; each test's own `db` transaction nests inside it as a savepoint."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            output = io.StringIO()
            started = time.monotonic()
            demo_load(stdout=output)
            yield output.getvalue(), time.monotonic() - started
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def test_the_demo_shows_the_reports_figures(demo_output):
    output, seconds = demo_output
    assert "volunteers: " in output and "volunteers.demo.load failed" not in output, output
    assert seconds < 60
    compound = Compound.objects.get(name="长江瑞城")
    numbers = figures(compound)
    assert numbers["zones"] == 15
    assert numbers["posts"] == 8
    assert numbers["fulfilled_wishes"] == 22
    assert numbers["proxy_services_done"] == 8
    assert numbers["caring_team"] == 30
    assert numbers["past_activities"] >= 20
    assert Volunteer.objects.filter(party_member__isnull=False).exists()
    assert HoursEntry.objects.filter(source="staff").exists()
    assert HoursEntry.objects.filter(source="app", status="approved").exists()
    assert CareFile.objects.filter(missed_count=2).exists()
    assert CareFile.objects.count() >= 100


def test_the_demo_shows_the_ledger_and_who_may_take_which_duty(demo_output):
    # Shift and visit hours, approved and pending; no-shows that credit nothing.
    for source in ("shift", "care"):
        for status in ("approved", "pending"):
            assert HoursEntry.objects.filter(source=source, status=status).exists()
    no_shows = Shift.objects.filter(status=Shift.Status.NO_SHOW)
    assert no_shows.exists() and not HoursEntry.objects.filter(shift__in=no_shows).exists()
    # Qualifications gate the elder-care post and care files; some have lapsed.
    assert any("health_check" in post.required_qualifications
               for post in ServicePost.objects.all())
    assert Qualification.objects.filter(expires_on__lt=timezone.localdate()).exists()
    # 代录 with consent; a visit's need opened a proxy service and another a petition.
    assert MicroWish.objects.filter(recorded_by__isnull=False).exclude(consent_by="").exists()
    assert ProxyService.objects.filter(care_visit__isnull=False, recorded_by__isnull=False)
    assert CareVisit.objects.filter(petition_id__isnull=False).exists()
