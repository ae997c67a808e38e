"""A form posted without a valid security token (CSRF) gets a page in the user's language with
the way back to the form, not Django's English developer page; the API answers in JSON."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_form_posted_without_its_token_gets_a_chinese_page_back_to_the_form(resident_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(resident_user)
    url = reverse("petitions:create")
    response = client.post(url, {"description": "楼道灯坏了"})
    body = response.content.decode()
    assert response.status_code == 403
    assert "页面已过期，内容未提交" in body
    assert f'href="{url}"' in body
    assert "CSRF verification failed" not in body
    assert response["Referrer-Policy"] == "no-referrer"
    # A page that sends only its origin as Referer (a 协办 link's) names no page: the form's own.
    origin_only = client.post(url, {"description": "楼道灯坏了"},
                              HTTP_REFERER="http://testserver/")
    assert f'href="{url}"' in origin_only.content.decode()
    # Reopening the page gives a form that posts (a fresh token).
    page = client.get(url)
    assert page.status_code == 200 and "csrfmiddlewaretoken" in page.content.decode()


def test_the_page_is_in_english_for_an_english_reader(resident_user):
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["django_language"] = "en"
    response = client.post(reverse("accounts:phone-login"), {"phone": "13812345678"})
    assert response.status_code == 403
    assert "页面已过期" not in response.content.decode()


def test_an_api_call_without_the_token_gets_the_apis_json_error(resident_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(resident_user)
    response = client.post("/api/v1/petitions/", {"description": "x"},
                           content_type="application/json")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")


def test_a_button_to_a_post_only_action_leads_back_to_the_page_it_was_on(grid_worker):
    """签收 posts to an action that takes POST only: opening that address would be a 405, so
    the way back is the petition's page the button was on."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(grid_worker)
    page = "http://testserver" + reverse("petitions:staff-detail", args=[7])
    response = client.post(reverse("petitions:staff-accept", args=[7]), HTTP_REFERER=page)
    assert response.status_code == 403
    assert f'href="{page}"' in response.content.decode()
    elsewhere = client.post(reverse("petitions:staff-accept", args=[7]),
                            HTTP_REFERER="https://evil.example/phish")
    assert 'href="/"' in elsewhere.content.decode()
