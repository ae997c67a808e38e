"""What every page leans on: the icon browsers ask for, the street's own name on the home page,
and no URL prefix mounted without pages."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders

from governance.models import Area

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


def test_the_residents_prefix_without_pages_is_not_mounted(client):
    assert client.get("/residents/").status_code == 404
