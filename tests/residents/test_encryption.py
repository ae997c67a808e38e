"""ID numbers and care notes are encrypted at rest (PIPL) and still usable: the raw columns
hold no plaintext, the ORM reads them back, and an ID number is found by its exact value."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.checks.registry import registry
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core import crypto
from governance.services import staff_groups_ensure
from residents.models import Resident
from residents.services import residents_import
from tests.residents.factories import ResidentFactory
from volunteers.models import CareFile
from volunteers.services.care import care_file_create, care_visit_log

ID_NUMBER = "370211195601011234"
HEALTH = "高血压，独自服药"
VISIT = "血压平稳，冰箱里有菜"


def raw(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@pytest.fixture
def resident(territory):
    return ResidentFactory(household=territory.household1, name="李秀兰", id_number=ID_NUMBER)


def test_the_raw_columns_hold_no_plaintext_and_the_orm_reads_it_back(resident, community_staff):
    care_file = care_file_create(resident=resident, actor=community_staff,
                                 category=CareFile.Category.ELDER_ALONE,
                                 risk=CareFile.Risk.HIGH, health_notes=HEALTH,
                                 living_notes="独自居住")
    care_visit_log(care_file=care_file, user=community_staff, visited_on=timezone.localdate(),
                   notes=VISIT)

    [(stored_id, digest)] = raw("SELECT id_number, id_number_digest FROM residents_resident "
                                "WHERE id = %s", [resident.pk])
    [(health, living)] = raw("SELECT health_notes, living_notes FROM volunteers_carefile "
                             "WHERE id = %s", [care_file.pk])
    [(notes,)] = raw("SELECT notes FROM volunteers_carevisit WHERE care_file_id = %s",
                     [care_file.pk])
    for stored, plain in ((stored_id, ID_NUMBER), (health, HEALTH), (living, "独自居住"),
                          (notes, VISIT)):
        assert stored.startswith(crypto.TOKEN_PREFIX)
        assert plain not in stored
        assert ID_NUMBER[-6:] not in stored
    assert digest == crypto.blind_index(ID_NUMBER) and ID_NUMBER not in digest

    assert Resident.objects.get(pk=resident.pk).id_number == ID_NUMBER
    fresh = CareFile.objects.get(pk=care_file.pk)
    assert (fresh.health_notes, fresh.living_notes) == (HEALTH, "独自居住")
    assert fresh.visits.get().notes == VISIT
    assert list(Resident.objects.filter(pk=resident.pk).values_list("id_number", flat=True)) == [
        ID_NUMBER]


def test_the_same_number_encrypts_differently_each_time_but_has_one_digest(territory):
    first = ResidentFactory(household=territory.household1, id_number=ID_NUMBER)
    second = ResidentFactory(household=territory.household2, id_number=ID_NUMBER.lower())
    rows = dict(raw("SELECT id, id_number FROM residents_resident WHERE id IN (%s, %s)",
                    [first.pk, second.pk]))
    assert rows[first.pk] != rows[second.pk]
    assert first.id_number_digest == second.id_number_digest != ""


def test_an_empty_number_stays_empty_and_a_changed_one_gets_a_new_digest(territory):
    resident = ResidentFactory(household=territory.household1, id_number="")
    assert raw("SELECT id_number, id_number_digest FROM residents_resident WHERE id = %s",
               [resident.pk]) == [("", "")]
    assert Resident.objects.filter(id_number="").filter(pk=resident.pk).exists()

    resident.id_number = ID_NUMBER
    resident.save(update_fields=["id_number"])  # the digest follows, though not named

    assert Resident.objects.get(id_number_digest=crypto.blind_index(ID_NUMBER)) == resident


def test_searching_the_encrypted_column_itself_is_refused_not_silently_empty(resident):
    with pytest.raises(FieldError):
        list(Resident.objects.filter(id_number=ID_NUMBER))
    with pytest.raises(FieldError):
        list(Resident.objects.filter(id_number__startswith="3702"))


def test_staff_find_a_resident_by_full_id_number_in_the_admin_and_the_api(
        resident, territory, community_staff, client, django_assert_max_num_queries):
    ResidentFactory(household=territory.household1, name="张三", id_number="370211196001015678")
    staff_groups_ensure()
    client.force_login(community_staff)
    html = client.get(reverse("admin:residents_resident_changelist"),
                      {"q": ID_NUMBER}).content.decode()
    assert "李秀兰" in html and "张三" not in html

    api = APIClient()
    api.force_authenticate(community_staff)
    with django_assert_max_num_queries(3):
        response = api.get(reverse("api:residents-resident-list"), {"id_number": ID_NUMBER})
    assert [row["name"] for row in response.json()["results"]] == ["李秀兰"]


def test_an_imported_number_is_stored_encrypted_and_found_by_its_digest(territory,
                                                                          community_staff):
    content = ("\ufeff小区,楼号,单元,门牌号,姓名,手机号,身份证号,性别,出生年份,标签,户主\n"
               f"长江瑞城,1,1,0101,钱小梅,13811113333,{ID_NUMBER},女,,,否\n").encode()
    report = residents_import(file=content, format="csv", actor=community_staff)
    assert report.is_ok, report.errors
    [(stored,)] = raw("SELECT id_number FROM residents_resident WHERE name = %s", ["钱小梅"])
    assert ID_NUMBER not in stored
    assert Resident.objects.get(id_number_digest=crypto.blind_index(ID_NUMBER)).name == "钱小梅"


def test_an_import_refuses_an_id_number_already_registered_to_someone_else(resident,
                                                                          community_staff):
    header = "\ufeff小区,楼号,单元,门牌号,姓名,手机号,身份证号,性别,出生年份,标签,户主\n"
    again = f"长江瑞城,1,1,0101,李秀兰,,{ID_NUMBER},女,,,否\n"  # herself again: fine
    report = residents_import(file=(header + again).encode(), format="csv", actor=community_staff)
    assert report.is_ok, report.errors
    other = f"长江瑞城,3,1,0301,冒用者,,{ID_NUMBER},男,,,否\n"
    report = residents_import(file=(header + other).encode(), format="csv", actor=community_staff)
    assert not report.is_ok
    assert "该身份证号已登记在其他居民名下" in str(report.errors)
    assert not Resident.objects.filter(name="冒用者").exists()


def test_a_new_key_put_first_still_reads_old_rows_and_rotation_rewrites_them(resident):
    old_key = crypto.encryption_keys()[0]
    new_key = Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]), pytest.raises(InvalidToken):
        Resident.objects.get(pk=resident.pk)  # a lost key is loud, never silent garbage
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, old_key]):
        assert Resident.objects.get(pk=resident.pk).id_number == ID_NUMBER
        call_command("encryption_rotate", stdout=io.StringIO())
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):  # the old key can now go
        assert Resident.objects.get(pk=resident.pk).id_number == ID_NUMBER
        [(stored,)] = raw("SELECT id_number FROM residents_resident WHERE id = %s",
                          [resident.pk])
        assert Fernet(new_key.encode()).decrypt(stored.encode()).decode() == ID_NUMBER


def test_the_data_migration_encrypts_plain_rows_once_and_reverses(territory):
    resident = ResidentFactory(household=territory.household1, id_number="")
    with connection.cursor() as cursor:  # a row as it was before the column was encrypted
        cursor.execute("UPDATE residents_resident SET id_number = %s WHERE id = %s",
                       [ID_NUMBER, resident.pk])
    table = {"table": "residents_resident", "columns": ["id_number"],
             "digests": {"id_number_digest": "id_number"}}

    crypto.table_encrypt(connection, **table)
    [(first, digest)] = raw("SELECT id_number, id_number_digest FROM residents_resident "
                            "WHERE id = %s", [resident.pk])
    crypto.table_encrypt(connection, **table)  # again: already-encrypted rows are kept
    [(second, _)] = raw("SELECT id_number, id_number_digest FROM residents_resident "
                        "WHERE id = %s", [resident.pk])
    assert first == second and first.startswith(crypto.TOKEN_PREFIX)
    assert digest == crypto.blind_index(ID_NUMBER)

    crypto.table_encrypt(connection, **table, decrypting=True)
    assert raw("SELECT id_number, id_number_digest FROM residents_resident WHERE id = %s",
               [resident.pk]) == [(ID_NUMBER, "")]


def test_production_deploy_checks_require_real_keys():
    # Registered for `check --deploy`; called directly below (running every check is slow).
    deploy_checks = registry.get_checks(include_deployment_checks=True)
    assert {crypto.keys_check, crypto.keys_deploy_check} <= set(deploy_checks)

    def errors() -> set[str]:
        return {message.id for message in [*crypto.keys_check(), *crypto.keys_deploy_check()]}

    with override_settings(DJANGO_ENV="production", FIELD_ENCRYPTION_KEYS=[],
                           FIELD_BLIND_INDEX_KEY=""):
        assert errors() == {"core.E102", "core.E103"}
    with override_settings(DJANGO_ENV="production", FIELD_ENCRYPTION_KEYS=["not-a-key"],
                           FIELD_BLIND_INDEX_KEY="x" * 32):
        assert errors() == {"core.E101"}
    with override_settings(DJANGO_ENV="production",
                           FIELD_ENCRYPTION_KEYS=[Fernet.generate_key().decode()],
                           FIELD_BLIND_INDEX_KEY="x" * 32):
        assert errors() == set()
    with override_settings(DJANGO_ENV="local", FIELD_ENCRYPTION_KEYS=[],
                           FIELD_BLIND_INDEX_KEY=""):
        assert errors() == set()



def test_production_without_keys_refuses_to_write_personal_data(territory):
    with override_settings(DJANGO_ENV="production", FIELD_ENCRYPTION_KEYS=[],
                           FIELD_BLIND_INDEX_KEY=""), pytest.raises(ImproperlyConfigured), \
            transaction.atomic():
        ResidentFactory(household=territory.household1, id_number=ID_NUMBER)
    assert not Resident.objects.exists()
