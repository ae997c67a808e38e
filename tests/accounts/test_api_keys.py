from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from accounts.api.authentication import ApiKeyAuthentication
from accounts.api.throttles import ApiKeyRateThrottle
from accounts.models import ApiKey, User
from accounts.services import api_key_create, api_key_deactivate
from core.exceptions import ApplicationError

ME_URL = reverse("api:me")

pytestmark = pytest.mark.django_db


def create_key(*args: str) -> tuple[str, str]:
    out = StringIO()
    call_command("create_api_key", *args, stdout=out)
    text = out.getvalue()
    return text, text.rstrip("\n").splitlines()[-1]


def test_create_api_key_prints_the_raw_key_alone_on_the_last_line(territory):
    text, raw_key = create_key("12345 热线", "--scope", "富春江路社区")
    api_key = ApiKey.objects.get()
    assert raw_key.startswith(f"{api_key.prefix}.")
    assert raw_key.strip() == raw_key
    assert api_key.key_hash == ApiKey.hash_key(raw_key)
    assert raw_key not in text.splitlines()[0]
    assert api_key.user.role == User.Role.EXTERNAL_SYSTEM
    assert api_key.user.scope_area == territory.community
    assert not api_key.user.has_usable_password()


def test_create_api_key_accepts_an_area_id(territory):
    create_key("诉速办", "--scope", str(territory.grid.pk))
    assert ApiKey.objects.get().user.scope_area == territory.grid


def test_create_api_key_without_scope(db):
    create_key("区级大屏")
    assert ApiKey.objects.get().user.scope_area is None


@pytest.mark.parametrize("scope", ["不存在的社区", "999999"])
def test_create_api_key_refuses_an_unknown_area_in_chinese(territory, scope):
    with pytest.raises(CommandError, match="找不到"):
        create_key("12345 热线", "--scope", scope)
    assert not ApiKey.objects.exists()


def test_the_printed_key_authenticates_and_me_shows_the_system(territory):
    _, raw_key = create_key("12345 热线", "--scope", "富春江路社区")
    client = APIClient()
    response = client.get(ME_URL, HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    assert response.status_code == 200
    assert response.json()["role"] == "external_system"
    assert response.json()["display_name"] == "12345 热线"
    assert ApiKey.objects.get().last_used_at is not None


@pytest.mark.parametrize("header", ["Api-Key nonsense", "Api-Key abcd1234.wrong", "Api-Key "])
def test_a_wrong_key_is_401(territory, header):
    api_key_create(name="12345 热线")
    response = APIClient().get(ME_URL, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"
    assert response.json()["message"] == "API 密钥无效。"


def test_a_right_secret_with_another_keys_prefix_is_refused(territory):
    first, _ = api_key_create(name="A")
    _, second_raw = api_key_create(name="B")
    forged = f"{first.prefix}.{second_raw.split('.', 1)[1]}"
    response = APIClient().get(ME_URL, HTTP_AUTHORIZATION=f"Api-Key {forged}")
    assert response.status_code == 401


def test_a_deactivated_key_is_refused(territory):
    api_key, raw_key = api_key_create(name="12345 热线")
    api_key_deactivate(api_key=api_key)
    response = APIClient().get(ME_URL, HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    assert response.status_code == 401


def test_api_key_create_needs_a_name(db):
    with pytest.raises(ApplicationError, match="名称"):
        api_key_create(name="  ")


def test_key_authentication_is_a_few_queries(territory, django_assert_max_num_queries):
    _, raw_key = api_key_create(name="12345 热线", scope_area=territory.community)
    client = APIClient()
    # key + user (one join), last_used_at update, scope area
    with django_assert_max_num_queries(3):
        assert client.get(ME_URL, HTTP_AUTHORIZATION=f"Api-Key {raw_key}").status_code == 200


class _Limited(APIView):
    authentication_classes = [ApiKeyAuthentication]
    throttle_classes = [ApiKeyRateThrottle]

    def get(self, request):
        from rest_framework.response import Response

        return Response({"ok": True})


def test_the_api_key_throttle_has_one_bucket_per_key(territory, settings, monkeypatch):
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "2/min"})
    _, first = api_key_create(name="A")
    _, second = api_key_create(name="B")
    view = _Limited.as_view()
    factory = APIRequestFactory()

    def call(raw_key: str) -> int:
        return view(factory.get("/", HTTP_AUTHORIZATION=f"Api-Key {raw_key}")).status_code

    assert [call(first), call(first), call(first)] == [200, 200, 429]
    assert call(second) == 200


def test_the_api_key_throttle_ignores_requests_without_a_key(territory, monkeypatch, grid_worker):
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "1/min"})
    request = APIRequestFactory().get("/")
    request.user, request.auth = grid_worker, None
    assert ApiKeyRateThrottle().get_cache_key(request, None) is None


def test_a_keyed_request_records_last_use_at_most_once_a_minute(db):
    import time_machine
    from django.utils import timezone

    from accounts.api.authentication import api_key_user
    from accounts.models import ApiKey
    from accounts.services import api_key_create

    api_key, raw = api_key_create(name="12345 热线")
    with time_machine.travel("2026-11-28 10:00:00+08:00", tick=False):
        api_key_user(raw)
        first = ApiKey.objects.get(pk=api_key.pk).last_used_at
        assert first == timezone.now()
    with time_machine.travel("2026-11-28 10:00:30+08:00", tick=False):
        api_key_user(raw)
        assert ApiKey.objects.get(pk=api_key.pk).last_used_at == first
    with time_machine.travel("2026-11-28 10:01:30+08:00", tick=False):
        api_key_user(raw)
        assert ApiKey.objects.get(pk=api_key.pk).last_used_at == timezone.now()
