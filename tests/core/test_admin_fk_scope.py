"""The access matrix's "scoped FK choice" class: in the admin, a staff member picks related rows
only inside their own scope (issue 10, item 7).

A community staff member of 富春江路社区 (A) is given every model permission there is, as if a
group had granted them all: scope must hold whatever a group grants. Then every ModelAdmin
registered on the admin site (enumerated from its registry, so a new admin is covered
automatically) is walked:

- every foreign-key and many-to-many choice offered on its add and change forms, inlines
  included, holds no row of 黄河路社区 (B);
- every autocomplete and raw-id lookup those forms use lists no row of B;
- posting B's id into any such field of an add or change form is refused on that field, and
  nothing is written.

A form field whose related model has no rows of B in this world, and is not declared GLOBAL
below, fails the run: a new relation forces a decision.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import import_module
from typing import Any

import pytest
from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.options import IS_POPUP_VAR, TO_FIELD_VAR
from django.contrib.auth.models import Permission
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Model, Q
from django.http import HttpResponseForbidden
from django.test import Client, RequestFactory
from django.urls import resolve, reverse

from accounts.models import User
from core.admin_scope import ScopedChoicesMixin, choice_scope_is_registered
from deliberation.models import (
    ActionItem,
    Need,
    Project,
    Resource,
    Session,
    Survey,
    SurveyAnswer,
    Topic,
)
from governance.models import Body, OrgNode
from petitions.models import Category, Petition, PetitionEvent
from residents.models import Household, PartyMember, Resident
from territory.models import Area, Building, Compound, Unit
from tests.conftest import Territory
from tests.core.urlmap import build_world
from tests.governance.factories import org_root
from tests.residents.factories import PartyMemberFactory
from volunteers.models import (
    Activity,
    ActivitySignup,
    CareFile,
    MicroWish,
    ProxyService,
    RosterSlot,
    ServicePost,
    Shift,
    Team,
    Volunteer,
)

pytestmark = [pytest.mark.django_db, pytest.mark.no_schema_validation]

# Related models whose rows belong to no community: any staff member may be offered them.
GLOBAL = {"petitions.category", "auth.permission", "auth.group", "contenttypes.contenttype",
          "core.calendaryear"}  # the holiday table belongs to no area
GLOBAL_APPS = {"django_celery_beat"}  # the beat schedule: street-level system settings
# Read logs a change view writes on every GET and POST (they record a reading, not a change).
READ_LOGS = {"django_session", "core_auditevent", "volunteers_carefileaccesslog",
             "accounts_apikey"}


@pytest.fixture
def world(territory: Territory, request: pytest.FixtureRequest) -> Territory:
    build_world(territory, request)
    # What build_world leaves out in B: a party organisation and a member, a body, a resource,
    # a survey answer and a roster slot, so that every related model has a row of B.
    committee = org_root(name="黄河路社区党委", area=territory.other_community)
    other_resident = Resident.objects.get(household=territory.other_household)
    member = PartyMemberFactory(resident=other_resident, org_node=committee)
    body = Body.objects.create(kind=Body.Kind.PROPERTY_COMPANY, name="黄河物业",
                               compound=territory.other_compound)
    Resource.objects.create(compound=territory.other_compound, kind=Resource.Kind.ORGANISATION,
                            name="黄河共建单位", offers="义诊", body=body, party_member=member)
    survey = Survey.objects.filter(compound=territory.other_compound).get()
    SurveyAnswer.objects.create(survey=survey, household=territory.other_household,
                                satisfaction="satisfied", comment="路灯不亮")
    post = ServicePost.objects.filter(compound=territory.other_compound).get()
    post.slots.create(volunteer=Volunteer.objects.filter(compound=territory.other_compound)
                      .first(), weekday=2, start_time="09:00", end_time="11:00")
    return territory


@pytest.fixture
def staff(world: Territory, community_staff: User, monkeypatch: pytest.MonkeyPatch) -> User:
    community_staff.user_permissions.set(Permission.objects.all())
    # Every admin page also builds the navigation's list of every app and model (some 100
    # URL reversals); the forms under test do not need it, and the walk opens 250 pages.
    monkeypatch.setattr(admin.site, "get_app_list", lambda request, app_label=None: [])
    return User.objects.get(pk=community_staff.pk)


def rows_of_b(territory: Territory) -> dict[str, set[int]]:
    """Every row of community B, by model, found by its ties to B (not by the code under test)."""
    prefix = territory.other_community.path
    compound = territory.other_compound
    at_home = Q(household__building__compound=compound)
    querysets: dict[type[Model], Any] = {
        Area: Area.objects.filter(path__startswith=prefix),
        Compound: Compound.objects.filter(pk=compound.pk),
        Building: Building.objects.filter(compound=compound),
        Unit: Unit.objects.filter(building__compound=compound),
        Household: Household.objects.filter(building__compound=compound),
        Resident: Resident.objects.filter(at_home),
        PartyMember: PartyMember.objects.filter(resident__household__building__compound=compound),
        OrgNode: OrgNode.objects.filter(area__path__startswith=prefix),
        Body: Body.objects.filter(compound=compound),
        User: User.objects.filter(Q(scope_area__path__startswith=prefix)
                                  | Q(residents__household__building__compound=compound)),
        Petition: Petition.objects.filter(area_path__startswith=prefix),
        PetitionEvent: PetitionEvent.objects.filter(petition__area_path__startswith=prefix),
        Session: Session.objects.filter(compound=compound),
        Topic: Topic.objects.filter(compound=compound),
        ActionItem: ActionItem.objects.filter(topic__compound=compound),
        Need: Need.objects.filter(compound=compound),
        Resource: Resource.objects.filter(compound=compound),
        Project: Project.objects.filter(compound=compound),
        Survey: Survey.objects.filter(compound=compound),
        SurveyAnswer: SurveyAnswer.objects.filter(survey__compound=compound),
        Team: Team.objects.filter(compound=compound),
        Volunteer: Volunteer.objects.filter(compound=compound),
        ServicePost: ServicePost.objects.filter(compound=compound),
        RosterSlot: RosterSlot.objects.filter(post__compound=compound),
        Shift: Shift.objects.filter(post__compound=compound),
        Activity: Activity.objects.filter(compound=compound),
        ActivitySignup: ActivitySignup.objects.filter(activity__compound=compound),
        MicroWish: MicroWish.objects.filter(compound=compound),
        ProxyService: ProxyService.objects.filter(compound=compound),
        CareFile: CareFile.objects.filter(resident__household__building__compound=compound),
    }
    rows = {model._meta.label_lower: set(queryset.values_list("pk", flat=True))
            for model, queryset in querysets.items()}
    empty = [label for label, ids in rows.items() if not ids]
    assert not empty, f"the world has no row of B for {empty}"
    return rows


def is_global(model: type[Model]) -> bool:
    return model._meta.label_lower in GLOBAL or model._meta.app_label in GLOBAL_APPS


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def admin_url(model: type[Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def call(user: User, url: str, data: dict[str, Any] | None = None) -> Any:
    """The admin's own view for `url`, called as the router would (its login, permission and
    CSRF wrappers included), without the middleware and without rendering the template: the
    walk makes some 250 requests, and the forms, not the HTML, are under test."""
    factory = RequestFactory()
    request = factory.get(url) if data is None else factory.post(url, data)
    request.user = user
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    request._messages = FallbackStorage(request)
    request._dont_enforce_csrf_checks = True
    match = resolve(request.path)
    request.resolver_match = match
    try:
        return match.func(request, *match.args, **match.kwargs)
    except PermissionDenied:
        return HttpResponseForbidden()


def first_in_scope(model_admin: admin.ModelAdmin, user: User) -> Model | None:
    request = RequestFactory().get("/admin/")
    request.user = user
    return model_admin.get_queryset(request).order_by("pk").first()


def form_pages(user: User) -> Iterator[tuple[str, str, Any]]:
    """(a label, the URL, the response) of every add form and one change form per admin."""
    for model, model_admin in admin.site._registry.items():
        url = admin_url(model, "add")
        if model_admin.has_add_permission(_request(user)):
            yield f"{model._meta.label_lower} add", url, call(user, url)
        obj = first_in_scope(model_admin, user)
        if obj is not None:
            url = admin_url(model, "change", obj.pk)
            response = call(user, url)
            if response.status_code == 200 and "adminform" in response.context_data:
                yield f"{model._meta.label_lower} change #{obj.pk}", url, response


def _request(user: User) -> Any:
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def inline_formsets(response: Any) -> list[Any]:
    return [inline.formset for inline in response.context_data.get("inline_admin_formsets", [])]


def forms_of(response: Any) -> Iterator[tuple[str, forms.BaseForm]]:
    yield "", response.context_data["adminform"].form
    for formset in inline_formsets(response):
        for form in [*formset.forms, formset.empty_form]:
            yield f"{formset.prefix}: ", form


def choice_fields(form: forms.BaseForm) -> Iterator[tuple[str, Any]]:
    own_model = getattr(getattr(form, "_meta", None), "model", None)
    for name, field in form.fields.items():
        if getattr(field, "queryset", None) is None:
            continue
        if own_model is not None and name == own_model._meta.pk.name:
            continue  # an inline row's own id: the formset finds it among the parent's rows
        yield name, field


def offered_out_of_scope(page: str, response: Any, b_rows: dict[str, set[int]]) -> list[str]:
    """What the page's forms (and every inline row) offer of B, or cannot place."""
    problems = []
    for where, form in forms_of(response):
        for name, field in choice_fields(form):
            model = field.queryset.model
            label = model._meta.label_lower
            if is_global(model):
                continue
            if label not in b_rows:
                problems.append(f"{page} {where}{name}: {label} is neither in B nor GLOBAL")
                continue
            leaked = set(field.queryset.values_list("pk", flat=True)) & b_rows[label]
            if leaked:
                problems.append(f"{page} {where}{name}: offers {label} {sorted(leaked)} of B")
    return problems


