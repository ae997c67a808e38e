"""What every page leans on: the icon browsers ask for, the street's own name on the home page,
and no URL prefix mounted without pages."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders

from territory.models import Area

pytestmark = pytest.mark.django_db


def test_favicon_ico_redirects_to_an_icon_that_exists(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"].startswith("/static/favicon")
    assert finders.find("favicon.ico")


def test_every_page_links_the_icon(client):
    assert b'rel="icon"' in client.get("/").content


def test_the_home_page_names_the_street_from_the_territory_not_a_fixed_one(client):
    Area.objects.add_root({"name": "黄山路街道", "kind": Area.Kind.STREET})

    page = client.get("/").content.decode()

    assert "黄山路街道 · 社区治理门户" in page
    assert "长江路街道" not in page


def test_the_home_page_before_any_territory_names_no_street(client):
    page = client.get("/").content.decode()

    assert "社区治理门户：诉求" in page
    assert "街道 ·" not in page


def test_no_url_prefix_is_mounted_without_a_single_route_under_it():
    """/residents/ was an include of an empty urlpatterns: a prefix that could only 404."""
    from django.urls import URLResolver, get_resolver

    empty = [str(entry.pattern) for entry in get_resolver().url_patterns
             if isinstance(entry, URLResolver) and not entry.url_patterns]
    assert empty == []


def test_an_address_in_english_keeps_its_words_apart(territory):
    from django.utils import translation

    from territory.models import Unit

    unit = Unit.objects.filter(building=territory.building1).first() or Unit.objects.create(
        building=territory.building1, number=1)
    with translation.override("en"):
        assert str(territory.building1).endswith(f" Bldg {territory.building1.number}")
        assert str(unit).endswith(f" Unit {unit.number}")
    assert str(territory.building1).endswith(f" {territory.building1.number}号楼")


def test_an_english_label_before_a_value_ends_in_a_space(client, settings):
    from django.utils import translation

    with translation.override("en"):
        for label in ("办理结果：", "不予受理原因：", "您的评价："):
            assert translation.gettext(label).endswith(": ")
