"""Browsers' date pickers (<input type=date>) take and show only ISO dates (YYYY-MM-DD).

zh-hans formats a date as 2026/12/05, which the picker rejects: a field meant to default to today
came up blank (care visits, 补录时长). Every project form's date field uses the ISO widgets of
core.widgets, and the pages show today's date in them.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from datetime import date
from pathlib import Path

import pytest
import time_machine
from django import forms
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.utils import timezone

from core.widgets import IsoDateInput, IsoDateTimeInput

# A date whose zh-hans rendering (2026/12/05) differs from ISO.
TODAY = date(2026, 12, 5)
SKIPPED_MODULES = ("migrations", "management", "admin")


def _project_form_classes() -> list[type[forms.BaseForm]]:
    """Every form class defined in the project's apps (admin forms get the admin's widgets)."""
    root = Path(settings.BASE_DIR).resolve()
    packages = [config.name for config in apps.get_app_configs()
                if root in Path(config.path).resolve().parents
                and "site-packages" not in Path(config.path).resolve().parts]
    for package in packages:
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, f"{package}."):
            if not any(part in SKIPPED_MODULES for part in info.name.split(".")):
                importlib.import_module(info.name)
    found, pending = [], list(forms.BaseForm.__subclasses__())
    while pending:
        form_class = pending.pop()
        pending += form_class.__subclasses__()
        if form_class.__module__.split(".")[0] in packages:
            found.append(form_class)
    return found


def test_every_project_form_renders_its_dates_in_iso_date_inputs():
    form_classes = _project_form_classes()
    assert len(form_classes) > 20  # the scan found the apps' forms
    wrong = []
    for form_class in form_classes:
        for name, field in form_class.base_fields.items():
            widget = field.widget
            if isinstance(field, forms.DateField) and not isinstance(widget, IsoDateInput):
                wrong.append(f"{form_class.__module__}.{form_class.__name__}.{name}")
            if isinstance(field, forms.DateTimeField) and not isinstance(
                    widget, IsoDateTimeInput | forms.HiddenInput):
                wrong.append(f"{form_class.__module__}.{form_class.__name__}.{name}")
    assert wrong == []


def test_the_iso_widgets_render_iso_values_in_chinese():
    from django.utils import translation

    with translation.override("zh-hans"):
        rendered = IsoDateInput().render("day", TODAY)
        rendered_time = IsoDateTimeInput().render(
            "at", timezone.make_aware(timezone.datetime(2026, 12, 5, 9, 30)))
    assert 'type="date"' in rendered and 'value="2026-12-05"' in rendered
    assert 'type="datetime-local"' in rendered_time and 'value="2026-12-05T09:30"' in rendered_time


def _date_input_value(page: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert tag is not None, name
    assert 'type="date"' in tag.group(0)
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return value.group(1) if value else ""


@pytest.mark.django_db
def test_the_care_visit_and_hours_forms_come_up_with_today_as_an_iso_date(
        territory, community_staff):
    from tests.volunteers.conftest import resident_account
    from tests.volunteers.factories import VolunteerFactory
    from volunteers.models import CareFile
    from volunteers.services import care

    carer_user = resident_account(territory, "carer")
    carer = VolunteerFactory(compound=territory.compound, user=carer_user, name="管家小李")
    elder = territory.household1.residents.create(name="钱奶奶")
    care_file = care.care_file_create(resident=elder, actor=community_staff,
                                      category=CareFile.Category.ELDER_ALONE,
                                      risk="medium", caretaker=carer)
    staff = Client()
    staff.force_login(community_staff)
    with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 12, 5, 10)),
                             tick=False):
        care_page = staff.get(f"/volunteers/care/{care_file.pk}/").content.decode()
        hours_page = staff.get(f"/volunteers/staff/volunteers/{carer.pk}/").content.decode()
    assert _date_input_value(care_page, "visited_on") == "2026-12-05"
    assert _date_input_value(hours_page, "served_on") == "2026-12-05"