def lookups() -> Iterator[tuple[str, str, type[Model]]]:
    """(label, URL, related model) of every autocomplete and raw-id lookup the admins use."""
    for model, model_admin in admin.site._registry.items():
        admins = [model_admin, *[inline_class(model, admin.site)
                                 for inline_class in model_admin.inlines]]
        for owner in admins:
            owner_model = owner.model
            for name in owner.autocomplete_fields:
                field = owner_model._meta.get_field(name)
                url = (reverse("admin:autocomplete") + f"?app_label={owner_model._meta.app_label}"
                       f"&model_name={owner_model._meta.model_name}&field_name={name}&term=")
                yield f"{owner_model._meta.label_lower}.{name} autocomplete", url, \
                    field.related_model
            for name in owner.raw_id_fields:
                related = owner_model._meta.get_field(name).related_model
                if related in admin.site._registry:
                    url = admin_url(related, "changelist") + f"?{TO_FIELD_VAR}=id&{IS_POPUP_VAR}=1"
                    yield f"{owner_model._meta.label_lower}.{name} raw id", url, related


def test_every_autocomplete_and_raw_id_lookup_lists_only_rows_in_scope(
        world: Territory, staff: User) -> None:
    b_rows = rows_of_b(world)
    problems: list[str] = []
    checked = 0
    for label, url, related in lookups():
        if is_global(related):
            continue
        response = call(staff, url)
        if response.status_code != 200:
            problems.append(f"{label}: {response.status_code}")
            continue
        checked += 1
        if "autocomplete" in label:
            listed = {int(row["id"]) for row in json.loads(response.content)["results"]}
        else:
            listed = {row.pk for row in response.context_data["cl"].queryset}
        leaked = listed & b_rows[related._meta.label_lower]
        if leaked:
            problems.append(f"{label}: lists {related._meta.label_lower} {sorted(leaked)} of B")
    assert checked > 20, checked
    assert not problems, "\n".join(problems)


