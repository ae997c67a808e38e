"""One phone rule everywhere a number is entered: 11 ASCII digits.

`\\d` in a Python pattern matches the digits of every script, so "13" followed by nine full-width
or Arabic-Indic digits passed as a mainland mobile: each variant got its own sign-in code limit
and its own look-alike account. Full-width digits (what a Chinese input method types) are read
as the ASCII number; digits of other scripts are refused.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import PhoneCode, User
from core.phones import phone_normalize
from notifications.sms import LocmemSmsBackend
from residents.models import Resident
from residents.services import residents_import
from tests.residents.test_import import RESIDENT_HEADERS, xlsx

PHONE = "13912345678"
FULL_WIDTH = "１３９１２３４５６７８"
FULL_WIDTH_TAIL = "13９１２３４５６７８"  # the shape that passed `1[3-9]\d{9}`
OTHER_SCRIPTS = [
    "13" + "٩١٢٣٤٥٦٧٨",  # Arabic-Indic
    "13" + "۹۱۲۳۴۵۶۷۸",  # Extended Arabic-Indic (Persian)
    "13" + "९१२३४५६७८",  # Devanagari
    "١٣٩١٢٣٤٥٦٧٨",
]
CODE_URL = reverse("api:auth-phone-code")


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True)
def _empty_sms_outbox() -> Iterator[None]:
    LocmemSmsBackend.outbox.clear()
    yield
    LocmemSmsBackend.outbox.clear()


def test_full_width_digits_and_signs_read_as_the_ascii_number():
    assert phone_normalize(FULL_WIDTH) == PHONE
    assert phone_normalize(FULL_WIDTH_TAIL) == PHONE
    assert phone_normalize("＋８６　１３９－１２３４－５６７８") == PHONE


@pytest.mark.parametrize("variant", OTHER_SCRIPTS)
def test_digits_of_other_scripts_are_refused_in_chinese(variant):
    with pytest.raises(ValidationError, match="手机号"):
        phone_normalize(variant)


@pytest.mark.django_db
def test_a_full_width_variant_shares_the_numbers_code_limit_and_sms(api, territory):
    assert api.post(CODE_URL, {"phone": PHONE}, format="json").status_code == 200
    # The same number typed in full width is the same number: it waits for the resend interval.
    assert api.post(CODE_URL, {"phone": FULL_WIDTH_TAIL}, format="json").status_code == 429
    for variant in OTHER_SCRIPTS:
        response = api.post(CODE_URL, {"phone": variant}, format="json")
        assert response.status_code == 400
        assert response.json()["message"] == "请输入正确的11位手机号码。"
    assert set(PhoneCode.objects.values_list("phone", flat=True)) == {PHONE}
    assert [sms["phone"] for sms in LocmemSmsBackend.outbox] == [PHONE]


@pytest.mark.django_db
def test_the_sign_in_page_reads_full_width_and_refuses_other_scripts(client, territory):
    url = reverse("accounts:phone-login")
    response = client.post(url, {"phone": FULL_WIDTH})
    assert response.status_code == 302
    assert client.session["accounts_phone_pending"] == PHONE
    refused = client.post(url, {"phone": OTHER_SCRIPTS[0]})
    assert refused.status_code == 400
    assert "手机号" in refused.content.decode()
    assert set(PhoneCode.objects.values_list("phone", flat=True)) == {PHONE}


@pytest.mark.parametrize("model", [User, Resident])
def test_admin_forms_store_the_ascii_number_and_refuse_other_scripts(model):
    # The admin's ModelForm field comes from the model field, as does full_clean's validation.
    form_field = model._meta.get_field("phone").formfield()
    assert form_field.clean(FULL_WIDTH) == PHONE
    for variant in OTHER_SCRIPTS:
        with pytest.raises(ValidationError, match="手机号"):
            form_field.clean(variant)
        with pytest.raises(ValidationError, match="手机号"):
            model._meta.get_field("phone").run_validators(variant)


@pytest.mark.django_db
def test_the_resident_import_stores_the_ascii_number_and_refuses_other_scripts(
    territory, community_staff
):
    row = ["长江瑞城", 1, 1, "0101", "赵大山", FULL_WIDTH_TAIL, "", "男", 1950, "", "是"]
    report = residents_import(
        file=xlsx(RESIDENT_HEADERS, [row]), format="xlsx", actor=community_staff
    )
    assert report.is_ok, report.errors
    assert Resident.objects.get(name="赵大山").phone == PHONE

    row = ["长江瑞城", 1, 1, "0101", "钱小梅", OTHER_SCRIPTS[0], "", "女", 1950, "", "否"]
    report = residents_import(
        file=xlsx(RESIDENT_HEADERS, [row]), format="xlsx", actor=community_staff
    )
    assert not report.is_ok
    assert {(error.row, error.field) for error in report.errors} == {(2, "手机号")}
    assert not Resident.objects.filter(name="钱小梅").exists()
