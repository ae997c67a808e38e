"""The access matrix's class "filter or search over a protected field" (issue 10, item 1).

An exact-match filter on a phone or ID number answers one row or none: without a guard it is an
oracle that recovers a masked number by trying candidates (a phone's four hidden digits, an ID
number's birth date). Such a lookup is a reveal: only for callers who may reveal, only within
their reveal scope, one audit row per match, and a per-user budget (core.protected_lookups).

The first three tests enumerate every FilterSet, every ModelAdmin's search and every admin's
URL filters of the project, and fail when one reads a protected field (phone, ID number, contact
phone, also across a relation) without going through the mechanism: a new filter or search field
cannot slip past it.
The others walk the oracle through the API and the admin.
"""

from __future__ import annotations

import importlib
import inspect
import re

import django_filters
import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import PhoneCode, User
from accounts.services import api_key_create
from core.models import AuditEvent
from tests.accounts.factories import UserFactory
from tests.residents.factories import residents_populate

PROTECTED_FIELDS = {"phone", "id_number", "id_number_digest", "contact_phone", "emergency_phone"}
RESIDENTS_URL = reverse("api:residents-resident-list")


def touches_protected(lookup: str) -> bool:
    """Does a filter's field_name or a search field ("=residents__phone", "^phone") read a
    protected field, directly or across a relation?"""
    return any(part in PROTECTED_FIELDS for part in lookup.lstrip("=^@").split("__"))