def database_snapshot() -> dict[str, int]:
    snapshot = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            if table in READ_LOGS or table.startswith("axes_"):
                continue
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - a table of the database
            snapshot[table] = hash(tuple(sorted(map(repr, cursor.fetchall()))))
    return snapshot


def management_data(response: Any, filled: str = "") -> dict[str, str]:
    """Every inline formset empty, but `filled` (a prefix), which gets one extra form."""
    data = {}
    for formset in inline_formsets(response):
        prefix = formset.prefix
        data.update({f"{prefix}-TOTAL_FORMS": "1" if prefix == filled else "0",
                     f"{prefix}-INITIAL_FORMS": "0", f"{prefix}-MIN_NUM_FORMS": "0",
                     f"{prefix}-MAX_NUM_FORMS": "1000"})
    return data


def errors_of(response: Any, prefix: str) -> set[str] | None:
    """The fields the re-rendered form refused; None when the post was accepted (a redirect)."""
    if response.status_code == 403:
        return {"*"}  # the object may be read, not changed: everything is refused
    if response.status_code != 200:
        return None
    if not prefix:
        return set(response.context_data["adminform"].form.errors)
    formset = next(formset for formset in inline_formsets(response) if formset.prefix == prefix)
    return {name for form in formset.forms for name in form.errors}


