from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiKey, PhoneCode, User
from accounts.services import api_key_create
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, street_admin):
    client.force_login(street_admin)
    return client


def test_the_user_list_masks_phones_but_finds_them_by_full_number(admin_client, territory):
    UserFactory(username="zhao", role=User.Role.RESIDENT, phone="13912345678")
    UserFactory(username="qian", role=User.Role.RESIDENT, phone="13700000000")
    url = reverse("admin:accounts_user_changelist")
    listing = admin_client.get(url)
    assert "139****5678" in listing.text
    assert "13912345678" not in listing.text
    found = admin_client.get(url, {"q": "13912345678"})
    assert "zhao" in found.text
    assert "qian" not in found.text


def test_the_user_list_filters_by_role(admin_client, grid_worker, resident_user):
    url = reverse("admin:accounts_user_changelist")
    response = admin_client.get(url, {"role__exact": "grid_worker"})
    assert "gridw" in response.text
    assert ">resident<" not in response.text


def test_the_user_list_is_a_constant_number_of_queries(admin_client, territory,
                                                       django_assert_max_num_queries):
    for index in range(10):
        UserFactory(role=User.Role.GRID_WORKER, scope_area=territory.grid,
                    phone=f"1390000{index:04d}")
    with django_assert_max_num_queries(12):
        assert admin_client.get(reverse("admin:accounts_user_changelist")).status_code == 200


def test_the_user_change_form_shows_role_and_scope(admin_client, grid_worker):
    response = admin_client.get(reverse("admin:accounts_user_change", args=[grid_worker.pk]))
    assert response.status_code == 200
    assert 'name="role"' in response.text
    assert 'name="scope_area"' in response.text


def test_sign_in_codes_are_read_only_and_never_show_the_hash(admin_client, territory):
    code = PhoneCode.objects.create(phone="13912345678", code_hash="f" * 64,
                                    expires_at=timezone.now(), requested_ip="203.0.113.5")
    listing = admin_client.get(reverse("admin:accounts_phonecode_changelist"))
    assert "139****5678" in listing.text
    detail = admin_client.get(reverse("admin:accounts_phonecode_change", args=[code.pk]))
    assert detail.status_code == 200
    assert "f" * 64 not in detail.text
    assert "13912345678" not in detail.text
    assert admin_client.get(reverse("admin:accounts_phonecode_add")).status_code == 403


def test_the_api_key_admin_never_shows_a_key_and_can_deactivate(admin_client, territory):
    api_key, raw_key = api_key_create(name="12345 热线")
    listing = admin_client.get(reverse("admin:accounts_apikey_changelist"))
    assert "12345 热线" in listing.text
    detail = admin_client.get(reverse("admin:accounts_apikey_change", args=[api_key.pk]))
    assert raw_key not in detail.text
    assert api_key.key_hash not in detail.text
    assert admin_client.get(reverse("admin:accounts_apikey_add")).status_code == 403
    response = admin_client.post(reverse("admin:accounts_apikey_changelist"),
                                 {"action": "deactivate", "_selected_action": [api_key.pk]})
    assert response.status_code == 302
    assert not ApiKey.objects.get().is_active


def test_an_admin_adds_a_grid_worker_with_role_and_scope(admin_client, territory):
    response = admin_client.post(reverse("admin:accounts_user_add"), {
        "username": "newgrid", "display_name": "新网格员", "role": "grid_worker",
        "scope_area": territory.grid.pk, "password1": "Strong-pass-9876",
        "password2": "Strong-pass-9876", "usable_password": "true",
    })
    assert response.status_code == 302, response.text
    user = User.objects.get(username="newgrid")
    assert (user.role, user.scope_area_id) == (User.Role.GRID_WORKER, territory.grid.pk)
    assert user.check_password("Strong-pass-9876")


def test_staff_granted_the_user_admin_cannot_raise_anyones_privileges(client, territory,
                                                                       community_staff,
                                                                       grid_worker):
    # Even with every user permission, a community staff member edits names and phones only:
    # role, is_staff, is_superuser, groups and permissions are the street's to give.
    from django.contrib.auth.models import Permission

    community_staff.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="accounts", content_type__model="user"))
    client.force_login(community_staff)
    url = reverse("admin:accounts_user_change", args=[grid_worker.pk])
    form = client.get(url)
    assert form.status_code == 200
    assert 'name="is_superuser"' not in form.text and 'name="role"' not in form.text

    client.post(url, {"username": grid_worker.username, "display_name": "改名",
                      "phone": "", "scope_area": territory.grid.pk, "is_active": "on",
                      "is_staff": "on", "is_superuser": "on", "role": "street_admin",
                      "last_login_0": "", "last_login_1": "",
                      "date_joined_0": "2026-01-01", "date_joined_1": "09:00:00"})

    grid_worker.refresh_from_db()
    assert grid_worker.display_name == "改名"
    assert not grid_worker.is_superuser and not grid_worker.is_staff
    assert grid_worker.role == User.Role.GRID_WORKER
