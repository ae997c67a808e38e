from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import PhoneCode, User
from accounts.services import phone_code_request, phone_code_verify, phone_normalize
from core.exceptions import ApplicationError, RateLimited
from notifications.sms import LocmemSmsBackend
from tests.accounts.conftest import last_code
from tests.accounts.factories import UserFactory
from tests.residents.factories import ResidentFactory

PHONE = "13912345678"
IP = "203.0.113.5"

pytestmark = pytest.mark.django_db


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_it_sends_a_six_digit_code_and_stores_only_a_keyed_hash():
    phone_code_request(phone=PHONE, ip=IP)
    code = last_code(PHONE)
    row = PhoneCode.objects.get()
    assert row.code_hash == PhoneCode.hash_code(PHONE, code)
    assert row.requested_ip == IP
    assert abs(row.expires_at - row.created_at - timedelta(minutes=5)) < timedelta(seconds=1)


def test_it_normalises_spaces_dashes_and_the_country_code():
    assert phone_normalize(" +86 139-1234-5678 ") == PHONE
    assert phone_normalize("008613912345678") == PHONE
    assert phone_normalize("8613912345678") == PHONE


@pytest.mark.parametrize("bad", ["", "12912345678", "1391234567", "139123456789", "abc",
                                 "010-12345678"])
def test_it_refuses_a_number_that_is_not_a_mainland_mobile_in_chinese(bad):
    with pytest.raises(ApplicationError, match="手机号"):
        phone_code_request(phone=bad, ip=IP)
    assert LocmemSmsBackend.outbox == []


def test_a_correct_code_creates_a_resident_account_with_no_usable_password():
    phone_code_request(phone=PHONE, ip=IP)
    user = phone_code_verify(phone=PHONE, code=last_code(PHONE), ip=IP)
    assert user.role == User.Role.RESIDENT
    assert user.phone == PHONE
    # The username never holds the whole phone (it is shown in the admin and the audit log).
    assert user.username.startswith(f"m{PHONE[-4:]}-") and PHONE not in user.username
    assert not user.has_usable_password()


def test_first_sign_in_links_the_household_records_with_that_phone(territory):
    resident = ResidentFactory(household=territory.household1, name="赵大爷", phone=PHONE)
    other_phone = ResidentFactory(household=territory.household2, phone="13700000000")
    phone_code_request(phone=PHONE, ip=IP)
    user = phone_code_verify(phone=PHONE, code=last_code(PHONE), ip=IP)
    resident.refresh_from_db()
    other_phone.refresh_from_db()
    assert resident.user_id == user.pk
    assert other_phone.user_id is None
    assert user.display_name == "赵大爷"


def test_a_later_sign_in_reuses_the_account_and_links_records_added_since(territory):
    phone_code_request(phone=PHONE, ip=IP)
    first = phone_code_verify(phone=PHONE, code=last_code(PHONE), ip=IP)
    added_later = ResidentFactory(household=territory.household1, phone=PHONE)
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        phone_code_request(phone=PHONE, ip=IP)
        again = phone_code_verify(phone=PHONE, code=last_code(PHONE), ip=IP)
    added_later.refresh_from_db()
    assert again.pk == first.pk
    assert added_later.user_id == first.pk
    assert User.objects.filter(phone=PHONE).count() == 1


def test_a_code_cannot_be_used_twice():
    phone_code_request(phone=PHONE, ip=IP)
    code = last_code(PHONE)
    phone_code_verify(phone=PHONE, code=code, ip=IP)
    with pytest.raises(ApplicationError, match="已失效"):
        phone_code_verify(phone=PHONE, code=code, ip=IP)


def test_an_expired_code_is_refused():
    phone_code_request(phone=PHONE, ip=IP)
    code = last_code(PHONE)
    with time_machine.travel(timezone.now() + timedelta(minutes=5, seconds=1)), \
            pytest.raises(ApplicationError, match="已失效"):
        phone_code_verify(phone=PHONE, code=code, ip=IP)


def test_a_code_still_works_just_before_it_expires():
    phone_code_request(phone=PHONE, ip=IP)
    with time_machine.travel(timezone.now() + timedelta(minutes=4, seconds=59)):
        assert phone_code_verify(phone=PHONE, code=last_code(PHONE), ip=IP).phone == PHONE


def test_only_the_newest_code_counts():
    phone_code_request(phone=PHONE, ip=IP)
    first = last_code(PHONE)
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        phone_code_request(phone=PHONE, ip=IP)
        second = last_code(PHONE)
        if first != second:
            with pytest.raises(ApplicationError, match="验证码错误"):
                phone_code_verify(phone=PHONE, code=first, ip=IP)
        assert phone_code_verify(phone=PHONE, code=second, ip=IP).phone == PHONE


def test_a_wrong_code_is_counted_and_says_how_many_tries_remain():
    phone_code_request(phone=PHONE, ip=IP)
    code = last_code(PHONE)
    with pytest.raises(ApplicationError, match="还可以再试 4 次"):
        phone_code_verify(phone=PHONE, code=wrong(code), ip=IP)
    # The failed try survives the refused call's transaction.
    assert PhoneCode.objects.get().attempts == 1
    assert phone_code_verify(phone=PHONE, code=code, ip=IP).phone == PHONE


