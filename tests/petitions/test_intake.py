"""Walk-in and phone intake by staff (代录) and the staff-recorded callback (回访): issue 11,
item 7.

The elderly who never log in come to the office or call: community staff, street admins and grid
workers record their petition in their own scope, with the resident form's building/unit/room
picker (or only an address, placed automatically), and vouch for the number they took down. Once
the result is verified, a member of staff other than the resolver calls or visits back and
records the rating, which counts in 满意率 like a resident's own.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.exceptions import ApplicationError, InvalidTransition, PermissionDeniedError
from notifications.models import OutboundMessage
from petitions import selectors, services
from petitions.intake import petition_callback_record, petition_intake
from petitions.models import Petition
from tests.petitions.factories import category, resolve_after_visit, submit

pytestmark = pytest.mark.django_db
State = Petition.State
INTAKE_URL = "/petitions/staff/intake/"
VISITOR_PHONE = "13700001234"


def _form(territory, **overrides):
    data = {
        "channel": "walk_in", "category": category().pk, "description": "楼道灯坏了三天",
        "compound": territory.compound.pk, "building": territory.building1.pk,
        "unit": territory.unit1.pk, "household": territory.household1.pk,
        "contact_name": "赵大爷", "contact_phone": VISITOR_PHONE, "phone_verified": "on",
        "size": "small",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def _intake(actor, territory, **fields):
    fields.setdefault("building", territory.building1)
    return petition_intake(
        actor=actor, channel=fields.pop("channel", "walk_in"), category=category(),
        description=fields.pop("description", "楼道灯坏了三天"),
        contact_name=fields.pop("contact_name", "赵大爷"),
        contact_phone=fields.pop("contact_phone", VISITOR_PHONE),
        phone_verified=fields.pop("phone_verified", True), **fields)


# --- 代录: intake ------------------------------------------------------------------------------


def test_community_staff_record_a_walk_in_on_the_picked_flat_and_it_goes_to_the_worker(
        client, frozen, territory, community_staff, microgrid_worker):
    client.force_login(community_staff)
    response = client.post(INTAKE_URL, _form(territory))
    petition = Petition.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("petitions:staff-detail", args=[petition.pk])
    assert (petition.channel, petition.recorded_by_id, petition.submitter_id) == (
        "walk_in", community_staff.pk, None)
    assert (petition.building_id, petition.household_id) == (territory.building1.pk,
                                                             territory.household1.pk)
    assert (petition.holder_id, petition.state) == (microgrid_worker.pk, State.DISPATCHED)
    assert (petition.contact_name, petition.contact_phone) == ("赵大爷", VISITOR_PHONE)
    # The staff member vouched for the number: it is texted, and the record says who checked.
    assert OutboundMessage.objects.filter(recipient=VISITOR_PHONE).exists()
    note = petition.events.get(kind="note", is_internal=True)
    assert "当面核实" in note.note and note.actor_id == community_staff.pk


def test_a_phone_call_given_only_an_address_is_placed_on_the_building(
        frozen, territory, grid_worker, microgrid_worker):
    petition = _intake(grid_worker, territory, channel="phone", building=None,
                       location_text="长江瑞城3号楼 1单元 301")
    assert petition.building_id == territory.building3.pk
    assert petition.placement == Petition.Placement.ADDRESS
    assert petition.events.filter(kind="note", note__contains="电话核实").exists()


def test_a_number_the_staff_did_not_verify_is_refused_in_chinese(client, territory,
                                                                 community_staff):
    client.force_login(community_staff)
    response = client.post(INTAKE_URL, _form(territory, phone_verified=None))
    assert response.status_code == 400
    assert "核实" in response.content.decode()
    assert not Petition.objects.exists()
    with pytest.raises(ApplicationError, match="核实"):
        _intake(community_staff, territory, phone_verified=False)


def test_a_visitor_without_a_phone_is_recorded_and_never_texted(territory, community_staff):
    petition = _intake(community_staff, territory, contact_phone="", phone_verified=False)
    assert petition.contact_phone == ""
    assert not OutboundMessage.objects.exists()


def test_a_bad_number_or_a_missing_name_is_a_form_error_not_a_500(client, territory,
                                                                  community_staff):
    client.force_login(community_staff)
    for overrides in ({"contact_phone": "12345"}, {"contact_name": ""},
                      {"channel": "mobile_web"}):
        response = client.post(INTAKE_URL, _form(territory, **overrides))
        assert response.status_code == 400, overrides
    assert not Petition.objects.exists()


def test_a_grid_worker_of_another_community_cannot_record_for_this_one(
        client, territory, outsider):
    client.force_login(outsider)
    response = client.post(INTAKE_URL, _form(territory, household=None, unit=None))
    assert response.status_code == 400
    assert not Petition.objects.exists()
    with pytest.raises(PermissionDeniedError, match="只能登记您管辖范围内的诉求"):
        _intake(outsider, territory)


def test_the_page_is_for_handler_staff_only(client, territory, resident_user, microgrid_worker,
                                            outsider):
    assert client.get(INTAKE_URL).status_code == 302  # to the staff sign-in
    for user in (resident_user, microgrid_worker):
        client.force_login(user)
        assert client.get(INTAKE_URL).status_code == 404
    with pytest.raises(PermissionDeniedError, match="街道管理员可以代录诉求"):
        _intake(microgrid_worker, territory)
    client.force_login(outsider)  # a grid worker may record, in their own scope
    assert client.get(INTAKE_URL).status_code == 200


def test_the_picker_offers_only_places_in_the_staff_scope(client, territory, community_staff,
                                                          outsider):
    client.force_login(community_staff)
    page = client.get(INTAKE_URL).content.decode()
    assert "长江瑞城" in page and "黄河小区" not in page
    picker = client.get(reverse("petitions:staff-intake-picker-location"),
                        {"compound": territory.compound.pk}, HTTP_HX_TRIGGER_NAME="compound")
    assert picker.status_code == 200
    assert f'value="{territory.building3.pk}"' in picker.content.decode()
    client.force_login(outsider)
    picker = client.get(reverse("petitions:staff-intake-picker-location"),
                        {"compound": territory.compound.pk}, HTTP_HX_TRIGGER_NAME="compound")
    assert f'value="{territory.building1.pk}"' not in picker.content.decode()
    client.force_login(community_staff)
    questions = client.get(reverse("petitions:staff-intake-picker-questions"),
                           {"category": category().pk})
    assert questions.status_code == 200


# --- 回访: the staff-recorded callback ----------------------------------------------------------


@pytest.fixture
def verified_walk_in(frozen, territory, community_staff, microgrid_worker, grid_worker):
    petition = _intake(community_staff, territory)
    resolve_after_visit(petition_id=petition.pk, actor=microgrid_worker,
                        resolution="已更换灯泡")
    return services.petition_verify(petition_id=petition.pk, actor=grid_worker)


def test_staff_record_a_callback_and_it_counts_in_the_satisfaction_rate(
        verified_walk_in, community_staff):
    petition = petition_callback_record(petition_id=verified_walk_in.pk, actor=community_staff,
                                        rating="satisfied", method="phone", note="老人很满意")
    assert petition.state == State.CLOSED
    assert (petition.rating, petition.callback_by_id, petition.callback_method) == (
        "satisfied", community_staff.pk, "phone")
    rated = petition.events.get(kind="rated")
    assert rated.actor_id == community_staff.pk and "电话回访" in rated.note
    now = timezone.now()
    [row] = selectors.petition_rates(user=community_staff, start=now - timedelta(days=7),
                                     end=now + timedelta(days=1))
    assert (row["satisfaction_rate"], row["satisfaction_sample"]) == (1.0, 1)


def test_the_resolver_may_not_record_the_callback(verified_walk_in, microgrid_worker,
                                                  community_staff):
    # The micro-grid worker is no handler; a community staff member who resolved is refused.
    petition = submit(community_staff, channel="walk_in", building=verified_walk_in.building)
    services.petition_resolve(petition_id=petition.pk, actor=community_staff, resolution="好了",
                              no_visit_reason="phone")
    from tests.accounts.factories import UserFactory

    other = UserFactory(username="other", role="community_staff",
                        scope_area=community_staff.scope_area)
    services.petition_verify(petition_id=petition.pk, actor=other)
    with pytest.raises(PermissionDeniedError, match="办结人"):
        petition_callback_record(petition_id=petition.pk, actor=community_staff,
                                 rating="satisfied", method="visit")


def test_an_unsatisfied_callback_reopens_once_like_a_residents_rating(
        verified_walk_in, community_staff, microgrid_worker, grid_worker):
    petition = petition_callback_record(petition_id=verified_walk_in.pk, actor=community_staff,
                                        rating="unsatisfied", method="visit", note="灯又坏了")
    assert (petition.state, petition.reopened_count) == (State.DISPATCHED, 1)
    assert petition.holder_id == microgrid_worker.pk
    resolve_after_visit(petition_id=petition.pk, actor=microgrid_worker,
                        resolution="换了新灯")
    services.petition_verify(petition_id=petition.pk, actor=grid_worker)
    petition = petition_callback_record(petition_id=petition.pk, actor=community_staff,
                                        rating="unsatisfied", method="phone")
    assert (petition.state, petition.rating) == (State.CLOSED, "unsatisfied")


def test_a_residents_petition_is_called_back_only_after_the_rating_window(
        frozen, resident_user, microgrid_worker, grid_worker, community_staff):
    petition = submit(resident_user)
    resolve_after_visit(petition_id=petition.pk, actor=microgrid_worker, resolution="好")
    services.petition_verify(petition_id=petition.pk, actor=grid_worker)
    with pytest.raises(ApplicationError, match="评价期"):
        petition_callback_record(petition_id=petition.pk, actor=community_staff,
                                 rating="satisfied", method="phone")
    # The window's own instant still belongs to the resident (policy: late is after it).
    frozen.shift(timedelta(days=7, seconds=1))
    petition = petition_callback_record(petition_id=petition.pk, actor=community_staff,
                                        rating="basic", method="phone")
    assert (petition.state, petition.rating) == (State.CLOSED, "basic")


def test_a_callback_needs_a_verified_result_and_a_known_rating_and_method(
        frozen, territory, community_staff, microgrid_worker, verified_walk_in):
    resolved = _intake(community_staff, territory)
    resolve_after_visit(petition_id=resolved.pk, actor=microgrid_worker, resolution="好")
    with pytest.raises(InvalidTransition, match="不能从“已办结”变为“已评价”"):
        petition_callback_record(petition_id=resolved.pk, actor=community_staff,
                                 rating="satisfied", method="phone")
    for rating, method, refusal in (("great", "phone", "请选择满意、基本满意或不满意"),
                                    ("satisfied", "wechat", "请选择电话回访或上门回访")):
        with pytest.raises(ApplicationError, match=refusal):
            petition_callback_record(petition_id=verified_walk_in.pk, actor=community_staff,
                                     rating=rating, method=method)


def test_the_callback_form_is_offered_on_the_staff_page_and_posts(
        client, verified_walk_in, community_staff, grid_worker):
    client.force_login(community_staff)
    url = reverse("petitions:staff-callback", args=[verified_walk_in.pk])
    page = client.get(reverse("petitions:staff-detail", args=[verified_walk_in.pk]))
    assert url in page.content.decode()
    response = client.post(url, {"rating": "satisfied", "method": "phone", "note": "满意"})
    assert response.status_code == 302
    verified_walk_in.refresh_from_db()
    assert verified_walk_in.state == State.CLOSED


def test_outsiders_get_a_404_from_the_callback(client, verified_walk_in, outsider,
                                               resident_user, microgrid_worker):
    url = reverse("petitions:staff-callback", args=[verified_walk_in.pk])
    for user in (outsider, resident_user, microgrid_worker):
        client.force_login(user)
        assert client.post(url, {"rating": "satisfied", "method": "phone"}).status_code == 404
    verified_walk_in.refresh_from_db()
    assert verified_walk_in.state == State.VERIFIED
    with pytest.raises(Exception) as refused:
        petition_callback_record(petition_id=verified_walk_in.pk, actor=outsider,
                                 rating="satisfied", method="phone")
    assert refused.type.__name__ == "Http404"
