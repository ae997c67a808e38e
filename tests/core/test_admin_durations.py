"""Durations in the admin (issue 13 item 11): days, hours and minutes in labelled number boxes,
never Django's `1 00:00:00` text; the SLA list reads `1 天`, not `1 day, 0:00:00`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import DurationField
from django.test import RequestFactory
from django.urls import reverse

from core.admin_widgets import DurationPartsField, DurationPartsWidget
from petitions.models import SlaPolicy

ROUND_TRIPS = [timedelta(minutes=7), timedelta(days=1), timedelta(days=5),
               timedelta(days=1, hours=2, minutes=3), timedelta(hours=23, minutes=59),
               timedelta(seconds=45), timedelta(days=400)]


def parts_data(name, value):
    """What a browser posts back for the value the widget showed."""
    widget = DurationPartsWidget()
    return {f"{name}{suffix}": "" if part is None else str(part)
            for suffix, part in zip(widget.widgets_names, widget.decompress(value), strict=True)}


@pytest.mark.parametrize("value", ROUND_TRIPS)
def test_a_duration_shown_in_parts_comes_back_unchanged(value):
    field = DurationPartsField()
    posted = parts_data("arrival", value)
    cleaned = field.clean(field.widget.value_from_datadict(posted, {}, "arrival"))
    assert cleaned == value


def test_the_parts_must_be_whole_numbers_inside_their_unit():
    field = DurationPartsField()
    with pytest.raises(ValidationError, match="23"):
        field.clean(["0", "24", "0", ""])
    with pytest.raises(ValidationError, match="整数"):
        field.clean(["1.5", "0", "0", ""])


def test_every_duration_field_the_admin_edits_gets_the_parts_widget(rf: RequestFactory,
                                                                    admin_user):
    request = rf.get("/admin/")
    request.user = admin_user
    checked = 0
    for model, model_admin in admin.site._registry.items():
        durations = [field.name for field in model._meta.fields
                     if isinstance(field, models.DurationField) and field.editable]
        if not durations:
            continue
        form = model_admin.get_form(request)
        for name in durations:
            if name in form.base_fields:
                assert isinstance(form.base_fields[name].widget, DurationPartsWidget), (
                    f"{model.__name__}.{name}")
                checked += 1
    assert checked >= 5  # SlaPolicy's five clocks at least


@pytest.mark.django_db
def test_the_sla_policy_page_edits_days_hours_and_minutes(client, street_admin):
    client.force_login(street_admin)
    url = reverse("admin:petitions_slapolicy_change", args=[SlaPolicy.SINGLETON_ID])
    html = client.get(url).content.decode()
    assert "0:07:00" not in html and "1 00:00:00" not in html
    assert 'name="arrival_minutes"' in html and 'value="7"' in html
    assert 'name="microgrid_days"' in html
    for unit in ("天", "小时", "分钟"):
        assert f"<span>{unit}</span></label>" in html
    assert 'name="arrival_seconds"' not in html  # seconds only for a value that has some

    current = SlaPolicy.current()  # every other field as it is (acceptance limits, alarms…)
    data: dict[str, object] = {"calendar": "calendar", "reminder_share": "0.80"}
    for field in SlaPolicy._meta.concrete_fields:
        if isinstance(field, DurationField):
            data |= parts_data(field.name, getattr(current, field.name))
    data |= {**parts_data("arrival", timedelta(minutes=10)),
             **parts_data("microgrid", timedelta(days=1, hours=12)),
             **parts_data("grid", timedelta(days=3)), **parts_data("street", timedelta(days=5)),
             **parts_data("rating_window", timedelta(days=7))}
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    policy = SlaPolicy.current()
    assert (policy.arrival, policy.microgrid) == (timedelta(minutes=10),
                                                 timedelta(days=1, hours=12))


@pytest.mark.django_db
def test_the_sla_policy_list_reads_durations_in_chinese(client, street_admin):
    client.force_login(street_admin)
    html = client.get(reverse("admin:petitions_slapolicy_changelist")).content.decode()
    assert "1 day" not in html and "0:07:00" not in html
    assert "7 分钟" in html and "1 天" in html