def project_filtersets() -> list[type[django_filters.FilterSet]]:
    """Every FilterSet class of the project's own apps (their filters modules imported)."""
    project_apps = {config.name for config in apps.get_app_configs()
                    if config.path.startswith(str(settings.BASE_DIR))}
    for name in project_apps:
        try:
            importlib.import_module(f"{name}.filters")
        except ModuleNotFoundError:
            continue
    found, pending = [], list(django_filters.FilterSet.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in project_apps:
            found.append(cls)
    return found


def test_every_filterset_filter_over_a_protected_field_is_declared_a_protected_lookup() -> None:
    from core.protected_lookups import ProtectedLookupFilterSet

    filtersets = project_filtersets()
    assert len(filtersets) > 10  # the walk found the project's FilterSets
    undeclared = []
    for filterset in filtersets:
        declared = getattr(filterset, "protected_lookups", {})
        assert not declared or issubclass(filterset, ProtectedLookupFilterSet), filterset
        undeclared += [f"{filterset.__module__}.{filterset.__name__}.{name}"
                       for name, filter_field in filterset.base_filters.items()
                       if reads_protected(filterset, name, filter_field)
                       and name not in declared]
    assert undeclared == []


def reads_protected(filterset: type[django_filters.FilterSet], name: str,
                    filter_field: django_filters.Filter) -> bool:
    """By its name, its field, or (a `method=` filter such as a keyword search) any field path
    its method's source names."""
    if touches_protected(name) or touches_protected(filter_field.field_name or name):
        return True
    method = filter_field.method
    if not isinstance(method, str):
        return False
    source = inspect.getsource(getattr(filterset, method))
    return any(touches_protected(token) for token in re.findall(r"\w+", source))


def test_every_admin_search_over_a_protected_field_goes_through_the_protected_search() -> None:
    from core.protected_lookups import ProtectedSearchAdminMixin

    plain, declared = [], 0
    for model, model_admin in admin.site._registry.items():
        plain += [f"{model._meta.label}: {search_field}"
                  for search_field in model_admin.search_fields or ()
                  if touches_protected(search_field)]
        protected = getattr(model_admin, "protected_search_fields", {})
        assert not protected or isinstance(model_admin, ProtectedSearchAdminMixin), model
        assert all(touches_protected(field) for field in protected), model._meta.label
        declared += len(protected)
    assert plain == []
    assert declared >= 9  # residents ×4, staff posts, users, sign-in codes, volunteers, petitions


def test_no_admin_takes_a_url_filter_over_a_protected_field() -> None:
    """The changelist filters by any local field named in the query string
    (`?phone__startswith=1391234`): a prefix oracle, faster than any exact one."""
    request = RequestFactory().get("/")
    open_doors = []
    for model, model_admin in admin.site._registry.items():
        for field in model._meta.concrete_fields:
            if field.name in PROTECTED_FIELDS:
                open_doors += [f"{model._meta.label}: {lookup}"
                               for lookup in (field.name, f"{field.name}__startswith")
                               if model_admin.lookup_allowed(lookup, "139", request)]
    assert open_doors == []


# --- the API --------------------------------------------------------------------------------


@pytest.fixture
def people(territory):
    return residents_populate([territory.household1, territory.household2,
                               territory.other_household])


def key_client(scope_area=None) -> APIClient:
    _api_key, raw_key = api_key_create(name="12345 热线", scope_area=scope_area)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    return client


def user_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_key_finds_no_resident_by_full_phone_outside_its_reveal_scope(territory, people):
    client = key_client(scope_area=territory.micro1)
    far = people[-1]  # 黄河路社区: outside the key's scope
    response = client.get(RESIDENTS_URL, {"phone": far.phone})
    assert response.status_code == 200
    assert response.json()["results"] == []
    assert not AuditEvent.objects.exists()


def test_an_exact_id_number_filter_writes_one_audit_row_per_match(territory, microgrid_worker,
                                                                 people):
    target = people[0]  # household1, 微网格一: in the worker's scope
    response = user_client(microgrid_worker).get(RESIDENTS_URL,
                                                 {"id_number": target.id_number})
    assert [row["id"] for row in response.json()["results"]] == [target.pk]
    event = AuditEvent.objects.get()
    assert (event.action, event.object_type, event.object_id, event.fields, event.actor) == (
        "reveal", "residents.resident", str(target.pk), ["id_number"], microgrid_worker)
    # A miss is audited nowhere (no row was revealed) but still counts against the budget.
    response = user_client(microgrid_worker).get(RESIDENTS_URL,
                                                 {"id_number": "370211196001019999"})
    assert response.json()["results"] == []
    assert AuditEvent.objects.count() == 1


def test_a_microgrid_worker_finds_nobody_by_phone_outside_their_micro_grid(
        territory, microgrid_worker, people):
    elsewhere = people[3]  # household2, 微网格二
    response = user_client(microgrid_worker).get(RESIDENTS_URL, {"phone": elsewhere.phone})
    assert response.json()["results"] == []


def test_exact_lookups_are_throttled_per_user_for_sessions_and_keys(territory, grid_worker,
                                                                   people, monkeypatch):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "protected_lookup", "2/min")
    client = user_client(grid_worker)
    answers = [client.get(RESIDENTS_URL, {"phone": f"1390000{index:04d}"}).status_code
               for index in range(3)]
    assert answers == [200, 200, 429]
    # Lists without an exact lookup are not counted against it.
    assert client.get(RESIDENTS_URL, {"tag": "elder_alone"}).status_code == 200
    response = client.get(RESIDENTS_URL, {"phone": people[0].phone})
    assert response.status_code == 429
    assert "查找" in response.json()["message"]
    # A key has its own budget.
    keyed = key_client(scope_area=territory.grid)
    assert keyed.get(RESIDENTS_URL, {"phone": people[0].phone}).status_code == 200


def test_session_users_have_an_api_throttle(territory, grid_worker, monkeypatch):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "user", "2/min")
    client = user_client(grid_worker)
    url = reverse("api:residents-household-list")
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]


# --- the admin ------------------------------------------------------------------------------


@pytest.fixture
def narrow_superuser(territory):
    """A superuser (lists every row) whose own reveal scope is only 微网格一."""
    return UserFactory(username="district", role=User.Role.STREET_ADMIN, is_staff=True,
                       is_superuser=True, scope_area=territory.micro1)


def rows_of(response) -> list:
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def test_the_admin_search_by_full_phone_keeps_to_the_reveal_scope_and_is_audited(
        territory, client, narrow_superuser, people):
    client.force_login(narrow_superuser)
    url = reverse("admin:residents_resident_changelist")
    far, near = people[-1], people[0]
    assert rows_of(client.get(url, {"q": far.phone})) == []
    assert not AuditEvent.objects.exists()
    assert [row.pk for row in rows_of(client.get(url, {"q": near.phone}))] == [near.pk]
    event = AuditEvent.objects.get()
    assert (event.object_id, event.fields, event.actor) == (str(near.pk), ["phone"],
                                                            narrow_superuser)
    # The ID number too (found through its digest), and a household by a resident's phone.
    assert [row.pk for row in rows_of(client.get(url, {"q": near.id_number}))] == [near.pk]
    households = rows_of(client.get(reverse("admin:residents_household_changelist"),
                                    {"q": far.phone}))
    assert households == []


