"""Buildings, units and rooms sort naturally (2 before 10, numbers before 座 letters) everywhere:
the model's default order, bulk loads, the pickers, the staff workbench and the admin."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from residents.models import Household
from territory.models import Building, Unit

pytestmark = pytest.mark.django_db

NAMES = ["10号楼", "2号楼", "A座", "1号楼", "11号楼", "B座", "3号楼"]
NATURAL = ["1号楼", "2号楼", "3号楼", "10号楼", "11号楼", "A座", "B座"]


def test_the_natural_key_puts_2_before_10_and_numbers_before_letters():
    from core.fields import natural_sort_key

    assert sorted(NAMES, key=natural_sort_key) == NATURAL
    # Full-width digits and leading zeros sort as their numbers.
    assert natural_sort_key("０３") == natural_sort_key("3") < natural_sort_key("12")
    assert sorted(["1201", "301", "0302", "1202"], key=natural_sort_key) == [
        "301", "0302", "1201", "1202"]


def _numbers(queryset) -> list[str]:
    return [row.number for row in queryset]


def test_buildings_and_units_come_in_natural_order_saved_or_bulk_loaded(territory):
    compound = territory.other_compound
    micro = territory.other_micro
    for name in NAMES[:4]:
        Building.objects.create(compound=compound, micro_grid=micro, number=name)
    Building.objects.bulk_create([Building(compound=compound, micro_grid=micro, number=name)
                                  for name in NAMES[4:]])
    assert _numbers(Building.objects.filter(compound=compound).exclude(number="9")) == NATURAL
    building = Building.objects.get(compound=compound, number="1号楼")
    for number in ["10", "2", "1"]:
        Unit.objects.create(building=building, number=number)
    assert _numbers(building.units.all()) == ["1", "2", "10"]
    unit = building.units.get(number="1")
    for room in ["1201", "301", "0302"]:
        Household.objects.create(building=building, unit=unit, room=room)
    assert [row.room for row in unit.households.all()] == ["301", "0302", "1201"]


def _more_buildings(territory) -> None:
    for number in ["10", "11", "20"]:
        Building.objects.create(compound=territory.compound, micro_grid=territory.micro1,
                                number=number)


def _option_texts(page: str, select_name: str) -> list[str]:
    select = re.search(rf'<select name="{select_name}"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None
    return re.findall(r"<option value=\"\d+\"[^>]*>([^<]*)</option>", select.group(1))


def test_the_workbench_building_filter_lists_buildings_in_natural_order(territory, grid_worker):
    _more_buildings(territory)
    client = Client()
    client.force_login(grid_worker)
    page = client.get(reverse("petitions:staff-queue")).content.decode()
    assert _option_texts(page, "building") == [
        f"长江瑞城 {number}号楼" for number in ["1", "2", "3", "10", "11", "20"]]


def test_the_petition_form_picker_lists_units_in_natural_order(territory, resident_user):
    from petitions.forms import PetitionSubmitForm

    for number in ["10", "2", "11"]:
        Unit.objects.create(building=territory.building1, number=number)
    form = PetitionSubmitForm(data={"compound": territory.compound.pk,
                                    "building": territory.building1.pk}, user=resident_user)
    assert _numbers(form.fields["unit"].queryset) == ["1", "2", "10", "11"]
    buildings = PetitionSubmitForm(data={"compound": territory.compound.pk},
                                   user=resident_user).fields["building"].queryset
    _more_buildings(territory)
    assert _numbers(buildings.all()) == ["1", "2", "3", "10", "11", "20"]


def test_the_admin_lists_buildings_in_natural_order(territory, street_admin):
    _more_buildings(territory)
    client = Client()
    client.force_login(street_admin)
    page = client.get(reverse("admin:territory_building_changelist"),
                      {"compound__id__exact": territory.compound.pk}).content.decode()
    shown = re.findall(r"长江瑞城 (\d+)号楼", page)
    assert list(dict.fromkeys(shown)) == ["1", "2", "3", "10", "11", "20"]