def probe_forms(response: Any) -> Iterator[tuple[str, forms.BaseForm]]:
    """The main form, and each inline's extra form (prefix, form)."""
    yield "", response.context_data["adminform"].form
    for formset in inline_formsets(response):
        yield formset.prefix, formset.empty_form


def test_every_admin_form_offers_and_accepts_only_choices_in_the_staff_members_scope(
        world: Territory, staff: User) -> None:
    b_rows = rows_of_b(world)
    pages = list(form_pages(staff))
    assert len(pages) > 40, len(pages)  # the walk reached the admins (the permissions took)
    problems = [problem for page, _url, response in pages
                for problem in offered_out_of_scope(page, response, b_rows)]
    before = database_snapshot()
    posted = 0
    for page, url, response in pages:
        for prefix, form in probe_forms(response):
            # Every related-row field of the form gets a row of B, in one post: each field is
            # validated on its own, so each must be refused on its own.
            probes = {name: str(min(b_rows[label]))
                      for name, field in choice_fields(form)
                      if (label := field.queryset.model._meta.label_lower) in b_rows}
            if not probes:
                continue
            data = {**management_data(response, filled=prefix),
                    **{f"{prefix}-0-{name}" if prefix else name: value
                       for name, value in probes.items()}}
            posted += len(probes)
            refused = errors_of(call(staff, url, data), prefix)
            if refused is None:
                problems.append(f"{page} {prefix}: accepted {probes}")
            elif "*" not in refused and set(probes) - refused:
                problems.append(f"{page} {prefix}: accepted {sorted(set(probes) - refused)}")
    assert posted > 60, posted
    assert not problems, "\n".join(problems)
    after = database_snapshot()
    assert {table for table in before if before[table] != after.get(table)} == set()


