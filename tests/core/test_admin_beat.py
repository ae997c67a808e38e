"""The beat schedule's admin pages (django-celery-beat) are for the system's operators only
(issue 13 item 12): not for the street's clerks, whatever permissions a group or a superuser
flag gives them. The schedule itself is defined in code (config/settings CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.models import User
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

BEAT_MODELS = ("periodictask", "crontabschedule", "intervalschedule", "solarschedule",
               "clockedschedule")


def changelist(model: str) -> str:
    return reverse(f"admin:django_celery_beat_{model}_changelist")


@pytest.fixture
def clerk_with_every_permission(territory):
    """A street admin who is not a superuser, given every model permission there is."""
    user = UserFactory(username="clerk", role=User.Role.STREET_ADMIN, is_staff=True,
                       scope_area=territory.street)
    user.user_permissions.set(Permission.objects.all())
    return User.objects.get(pk=user.pk)


@pytest.fixture
def operator():
    """A `createsuperuser` account: no street-office role."""
    return UserFactory(username="ops", is_staff=True, is_superuser=True)


@pytest.mark.parametrize("who", ["clerk_with_every_permission", "street_admin"])
def test_the_street_clerks_neither_see_nor_open_the_beat_schedule(client, who, request):
    client.force_login(request.getfixturevalue(who))
    index = client.get(reverse("admin:index")).content.decode()
    assert "django_celery_beat" not in index
    for model in BEAT_MODELS:
        assert client.get(changelist(model)).status_code == 403, model
    app = client.get(reverse("admin:app_list", args=["django_celery_beat"]))
    assert app.status_code == 404


def test_an_operator_superuser_sees_and_opens_the_beat_schedule(client, operator):
    client.force_login(operator)
    index = client.get(reverse("admin:index")).content.decode()
    for model in BEAT_MODELS:
        assert changelist(model) in index
        assert client.get(changelist(model)).status_code == 200, model