def test_too_many_wrong_tries_burn_the_code_even_for_the_right_one(settings):
    phone_code_request(phone=PHONE, ip=IP)
    code = last_code(PHONE)
    for _ in range(settings.OTP_MAX_ATTEMPTS - 1):
        with pytest.raises(ApplicationError, match="验证码错误"):
            phone_code_verify(phone=PHONE, code=wrong(code), ip=IP)
    with pytest.raises(ApplicationError, match="次数过多"):
        phone_code_verify(phone=PHONE, code=wrong(code), ip=IP)
    with pytest.raises(ApplicationError, match="次数过多"):
        phone_code_verify(phone=PHONE, code=code, ip=IP)
    assert not User.objects.filter(phone=PHONE).exists()


def test_it_refuses_a_code_that_is_not_six_digits():
    phone_code_request(phone=PHONE, ip=IP)
    with pytest.raises(ApplicationError, match="6位数字"):
        phone_code_verify(phone=PHONE, code="12ab", ip=IP)
    assert PhoneCode.objects.get().attempts == 0


def test_a_phone_without_any_code_is_refused():
    with pytest.raises(ApplicationError, match="已失效"):
        phone_code_verify(phone=PHONE, code="123456", ip=IP)


def test_it_waits_a_minute_before_sending_again_to_the_same_phone():
    phone_code_request(phone=PHONE, ip=IP)
    with pytest.raises(RateLimited, match="秒后"):
        phone_code_request(phone=PHONE, ip=IP)
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        phone_code_request(phone=PHONE, ip=IP)
    assert len(LocmemSmsBackend.outbox) == 2


def test_it_limits_codes_per_phone_per_hour(settings):
    settings.OTP_MAX_PER_PHONE_PER_HOUR = 3
    start = timezone.now()
    for minute in range(3):
        with time_machine.travel(start + timedelta(minutes=2 * minute)):
            phone_code_request(phone=PHONE, ip=f"203.0.113.{minute}")
    with time_machine.travel(start + timedelta(minutes=10)), \
            pytest.raises(RateLimited, match="该手机号获取验证码过于频繁"):
        phone_code_request(phone=PHONE, ip="198.51.100.1")
    # The window slides: an hour after the first code, one more may be sent.
    with time_machine.travel(start + timedelta(minutes=61)):
        phone_code_request(phone=PHONE, ip=IP)
    assert len(LocmemSmsBackend.outbox) == 4


def test_it_limits_codes_per_ip_across_phones(settings):
    settings.OTP_MAX_PER_IP_PER_HOUR = 3
    for index in range(3):
        phone_code_request(phone=f"1390000000{index}", ip=IP)
    with pytest.raises(RateLimited, match="当前网络"):
        phone_code_request(phone="13900000009", ip=IP)
    phone_code_request(phone="13900000009", ip="198.51.100.1")


def test_it_has_a_global_ceiling(settings):
    settings.OTP_MAX_GLOBAL_PER_HOUR = 2
    phone_code_request(phone="13900000001", ip="198.51.100.1")
    phone_code_request(phone="13900000002", ip="198.51.100.2")
    with pytest.raises(RateLimited, match="系统繁忙"):
        phone_code_request(phone="13900000003", ip="198.51.100.3")


def test_requests_without_an_address_are_not_pooled_into_one_ip_limit(settings):
    settings.OTP_MAX_PER_IP_PER_HOUR = 1
    phone_code_request(phone="13900000001", ip=None)
    phone_code_request(phone="13900000002", ip=None)


def test_the_rate_limit_check_is_one_query(django_assert_num_queries):
    for index in range(5):
        PhoneCode.objects.create(phone=f"1390000000{index}", code_hash="x", requested_ip=IP,
                                 expires_at=timezone.now())
    # One aggregate for all the limits and one INSERT, however many rows are in the window
    # (plus savepoints, and the advisory lock on PostgreSQL).
    with django_assert_num_queries(5, exact=False) as captured:
        phone_code_request(phone=PHONE, ip=IP)
    reads = [query for query in captured.captured_queries
             if query["sql"].startswith("SELECT") and "accounts_phonecode" in query["sql"]]
    assert len(reads) == 1


def test_a_staff_members_phone_cannot_sign_in_by_code(territory):
    UserFactory(role=User.Role.GRID_WORKER, phone=PHONE, scope_area=territory.grid)
    phone_code_request(phone=PHONE, ip=IP)
    with pytest.raises(ApplicationError, match="工作人员"):
        phone_code_verify(phone=PHONE, code=last_code(PHONE), ip=IP)


def test_an_sms_failure_is_reported_in_chinese(settings):
    settings.SMS_BACKEND = "notifications.sms.BaseSmsBackend"
    with pytest.raises(ApplicationError, match="短信发送失败"):
        phone_code_request(phone=PHONE, ip=IP)
