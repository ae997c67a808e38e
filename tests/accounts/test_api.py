from __future__ import annotations

import pytest
from django.urls import include, path, reverse
from drf_spectacular.drainage import GENERATOR_STATS, reset_generator_stats
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.models import User
from tests.accounts.conftest import last_code
from tests.residents.factories import ResidentFactory

PHONE = "13912345678"
CODE_URL = reverse("api:auth-phone-code")
VERIFY_URL = reverse("api:auth-phone-verify")
ME_URL = reverse("api:me")

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def test_the_code_endpoint_answers_known_and_unknown_phones_identically(api, resident_user):
    known = api.post(CODE_URL, {"phone": resident_user.phone}, format="json")
    unknown = api.post(CODE_URL, {"phone": "13700009999"}, format="json")
    assert known.status_code == unknown.status_code == 200
    assert known.json() == unknown.json()
    assert known.json()["message"] == "验证码已发送，请查收短信。"


def test_verify_signs_in_by_session_and_links_the_household(api, territory):
    resident = ResidentFactory(household=territory.household1, name="赵大爷", phone=PHONE)
    api.post(CODE_URL, {"phone": PHONE}, format="json")
    response = api.post(VERIFY_URL, {"phone": PHONE, "code": last_code(PHONE)}, format="json")
    assert response.status_code == 200
    assert response.json()["role"] == "resident"
    assert response.json()["phone"] == "139****5678"
    resident.refresh_from_db()
    assert resident.user is not None
    me = api.get(ME_URL)
    assert me.status_code == 200
    assert me.json()["display_name"] == "赵大爷"


def test_bad_input_gets_one_chinese_error_shape(api):
    missing = api.post(CODE_URL, {}, format="json")
    assert missing.status_code == 400
    assert missing.json()["code"] == "invalid"
    assert "phone" in missing.json()["errors"]
    bad_phone = api.post(CODE_URL, {"phone": "123"}, format="json")
    assert bad_phone.status_code == 400
    assert bad_phone.json()["message"] == "请输入正确的11位手机号码。"
    bad_code = api.post(VERIFY_URL, {"phone": PHONE, "code": "x"}, format="json")
    assert bad_code.status_code == 400
    assert "验证码" in bad_code.json()["message"]


def test_a_wrong_code_is_400_and_does_not_sign_in(api):
    api.post(CODE_URL, {"phone": PHONE}, format="json")
    code = last_code(PHONE)
    response = api.post(VERIFY_URL, {"phone": PHONE, "code": f"{(int(code) + 1) % 10**6:06d}"},
                        format="json")
    assert response.status_code == 400
    assert "验证码错误" in response.json()["message"]
    assert api.get(ME_URL).status_code in (401, 403)


def test_service_rate_limits_are_429_with_a_chinese_message(api):
    api.post(CODE_URL, {"phone": PHONE}, format="json")
    response = api.post(CODE_URL, {"phone": PHONE}, format="json")
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert "秒后" in response.json()["message"]


def test_the_code_endpoint_is_throttled_per_client_ip(api, settings):
    settings.NUM_PROXIES = 0
    statuses = [api.post(CODE_URL, {"phone": "123"}, format="json",
                         HTTP_X_FORWARDED_FOR=f"198.51.100.{index}").status_code
                for index in range(11)]
    # Ten bad requests are answered; the eleventh is throttled even with a new forged header.
    assert statuses[:10] == [400] * 10
    assert statuses[10] == 429


def test_the_sign_in_endpoints_check_csrf_even_for_anonymous_callers(territory):
    strict = APIClient(enforce_csrf_checks=True)
    response = strict.post(CODE_URL, {"phone": PHONE}, format="json")
    assert response.status_code == 403


def test_me_masks_the_phone_and_names_the_scope_area(api, grid_worker):
    grid_worker.phone = "13611112222"
    grid_worker.save(update_fields=["phone"])
    api.force_authenticate(grid_worker)
    body = api.get(ME_URL).json()
    assert body["phone"] == "136****2222"
    assert body["role"] == "grid_worker"
    assert body["role_display"] == "专职网格员"
    assert body["display_name"] == "张网格员"
    assert body["scope_area"] == {"id": grid_worker.scope_area_id, "name": "网格一",
                                  "kind": "grid"}
    assert "13611112222" not in str(body)


def test_me_for_a_resident_without_scope(api, resident_user):
    api.force_authenticate(resident_user)
    body = api.get(ME_URL).json()
    assert body["scope_area"] is None
    assert body["phone"] == "138****1111"


def test_me_refuses_anonymous_callers(api, territory):
    assert api.get(ME_URL).status_code in (401, 403)


def test_me_reads_the_user_and_their_scope_area_in_one_query(client, grid_worker,
                                                              django_assert_num_queries):
    client.force_login(grid_worker)
    # the session; the user with their scope area (accounts.backends.ModelBackend)
    with django_assert_num_queries(2):
        assert client.get(ME_URL).status_code == 200


def test_the_accounts_api_schema_has_no_warnings():
    reset_generator_stats()
    patterns = [path("api/v1/", include(("accounts.api.urls", "api"), namespace="api"))]
    schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)
    assert not GENERATOR_STATS._warn_cache, list(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, list(GENERATOR_STATS._error_cache)
    assert {"/api/v1/auth/phone/code/", "/api/v1/auth/phone/verify/",
            "/api/v1/me/"} <= set(schema["paths"])
    assert "apiKeyAuth" in schema["components"]["securitySchemes"]


def test_a_user_record_never_leaves_with_its_full_phone(api, territory):
    user = User.objects.create(username="m1", phone=PHONE, role=User.Role.RESIDENT)
    api.force_authenticate(user)
    assert PHONE not in api.get(ME_URL).text
