from __future__ import annotations

import io
import time

import pytest

from governance.demo import demo_load
from territory.models import Compound
from volunteers.demo import figures
from volunteers.models import CareFile, HoursEntry, Volunteer

pytestmark = pytest.mark.django_db


def test_the_demo_shows_the_reports_figures():
    output = io.StringIO()
    started = time.monotonic()
    demo_load(stdout=output)
    assert "volunteers: " in output.getvalue() and "volunteers.demo.load failed" not in (
        output.getvalue()), output.getvalue()
    assert time.monotonic() - started < 60
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
