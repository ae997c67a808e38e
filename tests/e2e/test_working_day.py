"""One working day of the 7135 loop in Chromium, as the people who run it do it (issue 11):

1. community staff record a walk-in at the desk, by address only: it is placed automatically
   on 1号楼 and dispatched to that micro-grid's worker;
2. the worker's SMS comes through the Alibaba gateway (the fake on 127.0.0.1, which checks the
   signature) and its link opens the petition for the worker, on a phone;
3. on site, the worker scans the building's plaque: checked in, proof of arrival;
4. the worker resolves with a photo;
5. a different worker (the grid worker) finds it in 待核查 and verifies it;
6. community staff record the callback (回访): the walk-in, who has no account, is satisfied;
7. an Open311 request by address only reaches the right micro-grid worker's queue.
"""

from __future__ import annotations

import importlib
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.test import Client, override_settings
from PIL import Image
from playwright.sync_api import expect

from accounts.services import api_key_create
from petitions.models import Petition
from petitions.services import building_plaque_get_or_create
from tests.e2e.conftest import login
from tests.fakes.aliyun_sms import FakeAliyunSms, serve

WORKER_PHONE = "13700000011"


@pytest.fixture(autouse=True)
def categories(transactional_db: None) -> None:
    importlib.import_module("petitions.migrations.0002_seed_categories").seed(apps, None)


@pytest.fixture
def gateway(live_server: Any) -> Iterator[FakeAliyunSms]:
    fake = FakeAliyunSms()
    server = serve(fake)
    with override_settings(
        SMS_BACKEND="notifications.sms_aliyun.AliyunSmsBackend",
        ALIYUN_SMS_ACCESS_KEY_ID=fake.access_key_id,
        ALIYUN_SMS_ACCESS_KEY_SECRET=fake.access_key_secret,
        ALIYUN_SMS_SIGN_NAME=fake.sign_name,
        ALIYUN_SMS_TEMPLATES={"code": "SMS_100000001", "notice": "SMS_100000002"},
        ALIYUN_SMS_ENDPOINT=f"http://127.0.0.1:{server.server_address[1]}/",
        SITE_URL=live_server.url,
    ):
        yield fake
    server.shutdown()
    server.server_close()


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "green").save(buffer, format="JPEG")
    return buffer.getvalue()


def _form(page: Any, action: str) -> Any:
    return page.locator(f"form[action='{action}']")


def test_a_working_day_from_the_walk_in_to_the_callback(
        page, phone_page, gateway, territory, microgrid_worker, grid_worker, community_staff):
    microgrid_worker.phone = WORKER_PHONE
    microgrid_worker.save(update_fields=["phone"])
    plaque = building_plaque_get_or_create(building_id=territory.building1.pk)

    # 1. The walk-in, recorded by community staff from an address only.
    login(page, community_staff)
    page.goto("/petitions/staff/intake/")
    page.get_by_label("来访").check()
    page.fill("#id_contact_name", "赵大爷")
    page.fill("#id_contact_phone", "13900000088")
    page.get_by_label("已当面/电话核实号码").check()
    page.select_option("#id_category", label="物业设施")
    page.wait_for_selector("#id_answer_facility")  # the category's question, by htmx
    page.fill("#id_answer_facility", "楼道灯")
    page.fill("#id_description", "楼道灯坏了，晚上看不见台阶")
    page.fill("#id_location_text", "长江瑞城1号楼1单元0101")
    page.get_by_role("button", name="登记").click()
    assert "已代录诉求" in page.locator(".messages").inner_text()
    petition = Petition.objects.get()
    assert (petition.building_id, petition.holder_id) == (territory.building1.pk,
                                                          microgrid_worker.pk)
    assert petition.placement == "address" and (petition.unit_number, petition.room) == (
        "1", "0101")

    # 2. The worker's SMS went through the gateway; its link opens the petition for them.
    [sms] = [message for message in gateway.sent if message["phones"] == [WORKER_PHONE]]
    link = re.search(r"https?://\S+", sms["params"]["content"]).group(0)
    assert link.endswith(f"/petitions/staff/{petition.pk}/")
    login(phone_page, microgrid_worker)
    phone_page.goto(link)
    expect(phone_page.locator("h1")).to_contain_text(f"#{petition.pk}")
    expect(phone_page.get_by_text("楼道灯坏了，晚上看不见台阶")).to_be_visible()

    # 3. On site: the plaque on 1号楼 checks the worker in.
    phone_page.goto(f"/petitions/plaque/{plaque.token}/")
    phone_page.get_by_role("button", name="到场签到").click()
    assert "已扫码签到" in phone_page.locator(".messages").inner_text()
    petition.refresh_from_db()
    assert petition.arrived_at is not None and not petition.arrival_missed

    # 4. Resolved with a photo of the result.
    resolve = _form(phone_page, f"/petitions/staff/{petition.pk}/resolve/")
    resolve.locator("[name=resolution]").fill("已更换灯泡，楼道照明正常")
    resolve.locator("[name=photos]").set_input_files(files=[{
        "name": "result.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}])
    resolve.get_by_role("button", name="办结").click()
    assert "已办结" in phone_page.locator(".messages").inner_text()
    petition.refresh_from_db()
    assert petition.state == Petition.State.RESOLVED and petition.photos.count() == 1

    # 5. Another worker verifies it from their 待核查 tab.
    login(page, grid_worker)
    page.goto("/petitions/staff/")
    page.get_by_role("link", name=re.compile(r"^待核查")).click()
    page.locator(".wb-rows .wb-row").first.click()
    _form(page, f"/petitions/staff/{petition.pk}/verify/").get_by_role(
        "button", name="核实").click()
    assert "核实结果已记录" in page.locator(".messages").inner_text()

    # 6. The walk-in has no account: community staff call back and record the rating.
    login(page, community_staff)
    page.goto(f"/petitions/staff/{petition.pk}/")
    callback = _form(page, f"/petitions/staff/{petition.pk}/callback/")
    callback.get_by_label("电话回访").check()
    callback.get_by_label("满意", exact=True).check()
    callback.get_by_role("button", name="回访").click()
    assert "回访结果已记录" in page.locator(".messages").inner_text()
    petition.refresh_from_db()
    assert (petition.state, petition.rating, petition.callback_by_id) == (
        Petition.State.CLOSED, "satisfied", community_staff.pk)


def test_an_open311_request_by_address_only_reaches_the_micro_grid_workers_queue(
        page, live_server, territory, microgrid_worker):
    from petitions.models import Category

    _key, raw = api_key_create(name="12345热线")
    category = Category.objects.get(name="物业设施")
    hotline = Client()
    response = hotline.post("/open311/v2/requests.json", {
        "api_key": raw, "service_code": str(category.pk),
        "attribute[facility]": "路灯", "description": "2号楼门口路灯不亮",
        "address_string": "长江瑞城 2号楼 1单元 201"})
    assert response.status_code == 201, response.content
    service_request_id = response.json()[0]["service_request_id"]

    login(page, microgrid_worker)
    page.goto("/petitions/staff/")
    row = page.locator(".wb-rows .wb-row", has_text=f"#{service_request_id}")
    expect(row).to_have_count(1)
    row.click()
    expect(page.get_by_text("2号楼门口路灯不亮")).to_be_visible()