def test_the_tree_admins_refuse_a_position_in_another_community(world: Territory,
                                                                staff: User) -> None:
    client = client_for(staff)
    before = Area.objects.count(), OrgNode.objects.count()
    other_committee = OrgNode.objects.get(area=world.other_community)
    for model, data in (
        (Area, {"name": "越界网格", "kind": Area.Kind.GRID, "code": "",
                "treebeard_position": "sorted-child",
                "treebeard_ref_node": world.other_community.pk}),
        (Area, {"name": "越界社区", "kind": Area.Kind.COMMUNITY, "code": "",
                "treebeard_position": "sorted-sibling", "treebeard_ref_node": world.community.pk}),
        (Area, {"name": "新街道", "kind": Area.Kind.STREET, "code": "",
                "treebeard_position": "sorted-child", "treebeard_ref_node": ""}),
        (OrgNode, {"name": "越界支部", "kind": OrgNode.Kind.COMPOUND_BRANCH,
                   "treebeard_position": "sorted-child",
                   "treebeard_ref_node": other_committee.pk}),
    ):
        response = client.post(admin_url(model, "add"), data)
        assert response.status_code == 200, (model, data)
        assert response.context["adminform"].form.errors, (model, data)
    assert (Area.objects.count(), OrgNode.objects.count()) == before
    # Nor may a node of A be dragged under B.
    response = client.post(admin_url(Area, "changelist") + "move/",
                           {"node": world.grid.pk, "target": world.other_community.pk,
                            "relation": "child"})
    assert response.status_code == 400
    world.grid.refresh_from_db()
    assert world.grid.path.startswith(world.community.path)


def test_every_scoped_admin_has_a_rule_for_its_own_rows() -> None:
    # Without one, the admin would list nothing to a scoped user (it fails closed).
    missing = [model._meta.label_lower for model, model_admin in admin.site._registry.items()
               if isinstance(model_admin, ScopedChoicesMixin)
               and not choice_scope_is_registered(model)]
    assert missing == []


def test_a_category_and_other_global_rows_are_offered_to_everyone(world: Territory,
                                                                 staff: User) -> None:
    # The scope narrows area-bound rows only: a petition's category stays choosable.
    response = client_for(staff).get(admin_url(Category, "add"))
    assert set(response.context["adminform"].form.fields["parent"].queryset) == set(
        Category.objects.all())


def test_community_staff_cannot_create_a_resident_or_a_building_in_another_community(
        territory: Territory, community_staff: User) -> None:
    """The probe's own steps, with the permissions the 社区工作人员 group really grants."""
    from governance.services import staff_groups_ensure

    staff_groups_ensure()
    client = client_for(community_staff)
    before = Resident.objects.count(), Building.objects.count()
    response = client.post(admin_url(Resident, "add"), {
        "name": "越界居民", "household": territory.other_household.pk, "gender": "",
        "phone": "13700000000"})
    assert response.status_code == 200
    assert "household" in response.context["adminform"].form.errors
    assert "不在您的管辖范围内" in response.content.decode()
    response = client.post(admin_url(Building, "add"), {
        "compound": territory.other_compound.pk, "micro_grid": territory.other_micro.pk,
        "number": "99", "floors": "6", "units-TOTAL_FORMS": "0",
        "units-INITIAL_FORMS": "0"})
    assert response.status_code == 200
    assert {"compound", "micro_grid"} <= set(response.context["adminform"].form.errors)
    assert (Resident.objects.count(), Building.objects.count()) == before
    # In scope, the same forms save.
    response = client.post(admin_url(Building, "add"), {
        "compound": territory.compound.pk, "micro_grid": territory.micro1.pk, "number": "99",
        "floors": "6",
        "units-TOTAL_FORMS": "0", "units-INITIAL_FORMS": "0"})
    assert response.status_code == 302, response.context["adminform"].form.errors


def test_the_last_check_before_a_write_refuses_a_field_a_subclass_left_unscoped(
        territory: Territory, community_staff: User) -> None:
    # A form built without the scoped choices (as an admin overriding get_form might): its
    # validation accepts the other community's compound, save_model still refuses.
    unscoped = forms.modelform_factory(Building, fields=["compound", "micro_grid", "number",
                                                         "floors"])
    form = unscoped({"compound": territory.other_compound.pk,
                     "micro_grid": territory.micro1.pk, "number": "98", "floors": "6"})
    assert form.is_valid(), form.errors
    building_admin = admin.site._registry[Building]
    with pytest.raises(PermissionDenied):
        building_admin.save_model(_request(community_staff), form.save(commit=False), form,
                                  change=False)
    assert not Building.objects.filter(number="98").exists()