def test_the_admin_search_by_part_of_a_phone_finds_nobody(territory, client, street_admin):
    UserFactory(username="zhao", role=User.Role.RESIDENT, phone="13912345678")
    client.force_login(street_admin)
    url = reverse("admin:accounts_user_changelist")
    assert rows_of(client.get(url, {"q": "1234567"})) == []
    assert [user.username for user in rows_of(client.get(url, {"q": "13912345678"}))] == [
        "zhao"]
    assert AuditEvent.objects.filter(object_type="accounts.user", fields=["phone"]).count() == 1


def test_an_admin_search_by_phone_is_refused_with_a_message_to_who_may_not_reveal_there(
        territory, client, narrow_superuser):
    # Sign-in codes hang from no area: only who may reveal everywhere may look one up.
    from django.utils import timezone

    PhoneCode.objects.create(phone="13912345678", code_hash="f" * 64,
                             expires_at=timezone.now())
    client.force_login(narrow_superuser)
    response = client.get(reverse("admin:accounts_phonecode_changelist"), {"q": "13912345678"})
    assert rows_of(response) == []
    assert "仅限有权查看这些完整信息的工作人员" in response.content.decode()
    assert not AuditEvent.objects.exists()


def test_the_admin_protected_search_is_throttled(territory, client, narrow_superuser, people,
                                                  monkeypatch):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "protected_lookup", "1/min")
    client.force_login(narrow_superuser)
    url = reverse("admin:residents_resident_changelist")
    near = people[0]
    assert len(rows_of(client.get(url, {"q": near.phone}))) == 1
    response = client.get(url, {"q": near.phone})
    assert rows_of(response) == []
    assert "过于频繁" in response.content.decode()
    assert AuditEvent.objects.count() == 1
    # An ordinary search is not a lookup and is not counted.
    assert len(rows_of(client.get(url, {"q": near.name}))) == 1


def test_an_admin_url_filter_by_the_start_of_a_phone_is_refused(territory, client, street_admin,
                                                                 people):
    client.force_login(street_admin)
    url = reverse("admin:residents_resident_changelist")
    response = client.get(url, {"phone__startswith": people[0].phone[:10]})
    assert response.status_code == 400


def protected_admins() -> list[str]:
    return [f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
            for model, model_admin in admin.site._registry.items()
            if getattr(model_admin, "protected_search_fields", None)]


@pytest.mark.parametrize("url_name", protected_admins())
@pytest.mark.parametrize("term", ["13912345678", "0532-86981234", "370211196001010011"])
def test_every_protected_admin_search_answers_the_street_admin(territory, client, street_admin,
                                                                url_name, term):
    client.force_login(street_admin)
    response = client.get(reverse(url_name), {"q": term})
    assert response.status_code == 200
    assert "仅限" not in response.content.decode()


def test_a_refused_lookup_leaves_no_whole_number_in_the_request_log(territory, people, caplog):
    # django.request logs every 4xx with the request, whose repr carries the query string.
    from core.masking import unmasked_numbers

    client = key_client(scope_area=territory.micro1)
    with caplog.at_level("WARNING", logger="django.request"):
        response = client.get(RESIDENTS_URL, {"id_number": people[0].id_number})
    assert response.status_code == 403
    records = [record for record in caplog.records if record.name == "django.request"]
    assert records
    # Everything the record holds but its clock readings: relativeCreated (a float of ms, up to
    # 17 digits) may show an 11-digit fraction such as 5123.13912345678, and 1 run in 25 failed
    # on a "mobile number" that came from the clock.
    clocks = ("created", "msecs", "relativeCreated")
    assert all(not unmasked_numbers(repr({key: value for key, value in record.__dict__.items()
                                          if key not in clocks}))
               for record in records)
