"""The petition pages: residents on a phone, the 公示 page and the staff dashboard."""

from __future__ import annotations

import copy
import itertools
import json
import re
from datetime import date, datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from petitions import services
from petitions.models import Petition, PetitionEvent
from petitions.presentation import public_row
from petitions.selectors import petition_contact_phone_for
from petitions.views import resident
from tests.petitions.factories import category, photo, resolve_after_visit, submit

pytestmark = pytest.mark.django_db

# Petitions submitted at 00:30 fall due (1 day) at 00:30 the next day: 即将超时 is looked at two
# minutes on (five left to arrive), 已超时 two days on.
MONDAY_EARLY = datetime(2026, 11, 16, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
STAFF_PAGES = ["petitions:staff-queue", "petitions:staff-overdue", "petitions:staff-due-today",
               "petitions:staff-stats"]
WORKBENCH = reverse("petitions:staff-queue")


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def submit_data(territory: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "category": category().pk, "description": "3号楼道堆放杂物，影响通行",
        "compound": territory.compound.pk, "building": territory.building1.pk,
        "unit": territory.unit1.pk, "household": territory.household1.pk,
        "location_text": "",
    }
    data.update(overrides)
    return data


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


# --- residents: submitting ---------------------------------------------------------------------


def test_an_anonymous_visitor_is_sent_to_the_phone_sign_in(territory):
    response = Client().get(reverse("petitions:create"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:phone-login"))
    landing = Client().get(reverse("petitions:mine"))
    assert landing.status_code == 200
    assert "手机号登录后反映诉求" in landing.content.decode()


def test_staff_opening_the_petitions_home_land_on_their_queue(microgrid_worker):
    response = client_for(microgrid_worker).get(reverse("petitions:mine"))
    assert response.status_code == 302
    assert response["Location"] == reverse("petitions:staff-queue")


def test_the_form_starts_at_the_residents_home(territory, resident_user):
    response = client_for(resident_user).get(reverse("petitions:create"))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["household"] == territory.household1.pk
    # The cascade is filled down to the household, so the selects show the home already.
    assert list(form.fields["household"].queryset) == [territory.household1]


def test_a_resident_submits_with_a_photo_and_sees_the_clock(territory, resident_user,
                                                             microgrid_worker):
    client = client_for(resident_user)
    data = submit_data(territory, photos=[photo()], answer_spot="一楼楼道")
    response = client.post(reverse("petitions:create"), data)
    petition = Petition.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("petitions:detail", args=[petition.pk])
    assert petition.photos.count() == 1
    assert petition.answers == {"spot": "一楼楼道"}
    assert petition.contact_name == "王阿姨"
    assert petition.contact_phone == "13800001111"
    assert petition.household == territory.household1
    detail = client.get(response["Location"]).content.decode()
    assert 'class="countdown"' in detail
    assert "<dt>具体位置（如楼道、绿化带）</dt><dd>一楼楼道</dd>" in detail
    assert "微网格" in detail


def test_a_resident_may_give_a_free_text_location_instead(territory, resident_user):
    data = submit_data(territory, compound="", building="", unit="", household="",
                       location_text="小区东门")
    response = client_for(resident_user).post(reverse("petitions:create"), data)
    assert response.status_code == 302
    assert Petition.objects.get().location_text == "小区东门"


def test_an_anonymous_submission_hides_the_name_from_staff(territory, resident_user,
                                                           microgrid_worker):
    data = submit_data(territory, is_anonymous="on")
    client_for(resident_user).post(reverse("petitions:create"), data)
    petition = Petition.objects.get()
    assert petition.contact_name == ""
    assert petition.is_anonymous
    page = client_for(microgrid_worker).get(reverse("petitions:staff-detail",
                                                    args=[petition.pk])).content.decode()
    assert "匿名" in page
    assert "王阿姨" not in page


@pytest.mark.parametrize(("overrides", "message"), [
    ({"category": ""}, "请选择诉求分类。"),
    ({"description": ""}, "请填写诉求内容。"),
    ({"compound": "", "building": "", "unit": "", "household": ""}, "请选择楼栋，或填写位置描述。"),
])
def test_the_form_refuses_missing_input_in_chinese(territory, resident_user, overrides,
                                                   message):
    response = client_for(resident_user).post(reverse("petitions:create"),
                                              submit_data(territory, **overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Petition.objects.exists()


def test_the_form_refuses_four_photos(territory, resident_user):
    photos = [photo(f"p{index}.jpg") for index in range(4)]
    response = client_for(resident_user).post(reverse("petitions:create"),
                                              submit_data(territory, photos=photos))
    assert response.status_code == 400
    assert "最多上传 3 张照片。" in response.content.decode()
    assert not Petition.objects.exists()


def test_the_form_refuses_a_file_that_is_not_a_photo(territory, resident_user):
    fake = SimpleUploadedFile("photo.png", b"<html>not an image</html>", content_type="image/png")
    response = client_for(resident_user).post(reverse("petitions:create"),
                                              submit_data(territory, photos=[fake]))
    assert response.status_code == 400
    assert "请上传" in response.content.decode()
    # The service checks photos inside its transaction: nothing half-saved.
    assert not Petition.objects.exists()


def test_a_required_extra_question_must_be_answered(territory, resident_user):
    data = submit_data(territory, category=category("物业设施").pk)
    response = client_for(resident_user).post(reverse("petitions:create"), data)
    assert response.status_code == 400
    assert "请回答：设施名称" in response.content.decode()


def test_a_resident_cannot_pick_someone_elses_household(territory, resident_user):
    data = submit_data(territory, building=territory.building3.pk, unit="",
                       household=territory.household2.pk)
    response = client_for(resident_user).post(reverse("petitions:create"), data)
    assert response.status_code == 400
    assert not Petition.objects.exists()


def test_a_building_from_another_compound_is_refused(territory, resident_user):
    data = submit_data(territory, building=territory.other_building.pk, unit="", household="")
    response = client_for(resident_user).post(reverse("petitions:create"), data)
    assert response.status_code == 400
    assert "building" in response.context["form"].errors


# --- residents: the htmx partials --------------------------------------------------------------


def test_the_location_picker_resets_the_levels_below_the_one_changed(territory, resident_user):
    url = reverse("petitions:picker-location")
    params = {"compound": territory.compound.pk, "building": territory.building3.pk,
              "unit": territory.unit1.pk, "household": territory.household1.pk}
    response = client_for(resident_user).get(url, params, HTTP_HX_TRIGGER_NAME="building")
    form = response.context["form"]
    assert response["HX-Trigger"] == "location-changed"
    assert form.initial.get("unit") is None
    assert {unit.building_id for unit in form.fields["unit"].queryset} == {
        territory.building3.pk}
    assert f'value="{territory.building3.pk}" selected' in response.content.decode()


def test_the_location_picker_shrugs_off_garbage(territory, resident_user):
    client = client_for(resident_user)
    for params in ({"compound": "99999"}, {"compound": "x", "building": "y"},
                   {"unit": "-1", "household": "z"}):
        response = client.get(reverse("petitions:picker-location"), params,
                              HTTP_HX_TRIGGER_NAME="household")
        assert response.status_code == 200


def test_the_questions_partial_shows_the_category_questions(resident_user):
    response = client_for(resident_user).get(reverse("petitions:picker-questions"),
                                              {"category": category("物业设施").pk})
    assert "设施名称" in response.content.decode()


def test_the_duplicate_hint_counts_open_petitions_in_the_building(territory, resident_user,
                                                                  other_resident):
    submit(other_resident, building=territory.building1)
    url = reverse("petitions:picker-duplicates")
    client = client_for(resident_user)
    hint = client.get(url, {"category": category().pk, "building": territory.building1.pk})
    assert "同一楼栋已有 1 件同类诉求正在办理" in hint.content.decode()
    # The neighbour's words are not shown to another resident.
    assert "杂物" not in hint.content.decode()
    none = client.get(url, {"category": category("噪音扰民").pk,
                            "building": territory.building1.pk})
    assert none.content.decode().strip() == ""
    garbage = client.get(url, {"category": "x", "building": ""})
    assert garbage.status_code == 200


# --- residents: my petitions, rate, reopen ---------------------------------------------------


def test_a_resident_cannot_open_another_residents_petition(territory, resident_user,
                                                           other_resident):
    theirs = submit(other_resident)
    client = client_for(resident_user)
    for name in ("petitions:detail", "petitions:status"):
        assert client.get(reverse(name, args=[theirs.pk])).status_code == 404
    assert client.post(reverse("petitions:rate", args=[theirs.pk]),
                       {"rating": "satisfied"}).status_code == 404
    assert client.get(reverse("petitions:detail", args=[987654])).status_code == 404


def test_my_petitions_lists_only_mine(territory, resident_user, other_resident):
    mine = submit(resident_user)
    theirs = submit(other_resident)
    page = client_for(resident_user).get(reverse("petitions:mine")).content.decode()
    assert f"#{mine.pk} " in page
    assert f"#{theirs.pk} " not in page


def test_my_petitions_come_a_page_at_a_time_newest_first(territory, resident_user,
                                                         monkeypatch):
    monkeypatch.setattr(resident, "MINE_PAGE_SIZE", 2)
    made = [submit(resident_user) for _index in range(5)]  # in order: ties go by id, newest first
    client = client_for(resident_user)
    first = client.get(reverse("petitions:mine"))
    assert [petition.pk for petition, _clock in first.context["rows"]] == [made[4].pk,
                                                                           made[3].pk]
    assert "1 / 3" in first.content.decode() and 'rel="next"' in first.content.decode()
    last = client.get(reverse("petitions:mine"), {"page": 3})
    assert [petition.pk for petition, _clock in last.context["rows"]] == [made[0].pk]
    assert client.get(reverse("petitions:mine"), {"page": "x"}).status_code == 200


def test_the_polled_timeline_hides_internal_notes_from_the_resident(territory, resident_user,
                                                                    microgrid_worker):
    petition = submit(resident_user)
    services.petition_add_note(petition_id=petition.pk, actor=microgrid_worker,
                               note="内部：联系物业经理", is_internal=True)
    services.petition_add_note(petition_id=petition.pk, actor=microgrid_worker,
                               note="已联系物业", is_internal=False)
    url = reverse("petitions:status", args=[petition.pk])
    resident_view = client_for(resident_user).get(url).content.decode()
    assert 'hx-trigger="every 20s"' in resident_view
    assert "已联系物业" in resident_view
    assert "内部：联系物业经理" not in resident_view
    assert "内部：联系物业经理" in client_for(microgrid_worker).get(url).content.decode()


def _verified(resident: Any, worker: Any, grid_worker: Any) -> Petition:
    petition = submit(resident)
    resolve_after_visit(petition_id=petition.pk, actor=worker, resolution="已清理")
    return services.petition_verify(petition_id=petition.pk, actor=grid_worker)


def test_a_satisfied_rating_closes_the_petition(territory, resident_user, microgrid_worker,
                                                grid_worker):
    petition = _verified(resident_user, microgrid_worker, grid_worker)
    client = client_for(resident_user)
    detail = client.get(reverse("petitions:detail", args=[petition.pk]))
    assert "提交评价" in detail.content.decode()
    response = client.post(reverse("petitions:rate", args=[petition.pk]),
                           {"rating": "satisfied", "comment": "很及时"})
    petition.refresh_from_db()
    assert response.status_code == 302
    assert (petition.state, petition.rating) == (Petition.State.CLOSED, "satisfied")


def test_a_rating_must_be_one_of_the_three(territory, resident_user, microgrid_worker,
                                           grid_worker):
    petition = _verified(resident_user, microgrid_worker, grid_worker)
    response = client_for(resident_user).post(reverse("petitions:rate", args=[petition.pk]),
                                              {"rating": "great"})
    assert any("请选择满意、基本满意或不满意。" in text for text in messages_of(response))
    petition.refresh_from_db()
    assert petition.state == Petition.State.VERIFIED


def test_unsatisfied_reopens_once_and_then_only_closes(territory, resident_user,
                                                       microgrid_worker, grid_worker):
    petition = _verified(resident_user, microgrid_worker, grid_worker)
    client = client_for(resident_user)
    rate_url = reverse("petitions:rate", args=[petition.pk])
    client.post(rate_url, {"rating": "unsatisfied", "comment": "还是很脏"})
    petition.refresh_from_db()
    assert (petition.state, petition.reopened_count) == (Petition.State.DISPATCHED, 1)
    resolve_after_visit(petition_id=petition.pk, actor=microgrid_worker,
                        resolution="再次清理")
    services.petition_verify(petition_id=petition.pk, actor=grid_worker)
    client.post(rate_url, {"rating": "unsatisfied", "comment": "仍不满意"})
    petition.refresh_from_db()
    assert (petition.state, petition.reopened_count) == (Petition.State.CLOSED, 1)
    # Asking again by hand is refused with the service's Chinese message, not a 500.
    response = client.post(reverse("petitions:reopen", args=[petition.pk]), {"reason": "再办"})
    assert response.status_code == 302
    assert any("不能从" in text or "只能重办一次" in text for text in messages_of(response))


def test_reopen_needs_a_reason(territory, resident_user):
    petition = submit(resident_user)
    response = client_for(resident_user).post(reverse("petitions:reopen", args=[petition.pk]),
                                              {"reason": ""})
    assert any("请填写原因。" in text for text in messages_of(response))


# --- the public page ---------------------------------------------------------------------------


def test_the_public_page_shows_no_phone_name_or_room(territory, resident_user,
                                                     microgrid_worker, grid_worker):
    shown = submit(resident_user, description="0101室王阿姨家门口漏水，电话13800001111",
                   is_public=True, contact_name="王阿姨")
    hidden = submit(resident_user, description="隔壁的张三天天吵闹", is_public=False)
    for petition in (shown, hidden):
        resolve_after_visit(petition_id=petition.pk, actor=microgrid_worker,
                            resolution="已联系0101室处理")
        services.petition_verify(petition_id=petition.pk, actor=grid_worker)
    submit(resident_user, description="还在办理中的诉求")
    page = Client().get(reverse("petitions:public")).content.decode()
    assert "长江瑞城 1号楼" in page
    for secret in ("13800001111", "0101", "张三", "还在办理中的诉求", "138****1111"):
        assert secret not in page
    assert "诉求人未同意公开诉求内容" in page
    assert "门口漏水" in page


def test_a_public_row_never_carries_the_household(territory, resident_user):
    petition = submit(resident_user, household=territory.household1, is_public=True)
    row = public_row(petition)
    # The row's words, not its datetimes: a timestamp's digits may hold "0101" by chance.
    words = " ".join(str(value) for value in (row.category, row.place, row.description,
                                             row.resolution, row.tier))
    assert territory.household1.room not in words
    assert petition.building.number in words  # the place is there, down to the building


def test_the_public_page_counts_a_constant_number_of_queries(territory, resident_user,
                                                             microgrid_worker, grid_worker,
                                                             django_assert_max_num_queries):
    for _index in range(6):
        _verified(resident_user, microgrid_worker, grid_worker)
    with django_assert_max_num_queries(4):
        Client().get(reverse("petitions:public"))


# --- staff: access -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", STAFF_PAGES)
def test_staff_pages_render_for_every_staff_role(territory, name, microgrid_worker, grid_worker,
                                                 community_staff, street_admin):
    for user in (microgrid_worker, grid_worker, community_staff, street_admin):
        # The old list URLs answer with their tab of the workbench.
        assert client_for(user).get(reverse(name), follow=True).status_code == 200


@pytest.mark.parametrize("name", STAFF_PAGES)
def test_staff_pages_404_for_residents_and_redirect_strangers(territory, name, resident_user):
    assert client_for(resident_user).get(reverse(name)).status_code == 404
    response = Client().get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_resident_pages_404_for_staff(territory, grid_worker):
    assert client_for(grid_worker).get(reverse("petitions:create")).status_code == 404


def test_an_outsider_gets_404_on_a_guessed_id(territory, resident_user, outsider):
    petition = submit(resident_user)
    client = client_for(outsider)
    assert client.get(reverse("petitions:staff-detail", args=[petition.pk])).status_code == 404
    assert client.get(reverse("petitions:status", args=[petition.pk])).status_code == 404
    for name in ("staff-check-in", "staff-resolve", "staff-escalate", "staff-return",
                 "staff-note-create", "staff-verify"):
        response = client.post(reverse(f"petitions:{name}", args=[petition.pk]),
                               {"resolution": "x", "reason": "x", "note": "x"})
        assert response.status_code == 404, name
    petition.refresh_from_db()
    assert petition.state == Petition.State.SUBMITTED
    assert not petition.events.filter(kind="note").exists()


def test_the_permission_map_keeps_micro_grid_workers_from_dispatcher_actions(
        territory, resident_user, microgrid_worker):
    petition = submit(resident_user)
    client = client_for(microgrid_worker)
    for name in ("staff-reject", "staff-refer", "staff-reroute", "staff-dispatch",
                 "staff-verify", "staff-close"):
        response = client.post(reverse(f"petitions:{name}", args=[petition.pk]),
                               {"reason": "不属于本社区"})
        assert response.status_code == 404, name


# --- staff: the queue and lists ----------------------------------------------------------------


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize(("url", "viewer", "look_later"), [
    (WORKBENCH, "microgrid_worker", timedelta(0)),
    (f"{WORKBENCH}?tab=overdue", "grid_worker", timedelta(days=2)),
    # Two minutes on, nobody on site yet: five minutes left to arrive.
    (f"{WORKBENCH}?tab=due_soon", "community_staff", timedelta(minutes=2)),
    (reverse("petitions:mine"), "resident_user", timedelta(0)),
])
def test_list_pages_query_counts_do_not_grow_with_rows(request, territory, resident_user,
                                                       microgrid_worker, url, viewer,
                                                       look_later, time_machine,
                                                       django_assert_max_num_queries):
    client = client_for(request.getfixturevalue(viewer))

    def add(count: int) -> None:
        time_machine.move_to(MONDAY_EARLY, tick=False)
        for _index in range(count):
            submit(resident_user)
        time_machine.move_to(MONDAY_EARLY + look_later, tick=False)

    add(3)
    with_three = _queries(client, url)
    add(12)
    with django_assert_max_num_queries(with_three):
        response = client.get(url)
    assert len(response.context["rows"]) == 15


def _copies(petition: Petition, count: int) -> None:
    """`count` more open petitions like `petition`, in one INSERT (the service is slow for 100)."""
    rows = []
    stored = Petition.objects.get(pk=petition.pk)  # read (and decrypted) once, not per copy
    for index in range(count):
        row = copy.copy(stored)
        row.pk = None
        row.due_at = petition.due_at + timedelta(minutes=index + 1)
        rows.append(row)
    Petition.objects.bulk_create(rows)


@pytest.mark.parametrize(("tab", "viewer", "look_later"), [
    ("mine", "microgrid_worker", timedelta(0)),
    ("overdue", "grid_worker", timedelta(days=2)),
    ("due_soon", "community_staff", timedelta(minutes=2)),
])
def test_staff_lists_show_50_a_page_in_the_same_number_of_queries(
        request, territory, resident_user, microgrid_worker, tab, viewer, look_later,
        time_machine, django_assert_num_queries):
    client = client_for(request.getfixturevalue(viewer))
    url = f"{WORKBENCH}?tab={tab}"
    time_machine.move_to(MONDAY_EARLY, tick=False)
    first = submit(resident_user)
    time_machine.move_to(MONDAY_EARLY + look_later, tick=False)
    client.get(url)  # the filter options are remembered from here on (core.memo)
    one_row = _queries(client, url)
    _copies(first, 119)  # 120 rows: pages of 50, 50 and 20
    with django_assert_num_queries(one_row):
        response = client.get(WORKBENCH, {"tab": tab, "page": 2})
    assert len(response.context["rows"]) == 50
    assert response.context["page"].paginator.count == 120
    with django_assert_num_queries(one_row):
        last = client.get(WORKBENCH, {"tab": tab, "page": 3})
    assert len(last.context["rows"]) == 20
    shown = [row["id"] for page in (client.get(url), response, last)
             for row in page.context["rows"]]
    assert len(set(shown)) == 120  # every petition once, none lost between pages


def pager_link(html: str, rel: str) -> dict[str, list[str]]:
    match = re.search(rf'href="\?([^"]*)" rel="{rel}"', html)
    assert match is not None, f"no {rel} link"
    return parse_qs(unescape(match.group(1)))


def test_the_queue_pager_keeps_the_filters_and_the_countdowns(territory, resident_user,
                                                              microgrid_worker):
    _copies(submit(resident_user), 65)
    # Five of them at the grid tier (still mine): the filter below must leave them out.
    grid = list(Petition.objects.order_by("-id").values_list("id", flat=True)[:5])
    Petition.objects.filter(pk__in=grid).update(tier="grid")
    client = client_for(microgrid_worker)
    url = reverse("petitions:staff-queue")
    assert client.get(url).context["page"].paginator.count == 66
    html = client.get(url, {"page": 2, "tier": "microgrid"}).content.decode()
    assert '<small class="muted">61</small>' in html
    assert len(re.findall(r'href="/petitions/staff/\d+/"', html)) == 11
    assert html.count('class="countdown" data-deadline=') >= 11  # each row keeps its clock
    assert pager_link(html, "prev") == {"page": ["1"], "tier": ["microgrid"]}
    assert 'rel="next"' not in html
    first = client.get(url, {"tier": "microgrid"}).content.decode()
    assert pager_link(first, "next") == {"page": ["2"], "tier": ["microgrid"]}
    assert len(re.findall(r'href="/petitions/staff/\d+/"', first)) == 50
    beyond = client.get(url, {"page": "99"})  # a stale link lands on the last page, not a 404
    assert beyond.status_code == 200 and beyond.context["page"].number == 2


def test_the_queue_is_sorted_by_deadline_with_live_countdowns(territory, resident_user,
                                                              microgrid_worker, street_admin):
    later = submit(resident_user)
    sooner = submit(resident_user)
    services.petition_escalate_by_hand(petition_id=later.pk, actor=microgrid_worker,
                                       reason="需要网格协调")
    later.refresh_from_db()
    Petition.objects.filter(pk=later.pk).update(holder=microgrid_worker)
    # On site at both: only the resolution clocks run (the grid's 3 days, the micro-grid's 1).
    for petition in (later, sooner):
        services.petition_check_in(petition_id=petition.pk, actor=microgrid_worker)
    response = client_for(microgrid_worker).get(reverse("petitions:staff-queue"))
    assert [row["id"] for row in response.context["rows"]] == [sooner.pk, later.pk]
    assert 'class="countdown" data-deadline=' in response.content.decode()


def test_the_overdue_list_shows_the_overdue_badge(territory, resident_user, grid_worker,
                                                  time_machine):
    petition = submit(resident_user)
    time_machine.move_to(petition.due_at.timestamp() + 60, tick=False)
    response = client_for(grid_worker).get(WORKBENCH, {"tab": "overdue"})
    assert [row["id"] for row in response.context["rows"]] == [petition.pk]
    assert "已超期" in response.content.decode()


# --- staff: detail and actions -----------------------------------------------------------------


def test_the_holder_checks_in_notes_and_resolves_through_the_views(territory, resident_user,
                                                                    microgrid_worker):
    petition = submit(resident_user)
    client = client_for(microgrid_worker)
    detail = client.get(reverse("petitions:staff-detail", args=[petition.pk])).content.decode()
    assert "到场签到" in detail
    client.post(reverse("petitions:staff-check-in", args=[petition.pk]))
    client.post(reverse("petitions:staff-note-create", args=[petition.pk]),
                {"note": "现场查看", "photos": [photo()]})
    response = client.post(reverse("petitions:staff-resolve", args=[petition.pk]),
                           {"resolution": "杂物已清理"})
    petition.refresh_from_db()
    assert response.status_code == 302
    assert petition.state == Petition.State.RESOLVED
    assert petition.arrived_at is not None
    assert PetitionEvent.objects.get(petition=petition, kind="note").photos.count() == 1


def test_an_illegal_move_is_a_chinese_message_not_a_500(territory, resident_user,
                                                        microgrid_worker):
    petition = submit(resident_user)
    client = client_for(microgrid_worker)
    client.post(reverse("petitions:staff-check-in", args=[petition.pk]))
    response = client.post(reverse("petitions:staff-check-in", args=[petition.pk]))
    assert response.status_code == 302
    assert any("不能从" in text for text in messages_of(response))


def test_staff_forms_refuse_bad_input_in_chinese(territory, resident_user, microgrid_worker):
    petition = submit(resident_user)
    client = client_for(microgrid_worker)
    missing = client.post(reverse("petitions:staff-resolve", args=[petition.pk]),
                          {"resolution": ""})
    assert any("请填写办理结果。" in text for text in messages_of(missing))
    too_many = client.post(reverse("petitions:staff-note-create", args=[petition.pk]),
                           {"note": "照片", "photos": [photo(f"{i}.jpg") for i in range(4)]})
    assert any("最多上传 3 张照片。" in text for text in messages_of(too_many))
    bad = SimpleUploadedFile("x.jpg", b"not a jpeg", content_type="image/jpeg")
    bad_photo = client.post(reverse("petitions:staff-note-create", args=[petition.pk]),
                            {"note": "照片", "photos": [bad]})
    assert any("请上传" in text for text in messages_of(bad_photo))
    assert not PetitionEvent.objects.filter(petition=petition, kind="note").exists()


def test_return_then_reroute_by_the_community_dispatcher(territory, resident_user,
                                                         microgrid_worker, community_staff):
    petition = submit(resident_user)
    client_for(microgrid_worker).post(reverse("petitions:staff-return", args=[petition.pk]),
                                      {"reason": "不在本微网格"})
    petition.refresh_from_db()
    assert petition.state == Petition.State.RETURNED
    dispatcher = client_for(community_staff)
    page = dispatcher.get(reverse("petitions:staff-detail", args=[petition.pk])).content.decode()
    assert "改派" in page
    dispatcher.post(reverse("petitions:staff-reroute", args=[petition.pk]),
                    {"building": territory.building2.pk, "holder": microgrid_worker.pk,
                     "note": "改到2号楼"})
    petition.refresh_from_db()
    assert (petition.state, petition.building) == (Petition.State.DISPATCHED,
                                                   territory.building2)


def test_escalate_refer_and_reject(territory, resident_user, microgrid_worker, grid_worker,
                                   community_staff):
    escalated = submit(resident_user)
    client_for(microgrid_worker).post(reverse("petitions:staff-escalate", args=[escalated.pk]),
                                      {"reason": "需要网格协调"})
    escalated.refresh_from_db()
    assert escalated.tier == Petition.Tier.GRID
    referred = submit(resident_user)
    client_for(grid_worker).post(reverse("petitions:staff-refer", args=[referred.pk]),
                                 {"note": "需居民议事", "title": "楼道堆物清理",
                                  "description": "提请议事会商定清理办法。"})
    referred.refresh_from_db()
    # A grid worker's referral lands on the compound's agenda as a linked topic.
    assert referred.state == Petition.State.REFERRED
    assert referred.deliberation_topic_id is not None
    dispatcher = client_for(community_staff)
    rejected = submit(resident_user)
    no_reason = dispatcher.post(reverse("petitions:staff-reject", args=[rejected.pk]),
                                {"reason": ""})
    assert any("请填写原因。" in text for text in messages_of(no_reason))
    # Rejecting a dispatched petition is illegal: the transition message, no 500.
    response = dispatcher.post(reverse("petitions:staff-reject", args=[rejected.pk]),
                               {"reason": "不属于受理范围"})
    assert any("不能从" in text for text in messages_of(response))


def test_the_dispatcher_dispatches_to_the_grid_worker_and_verifies_their_result(
        territory, resident_user, grid_worker, community_staff):
    # No micro-grid worker exists, so the petition waits for the dispatcher.
    petition = submit(resident_user)
    assert petition.state == Petition.State.SUBMITTED
    dispatcher = client_for(community_staff)
    dispatcher.post(reverse("petitions:staff-dispatch", args=[petition.pk]),
                    {"holder": grid_worker.pk})
    petition.refresh_from_db()
    assert petition.holder == grid_worker
    client = client_for(grid_worker)
    client.post(reverse("petitions:staff-check-in", args=[petition.pk]))
    client.post(reverse("petitions:staff-resolve", args=[petition.pk]), {"resolution": "好了"})
    # The grid worker resolved it, so the check is someone else's.
    own = client.post(reverse("petitions:staff-verify", args=[petition.pk]), {"accepted": "yes"})
    assert "办结人不能核实自己办结的诉求，请由其他工作人员核实。" in messages_of(own)
    dispatcher.post(reverse("petitions:staff-verify", args=[petition.pk]), {"accepted": "yes"})
    petition.refresh_from_db()
    assert petition.state == Petition.State.VERIFIED


def test_phones_are_masked_with_a_reveal_button_for_staff_whose_scope_covers_the_household(
        territory, resident_user, microgrid_worker, street_admin, outsider):
    petition = submit(resident_user)
    page = client_for(microgrid_worker).get(reverse("petitions:staff-detail",
                                                    args=[petition.pk])).content.decode()
    assert "13800001111" not in page and "138****1111" in page
    reveal = reverse("api:petition-reveal-contact", args=[petition.pk])
    assert f'data-reveal-url="{reveal}"' in page
    revealed = client_for(microgrid_worker).post(reveal)
    assert revealed.json() == {"field": "contact_phone", "value": "13800001111"}
    assert client_for(outsider).post(reveal).status_code == 404
    for user in (outsider, street_admin):
        assert petition_contact_phone_for(user=user, petition=petition) == "138****1111"
    # The one rule of the pages and the API: the resident's own number is theirs to see.
    mine = client_for(resident_user).get(reverse("petitions:detail", args=[petition.pk]))
    assert "13800001111" in mine.content.decode()


# --- staff: stats ------------------------------------------------------------------------------


def test_the_stats_page_feeds_the_chart_and_shows_sample_sizes(territory, resident_user,
                                                               microgrid_worker, grid_worker):
    _verified(resident_user, microgrid_worker, grid_worker)
    submit(resident_user)
    for by in ("week", "month", "nonsense"):
        response = client_for(grid_worker).get(reverse("petitions:staff-stats"), {"by": by})
        assert response.status_code == 200
        page = response.content.decode()
        feed = json.loads(page.split('id="rates-data" type="application/json">')[1]
                          .split("</script>")[0])
        assert feed["series"][1]["name"] == "办结率"
        # Every period is there (the empty ones with no sample and no value); this one has both.
        assert [sample for sample in feed["series"][1]["samples"] if sample] == [2]
        assert [value for value in feed["series"][1]["data"] if value is not None] == [50.0]
        assert "50% <small class=\"muted\">n=2</small>" in page


def _stats_feed(page: str) -> dict[str, Any]:
    return json.loads(page.split('id="rates-data" type="application/json">')[1]
                      .split("</script>")[0])


def test_the_stats_chart_keeps_every_week_so_its_time_axis_tells_the_truth(
        territory, resident_user, grid_worker):
    shanghai = ZoneInfo("Asia/Shanghai")
    for day in (datetime(2026, 11, 4, 10, tzinfo=shanghai), datetime(2026, 12, 2, 10,
                                                                     tzinfo=shanghai)):
        with time_machine.travel(day, tick=False):
            submit(resident_user)
    with time_machine.travel(datetime(2026, 12, 5, 10, tzinfo=shanghai), tick=False):
        page = client_for(grid_worker).get(reverse("petitions:staff-stats"),
                                           {"by": "week"}).content.decode()
    feed = _stats_feed(page)
    mondays = [date.fromisoformat(period) for period in feed["periods"]]
    # Twelve weeks back from today's week, one Monday after another, none dropped.
    assert mondays[0] == date(2026, 9, 7) and mondays[-1] == date(2026, 11, 30)
    assert all(later - earlier == timedelta(days=7)
               for earlier, later in itertools.pairwise(mondays))
    resolution = feed["series"][1]
    with_data = [monday for monday, sample in zip(mondays, resolution["samples"], strict=True)
                 if sample]
    assert with_data == [date(2026, 11, 2), date(2026, 11, 30)]
    assert all(value is None for value, sample in zip(resolution["data"], resolution["samples"],
                                                      strict=True) if not sample)
    assert feed["axis"] == "time"
    # Every week is a table row too, and the page says how empty weeks are drawn.
    assert page.count("<td>2026-") == len(mondays) == 13
    assert "没有样本的周期" in page
    # The chart's label is allowed on it (axe: aria-label on a plain div is prohibited).
    chart = re.search(r'<div id="rates-chart"[^>]*>', page).group(0)
    assert 'role="img"' in chart and "aria-label=" in chart


def test_the_monthly_stats_keep_every_month(territory, resident_user, grid_worker):
    with time_machine.travel(datetime(2026, 12, 5, 10, tzinfo=ZoneInfo("Asia/Shanghai")),
                             tick=False):
        submit(resident_user)
        page = client_for(grid_worker).get(reverse("petitions:staff-stats"),
                                           {"by": "month"}).content.decode()
    periods = _stats_feed(page)["periods"]
    assert periods[0] == "2025-12-01" and periods[-1] == "2026-12-01" and len(periods) == 13


def test_the_public_pages_report_link_opens_the_new_petition_form(territory):
    page = Client().get(reverse("petitions:public")).content.decode()
    nav = page.split('class="topnav"')[1].split("</nav>")[0]
    assert f'<a href="{reverse("petitions:create")}">反映诉求</a>' in nav
    assert f'<a href="{reverse("petitions:mine")}">反映诉求</a>' not in nav
