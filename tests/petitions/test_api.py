"""The petitions REST API: who sees what, every transition endpoint, photos, idempotent retries,
query counts."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import api_key_create
from petitions import services
from petitions.api.serializers import PetitionListOutput
from petitions.models import Petition, PetitionPhoto
from tests.petitions.factories import category, photo, submit

LIST_URL = "/api/v1/petitions/"


def url(petition_id: int | str, action: str = "") -> str:
    return f"{LIST_URL}{petition_id}/" + (f"{action}/" if action else "")


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def key_client(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    return client


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def hotline(territory):
    api_key, raw_key = api_key_create(name="12345 热线")
    return api_key.user, raw_key


@pytest.fixture
def walk_in_elsewhere(territory, street_admin):
    """A petition in the other community (黄河路社区), recorded by the street."""
    return submit(street_admin, building=territory.other_building, channel="walk_in")


# --- who sees what ---------------------------------------------------------------------------


def test_a_resident_lists_only_their_own_petitions(territory, resident_user, other_resident):
    mine = submit(resident_user)
    submit(other_resident)
    assert ids(client_for(resident_user).get(LIST_URL)) == {mine.pk}


def test_a_grid_worker_sees_only_their_grid(territory, resident_user, grid_worker, outsider,
                                            walk_in_elsewhere):
    ours = submit(resident_user)
    assert ids(client_for(grid_worker).get(LIST_URL)) == {ours.pk}
    assert ids(client_for(outsider).get(LIST_URL)) == {walk_in_elsewhere.pk}


def test_an_external_system_sees_only_what_it_submitted(territory, resident_user, hotline):
    _system, raw_key = hotline
    submit(resident_user)
    response = key_client(raw_key).post(LIST_URL, {
        "category": category().pk, "description": "路灯不亮", "building": territory.building3.pk,
        "external_ref": "H-1"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["channel"] == "api"
    assert ids(key_client(raw_key).get(LIST_URL)) == {response.json()["id"]}


def test_an_external_system_with_a_scope_sees_its_subtree(territory, resident_user,
                                                          walk_in_elsewhere):
    _api_key, raw_key = api_key_create(name="社区平台", scope_area=territory.community)
    ours = submit(resident_user)
    assert ids(key_client(raw_key).get(LIST_URL)) == {ours.pk}


def test_outsiders_and_guessed_ids_get_404(territory, resident_user, other_resident, outsider,
                                          hotline):
    petition = submit(resident_user)
    for user in (other_resident, outsider):
        assert client_for(user).get(url(petition.pk)).status_code == 404
        assert client_for(user).post(url(petition.pk, "resolve"),
                                     {"resolution": "好了"}).status_code == 404
    assert key_client(hotline[1]).get(url(petition.pk)).status_code == 404
    assert client_for(resident_user).get(url(petition.pk + 1000)).status_code == 404
    assert client_for(resident_user).get(url("abc")).status_code == 404
    assert client_for(resident_user).get(url("9" * 40)).status_code == 404


def test_anonymous_callers_and_wrong_keys_are_refused(territory, resident_user):
    petition = submit(resident_user)
    assert APIClient().get(LIST_URL).status_code in (401, 403)
    assert key_client("abcd1234.wrong").get(url(petition.pk)).status_code in (401, 403)


def test_the_detail_has_the_timeline_and_masks_the_phone_for_other_staff(
        territory, resident_user, microgrid_worker, community_staff):
    petition = submit(resident_user)
    body = client_for(resident_user).get(url(petition.pk)).json()
    assert [event["kind"] for event in body["timeline"]] == ["submitted", "dispatched"]
    assert body["holder"]["id"] == microgrid_worker.pk
    assert body["contact_phone"] == "13800001111"
    assert body["submitted_at"].endswith("+08:00")
    for field in ("id", "state", "tier", "size", "category", "channel", "submitted_at",
                  "arrival_due_at", "arrived_at", "due_at", "resolved_at", "supervised",
                  "holder", "area", "timeline"):
        assert field in body


# --- the list: filters and query counts ------------------------------------------------------


def test_the_list_filters_through_the_selector(territory, resident_user, microgrid_worker,
                                               street_admin, walk_in_elsewhere):
    ours = submit(resident_user)
    admin = client_for(street_admin)
    assert ids(admin.get(LIST_URL, {"area": territory.community.pk})) == {ours.pk}
    assert ids(admin.get(LIST_URL, {"state": ["dispatched"]})) == {ours.pk}
    assert ids(admin.get(LIST_URL, {"overdue": "true"})) == set()
    response = admin.get(LIST_URL, {"state": "nonsense"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def _list_queries(user: User) -> list[str]:
    client = client_for(user)
    client.get(LIST_URL)  # warm the session
    with CaptureQueriesContext(connection) as context:
        response = client.get(LIST_URL)
    assert response.status_code == 200
    return [query["sql"] for query in context.captured_queries]


def test_each_list_row_is_the_detail_s_row_of_the_same_petition(territory, resident_user,
                                                                microgrid_worker, street_admin):
    # The list builds its rows from values() dicts, the detail from the instance: the same
    # labels, names and times either way, over a held and overdue petition in a building, a
    # rejected one and one placed on a micro-grid with no building and no holder.
    with time_machine.travel(datetime(2026, 5, 6, 9, 30, tzinfo=UTC), tick=False):
        submit(resident_user, building=territory.building1)
        rejected = submit(resident_user, building=territory.building3)
        services.petition_reject(petition_id=rejected.pk, actor=street_admin, reason="重复")
        submit(street_admin, area=territory.other_micro, channel="walk_in",
               location_text="黄河路口")
    with time_machine.travel(datetime(2026, 6, 30, 9, 30, tzinfo=UTC), tick=False):
        client = client_for(street_admin)
        rows = client.get(LIST_URL).json()["results"]
        details = [client.get(url(row["id"])).json() for row in rows]
    assert [set(row) for row in rows] == [set(PetitionListOutput().fields)] * 3
    assert rows == [{key: detail[key] for key in row} for row, detail in zip(rows, details,
                                                                               strict=True)]
    placed, rejected_row, held = rows
    assert held["building"]["name"] == "长江瑞城 1号楼" and held["holder"]["name"] == "李微网格员"
    assert held["is_overdue"] and held["submitted_at"] == "2026-05-06T17:30:00+08:00"
    assert rejected_row["state_label"] == "不予受理" and not rejected_row["is_overdue"]
    assert placed["building"] is None and placed["holder"] is None


def test_the_list_query_count_does_not_grow_with_rows(territory, resident_user,
                                                     microgrid_worker, grid_worker):
    for _index in range(3):
        submit(resident_user)
    few = _list_queries(grid_worker)
    for _index in range(12):
        submit(resident_user, building=territory.building3)
    many = _list_queries(grid_worker)
    assert len(few) == len(many) <= 4


def test_the_list_query_count_for_a_key_is_bounded(territory, hotline,
                                                   django_assert_max_num_queries):
    _system, raw_key = hotline
    client = key_client(raw_key)
    for number in range(15):
        client.post(LIST_URL, {"category": category().pk, "description": f"事项 {number}",
                               "building": territory.building1.pk}, format="json")
    # key lookup, the page's ids, its rows (last_used_at was written by the posts just now)
    with django_assert_max_num_queries(3):
        assert len(ids(client.get(LIST_URL))) == 15


def test_the_list_pages_with_a_cursor(territory, resident_user):
    for _index in range(3):
        submit(resident_user)
    client = client_for(resident_user)
    first = client.get(LIST_URL, {"page_size": 2}).json()
    assert len(first["results"]) == 2 and first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1 and second["next"] is None


def test_the_list_is_newest_submission_first_and_its_cursor_pages_through_equal_times(
        territory, resident_user, time_machine):
    # Three submitted in the same instant (equal submitted_at: the cursor breaks ties by id),
    # and the first one's time moved later than all: it leads, then the others by id, newest
    # first; the pages of two then one hold each petition once.
    time_machine.move_to("2026-11-16T09:00:00+08:00", tick=False)
    early, middle, late = (submit(resident_user) for _index in range(3))
    Petition.objects.filter(pk=early.pk).update(
        submitted_at=early.submitted_at + timedelta(minutes=1))
    client = client_for(resident_user)
    first = client.get(LIST_URL, {"page_size": 2}).json()
    second = client.get(first["next"]).json()
    assert [row["id"] for row in first["results"] + second["results"]] == [
        early.pk, late.pk, middle.pk]


# --- submission and idempotent retries -------------------------------------------------------


def test_a_resident_submits_with_photos(territory, resident_user, microgrid_worker):
    response = client_for(resident_user).post(LIST_URL, {
        "category": category().pk, "description": "楼道灯坏了", "photos": [photo(), photo()],
        "answers": '{"spot": "楼道"}'}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "dispatched" and body["channel"] == "mobile_web"
    assert len(body["timeline"][0]["photos"]) == 2
    assert Petition.objects.get(pk=body["id"]).answers == {"spot": "楼道"}


def test_a_retry_with_the_same_external_ref_returns_the_first_petition(territory, hotline):
    _system, raw_key = hotline
    client = key_client(raw_key)
    body = {"category": category().pk, "description": "噪音", "building": territory.building1.pk,
            "external_ref": "12345-0001", "channel": "hotline_12345"}
    first = client.post(LIST_URL, body, format="json")
    second = client.post(LIST_URL, body, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Petition.objects.filter(external_ref="12345-0001").count() == 1


def test_a_retry_that_starts_before_its_original_is_stored_still_gets_200(territory, hotline):
    # The load bench's race: the retry's request starts no later than the original writes its
    # row. A stopped clock makes that exact: both requests see the same instant.
    _system, raw_key = hotline
    client = key_client(raw_key)
    body = {"category": category().pk, "description": "噪音", "building": territory.building1.pk,
            "external_ref": "12345-0002", "channel": "hotline_12345"}
    with time_machine.travel(datetime(2026, 5, 6, 9, 30, tzinfo=UTC), tick=False):
        first = client.post(LIST_URL, body, format="json")
        second = client.post(LIST_URL, body, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Petition.objects.filter(external_ref="12345-0002").count() == 1


def test_a_submission_with_an_unknown_category_is_refused_in_chinese(territory, resident_user):
    response = client_for(resident_user).post(LIST_URL, {"category": 999999,
                                                         "description": "x"}, format="json")
    assert response.status_code == 400
    assert response.json()["message"] == "分类不存在。"


def test_a_resident_cannot_submit_for_someone_elses_household(territory, resident_user):
    response = client_for(resident_user).post(LIST_URL, {
        "category": category().pk, "description": "x",
        "household": territory.household2.pk}, format="json")
    assert response.status_code == 403
    assert "自己的住户" in response.json()["message"]


# --- photos ----------------------------------------------------------------------------------


def _png_with_html() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "blue").save(buffer, format="PNG")
    payload = buffer.getvalue() + b"<html><script>alert(1)</script></html>"
    return SimpleUploadedFile("evil.png", payload, content_type="image/png")


def test_an_html_appended_png_is_stored_re_encoded(territory, resident_user, microgrid_worker):
    response = client_for(resident_user).post(LIST_URL, {
        "category": category().pk, "description": "x", "photos": [_png_with_html()]},
        format="multipart")
    assert response.status_code == 201, response.content
    stored = PetitionPhoto.objects.get().image
    with stored.open("rb") as handle:
        assert b"<script" not in handle.read()


@pytest.mark.parametrize(("upload", "message"), [
    (SimpleUploadedFile("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>',
                        content_type="image/svg+xml"), "JPEG、PNG 或 WebP"),
    (SimpleUploadedFile("x.jpg", b"not an image at all", content_type="image/jpeg"),
     "JPEG、PNG 或 WebP"),
])
def test_a_photo_that_is_not_a_picture_is_refused(territory, resident_user, upload, message):
    response = client_for(resident_user).post(LIST_URL, {
        "category": category().pk, "description": "x", "photos": [upload]}, format="multipart")
    assert response.status_code == 400
    assert message in str(response.json()["errors"])
    assert not Petition.objects.exists()


def test_an_oversize_photo_is_refused(territory, resident_user, settings):
    settings.PHOTO_MAX_BYTES = 200
    response = client_for(resident_user).post(LIST_URL, {
        "category": category().pk, "description": "x", "photos": [photo()]},
        format="multipart")
    assert response.status_code == 400
    assert "照片不能超过" in str(response.json()["errors"])


def test_four_photos_are_refused(territory, resident_user):
    response = client_for(resident_user).post(LIST_URL, {
        "category": category().pk, "description": "x", "photos": [photo() for _ in range(4)]},
        format="multipart")
    assert response.status_code == 400
    assert "最多上传 3 张照片" in str(response.json()["errors"])


# --- transitions -----------------------------------------------------------------------------


def post(user: User, petition: Petition, action: str, data: dict | None = None,
         **kwargs) -> dict:
    response = client_for(user).post(url(petition.pk, action), data or {}, **kwargs)
    assert response.status_code in (200, 201), (action, response.status_code, response.content)
    return response.json()


def refused(user: User, petition: Petition, action: str, data: dict | None = None) -> tuple[
        int, str]:
    response = client_for(user).post(url(petition.pk, action), data or {}, format="json")
    assert response.status_code in (400, 403, 409), (action, response.status_code)
    return response.status_code, response.json()["message"]


def test_the_whole_happy_path_through_the_api(territory, resident_user, microgrid_worker,
                                             grid_worker):
    petition = submit(resident_user)
    assert post(microgrid_worker, petition, "check-in")["state"] == "on_site"
    note = post(microgrid_worker, petition, "notes", {"note": "已联系物业", "photos": [photo()]},
                format="multipart")
    assert note["kind"] == "note" and len(note["photos"]) == 1
    assert post(microgrid_worker, petition, "resolve", {"resolution": "已清理"})["state"] == (
        "resolved")
    assert post(grid_worker, petition, "verify", {"accepted": True})["state"] == "verified"
    body = post(resident_user, petition, "rate", {"rating": "satisfied"})
    assert body["state"] == "closed" and body["rating"] == "satisfied"
    assert refused(microgrid_worker, petition, "check-in") == (
        409, "不能从“已关闭”变为“已到场”。")


def test_an_unsatisfied_rating_reopens_once_and_a_second_reopen_is_refused(
        territory, resident_user, microgrid_worker, grid_worker):
    petition = submit(resident_user)
    post(microgrid_worker, petition, "check-in")
    post(microgrid_worker, petition, "resolve", {"resolution": "已处理"})
    post(grid_worker, petition, "verify", {})
    body = post(resident_user, petition, "rate", {"rating": "unsatisfied", "comment": "没修好"})
    assert body["state"] == "dispatched" and body["reopened_count"] == 1
    assert refused(resident_user, petition, "reopen", {"reason": "还是不行"}) == (
        400, "每件诉求只能重办一次。")


def test_verify_refused_sends_it_back_and_needs_a_reason(territory, resident_user,
                                                        microgrid_worker, grid_worker):
    petition = submit(resident_user)
    post(microgrid_worker, petition, "check-in")
    post(microgrid_worker, petition, "resolve", {"resolution": "已处理"})
    assert refused(grid_worker, petition, "verify", {"accepted": False}) == (
        400, "请说明核实未通过的原因。")
    assert post(grid_worker, petition, "verify",
                {"accepted": False, "note": "照片不清楚"})["state"] == "dispatched"


def test_close_after_verification_once_the_rating_window_has_passed(
        territory, resident_user, microgrid_worker, grid_worker):
    petition = submit(resident_user)
    assert refused(grid_worker, petition, "close")[0] == 409
    post(microgrid_worker, petition, "check-in")
    post(microgrid_worker, petition, "resolve", {"resolution": "已处理"})
    post(grid_worker, petition, "verify", {})
    assert refused(grid_worker, petition, "close")[0] == 400  # the resident may still rate
    with time_machine.travel(Petition.objects.get(pk=petition.pk).rating_due_at):
        assert post(grid_worker, petition, "close", {"note": "居民未评价"})["state"] == "closed"


def test_triage_and_escalate_move_the_tier(territory, resident_user, microgrid_worker,
                                           grid_worker, community_staff):
    petition = submit(resident_user)
    assert post(community_staff, petition, "triage", {"size": "big"})["tier"] == "grid"
    assert post(grid_worker, petition, "escalate", {"reason": "需街道协调"})["tier"] == "street"
    assert refused(grid_worker, petition, "escalate", {"reason": "再升"}) == (
        400, "诉求已在街道层级，无法再升级。")


def test_escalate_needs_a_reason_and_a_resident_cannot(territory, resident_user,
                                                       microgrid_worker):
    petition = submit(resident_user)
    assert refused(resident_user, petition, "escalate", {"reason": "快点"})[0] == 403
    assert refused(microgrid_worker, petition, "escalate", {"reason": ""})[0] == 400
    assert post(microgrid_worker, petition, "escalate", {"reason": "超出能力"})["tier"] == "grid"


def test_return_dispatch_reroute_and_reject(territory, resident_user, microgrid_worker,
                                            community_staff):
    petition = submit(resident_user)
    assert refused(community_staff, petition, "return", {"reason": "不是我的"}) == (
        403, "只有承办人可以退回。")
    body = post(microgrid_worker, petition, "return", {"reason": "不属于本微网格"})
    assert body["state"] == "returned" and body["holder"] is None
    body = post(community_staff, petition, "reroute", {"building": territory.building2.pk})
    assert body["state"] == "dispatched" and body["holder"]["id"] == microgrid_worker.pk
    post(microgrid_worker, petition, "return", {"reason": "还是不对"})
    body = post(community_staff, petition, "dispatch", {"holder": microgrid_worker.pk})
    assert body["state"] == "dispatched"
    post(microgrid_worker, petition, "return", {"reason": "第三次"})
    assert post(community_staff, petition, "reject", {"reason": "不属于受理范围"})["state"] == (
        "rejected")
    assert refused(community_staff, petition, "dispatch", {"holder": microgrid_worker.pk})[0] == (
        409)


def test_dispatch_refuses_an_unknown_holder_in_chinese(territory, resident_user,
                                                      microgrid_worker, community_staff):
    petition = submit(resident_user)
    post(microgrid_worker, petition, "return", {"reason": "派错了"})
    assert refused(community_staff, petition, "dispatch", {"holder": 999999}) == (
        400, "承办人不存在。")


def test_refer_to_deliberation(territory, resident_user, microgrid_worker, grid_worker,
                               community_staff):
    from deliberation.models import Topic

    petition = submit(resident_user)
    assert refused(microgrid_worker, petition, "refer")[0] == 403
    assert not Topic.objects.exists()
    assert post(grid_worker, petition, "refer", {
        "note": "涉及公共收益", "title": "公共收益使用", "description": "提请议事会商定。"})[
        "state"] == "referred"
    assert Topic.objects.get().petition_id == petition.pk
    assert refused(community_staff, petition, "reject", {"reason": "x"})[0] == 409


def test_an_external_system_rates_what_it_submitted(territory, hotline, microgrid_worker,
                                                    grid_worker):
    _system, raw_key = hotline
    client = key_client(raw_key)
    created = client.post(LIST_URL, {"category": category().pk, "description": "井盖松动",
                                     "building": territory.building1.pk}, format="json").json()
    petition = Petition.objects.get(pk=created["id"])
    post(microgrid_worker, petition, "check-in")
    post(microgrid_worker, petition, "resolve", {"resolution": "已更换"})
    post(grid_worker, petition, "verify", {})
    response = client.post(url(petition.pk, "rate"), {"rating": "basic"}, format="json")
    assert response.status_code == 200
    assert response.json()["state"] == "closed"


def test_bad_input_is_a_400_never_a_500(territory, resident_user, microgrid_worker):
    petition = submit(resident_user)
    client = client_for(resident_user)
    for action, data in [("rate", {"rating": "great"}), ("triage", {"size": "huge"}),
                         ("dispatch", {"holder": "abc"}), ("reroute", {"building": "x"})]:
        response = client.post(url(petition.pk, action), data, format="json")
        assert response.status_code == 400, (action, response.content)
        assert response.json()["message"]


# --- concurrency (PostgreSQL only) -----------------------------------------------------------


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_external_ref_create_one_petition(territory, hotline):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks and a real unique index race)")
    _system, raw_key = hotline
    body = {"category": category().pk, "description": "并发重试",
            "building": territory.building1.pk, "external_ref": "RACE-1"}
    key_client(raw_key).get(LIST_URL)  # warm the test client's schema check outside the threads
    barrier = threading.Barrier(4)
    results: list[int] = []
    codes: list[int] = []

    def attempt() -> None:
        barrier.wait()
        response = key_client(raw_key).post(LIST_URL, body, format="json")
        codes.append(response.status_code)
        results.append(response.json()["id"] if response.status_code in (200, 201) else -1)
        connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(set(results)) == 1 and -1 not in results
    assert sorted(codes) == [200, 200, 200, 201]  # only the one that wrote the row says "created"
    assert Petition.objects.filter(external_ref="RACE-1").count() == 1


def test_each_key_has_its_own_throttle_bucket(territory, hotline, monkeypatch):
    # The buckets are this test's own (tests/conftest.py); never cache.clear(): on Redis it
    # flushes the database the other worker's tests share.
    from accounts.api.throttles import ApiKeyRateThrottle

    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "2/min"})
    _system, raw_key = hotline
    _other, other_key = api_key_create(name="诉速办")
    statuses = [key_client(raw_key).get(LIST_URL).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert key_client(other_key).get(LIST_URL).status_code == 200


def test_more_illegal_moves_are_refused_in_chinese(territory, resident_user, microgrid_worker,
                                                   community_staff):
    petition = submit(resident_user)
    assert refused(resident_user, petition, "rate", {"rating": "satisfied"}) == (
        409, "不能从“已派单”变为“已评价”。")
    assert refused(microgrid_worker, petition, "notes", {"note": "  "}) == (
        400, "请填写办理记录或上传照片。")
    assert refused(community_staff, petition, "reroute", {}) == (400, "只有退回的诉求可以改派。")
    post(microgrid_worker, petition, "check-in")
    post(microgrid_worker, petition, "resolve", {"resolution": "已处理"})
    assert refused(microgrid_worker, petition, "resolve", {"resolution": "再次办结"}) == (
        409, "不能从“已办结”变为“已办结”。")
    assert refused(community_staff, petition, "triage", {"size": "hard"}) == (
        400, "已办结的诉求不能再分级。")


def test_categories_are_listed_with_their_questions(territory, resident_user,
                                                   django_assert_max_num_queries):
    client = client_for(resident_user)
    client.get("/api/v1/petition-categories/")
    with django_assert_max_num_queries(3):
        response = client.get("/api/v1/petition-categories/")
    facility = next(row for row in response.json() if row["name"] == "物业设施")
    assert facility["extra_questions"][0] == {
        "key": "facility", "label": "设施名称（电梯、门禁、路灯等）", "required": True}
    assert APIClient().get("/api/v1/petition-categories/").status_code in (401, 403)


def test_a_required_extra_question_must_be_answered(territory, resident_user, microgrid_worker):
    client = client_for(resident_user)
    body = {"category": category("物业设施").pk, "description": "电梯坏了"}
    response = client.post(LIST_URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["message"] == "请回答：设施名称（电梯、门禁、路灯等）"
    response = client.post(LIST_URL, {**body, "answers": {"facility": "电梯"}}, format="json")
    assert response.status_code == 201


# --- issue 10: privacy holes -----------------------------------------------------------------


def test_an_anonymous_petitions_timeline_never_names_the_submitter(
        territory, resident_user, microgrid_worker, grid_worker, community_staff):
    # The page labels the submitter's events 匿名; the API's timeline must say the same, for
    # the submit, the rating and a note of the resident's own, and to every staff viewer.
    petition = submit(resident_user, is_anonymous=True)
    post(resident_user, petition, "notes", {"note": "楼下也有"})
    post(microgrid_worker, petition, "check-in")
    post(microgrid_worker, petition, "resolve", {"resolution": "已清理"})
    post(grid_worker, petition, "verify", {})
    post(resident_user, petition, "rate", {"rating": "satisfied"})
    for viewer in (microgrid_worker, grid_worker, community_staff):
        response = client_for(viewer).get(url(petition.pk))
        assert response.status_code == 200
        actors = {event["kind"]: event["actor"] for event in response.json()["timeline"]}
        assert actors["submitted"] == actors["note"] == actors["rated"] == "匿名"
        assert actors["resolved"] == "李微网格员"
        assert "王阿姨" not in response.content.decode()


@pytest.mark.parametrize("name", ["submitted_after", "submitted_before", "due_after",
                                  "due_before"])
@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+08:00", "0001-01-01",
                                   "9999-12-31T23:59:59-08:00"])
def test_an_out_of_range_date_filter_is_a_400_in_chinese_not_a_500(territory, community_staff,
                                                                    name, value):
    response = client_for(community_staff).get(LIST_URL, {name: value})
    assert response.status_code == 400, response.content
    assert "1900" in str(response.json())


def test_a_scoped_key_cannot_file_a_petition_outside_its_scope(territory):
    _api_key, raw_key = api_key_create(name="富春江路社区平台", scope_area=territory.community)
    client = key_client(raw_key)
    base = {"category": category().pk, "description": "路灯不亮"}
    for place in ({"building": territory.other_building.pk},
                  {"household": territory.other_household.pk},
                  {"area": territory.other_micro.pk}):
        response = client.post(LIST_URL, {**base, **place}, format="json")
        assert response.status_code == 403, (place, response.content)
        assert "富春江路社区" in response.json()["message"]
    assert not Petition.objects.exists()
    response = client.post(LIST_URL, {**base, "building": territory.building1.pk}, format="json")
    assert response.status_code == 201
