"""A petition end to end in Chromium: a resident on a phone, a grid worker at a desk."""

from __future__ import annotations

import importlib
import io
import re

import pytest
from django.apps import apps
from PIL import Image
from playwright.sync_api import expect

from petitions import services
from petitions.models import Category, Petition
from tests.e2e.conftest import login
from tests.petitions.factories import submit


@pytest.fixture(autouse=True)
def categories(transactional_db: None) -> None:
    """Browser tests flush the tables after each test, the seeded categories with them."""
    importlib.import_module("petitions.migrations.0002_seed_categories").seed(apps, None)


def small_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), "orange").save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_resident_submits_a_worker_resolves_another_verifies_and_the_resident_rates(
        phone_page, page, territory, resident_user, grid_worker, community_staff):
    # 1. The resident, on a 390px phone, submits with a photo and sees the clock.
    login(phone_page, resident_user)
    phone_page.goto("/petitions/create/")
    phone_page.select_option("#id_category", label="环境卫生")
    phone_page.wait_for_selector("#id_answer_spot")  # the category's question came by htmx
    phone_page.fill("#id_answer_spot", "一楼楼道")
    phone_page.fill("#id_description", "楼道里堆满了杂物，影响通行")
    phone_page.set_input_files("#id_photos", files=[{
        "name": "photo.png", "mimeType": "image/png", "buffer": small_png()}])
    phone_page.get_by_role("button", name="提交").click()
    phone_page.wait_for_url(re.compile(r"/petitions/\d+/$"))
    assert "诉求已受理" in phone_page.locator(".messages").inner_text()
    countdown = phone_page.locator(".countdown").first
    assert re.match(r"剩余 ", countdown.inner_text())
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    petition = Petition.objects.get()
    assert petition.photos.count() == 1

    # 2. The dispatcher hands it to the grid worker, who checks in and resolves at a desk.
    services.petition_dispatch(petition_id=petition.pk, actor=community_staff,
                               holder=grid_worker)
    login(page, grid_worker)
    page.goto("/petitions/staff/")
    page.get_by_role("link", name=f"#{petition.pk}").click()
    page.get_by_role("button", name="到场签到").click()
    assert "已签到" in page.locator(".messages").inner_text()
    page.fill("#id_resolution", "杂物已清理，楼道通畅")
    page.get_by_role("button", name="办结").click()
    assert "已办结" in page.locator(".messages").inner_text()
    # Verification is someone else's: the resolver is not offered it, nor does it wait in
    # their 待核查; the dispatcher finds it there and opens it.
    expect(page.get_by_role("button", name="核实")).to_have_count(0)
    page.goto("/petitions/staff/?tab=verify")
    expect(page.locator(".wb-rows .wb-row")).to_have_count(0)
    login(page, community_staff)
    page.goto("/petitions/staff/")
    page.get_by_role("link", name=re.compile(r"^待核查")).click()
    expect(page.locator(".wb-tabs a.active .wb-count")).to_have_text("1")
    page.locator(".wb-rows .wb-row").first.click()
    page.get_by_role("button", name="核实").click()
    assert "核实结果已记录" in page.locator(".messages").inner_text()

    # 3. The resident rates it.
    phone_page.goto(f"/petitions/{petition.pk}/")
    phone_page.get_by_label("满意", exact=True).check()
    phone_page.get_by_role("button", name="提交评价").click()
    assert "感谢您的评价" in phone_page.locator(".messages").inner_text()
    petition.refresh_from_db()
    assert (petition.state, petition.rating) == (Petition.State.CLOSED, "satisfied")


def test_the_location_cascade_and_the_duplicate_hint_work_by_htmx(phone_page, territory,
                                                                   resident_user):
    submit(None, building=territory.building3, category=Category.objects.get(name="噪音扰民"))
    login(phone_page, resident_user)
    phone_page.goto("/petitions/create/")
    # The form starts at the resident's home; choosing another building resets what is below.
    assert phone_page.locator("#id_household").input_value() == str(territory.household1.pk)
    phone_page.select_option("#id_building", str(territory.building3.pk))
    # Locator waits, not wait_for_function: that evaluates a string, which the CSP forbids.
    expect(phone_page.locator("#id_household option")).to_have_count(1)
    expect(phone_page.locator("#id_unit option")).to_have_count(2)
    assert "3号楼 1单元" in phone_page.locator("#id_unit option").all_inner_texts()[1]
    assert phone_page.locator("#duplicates").inner_text().strip() == ""
    phone_page.select_option("#id_category", label="噪音扰民")
    phone_page.wait_for_selector("#duplicates .dup-hint")
    assert "同一楼栋已有 1 件同类诉求正在办理" in phone_page.locator("#duplicates").inner_text()


def test_a_worker_filters_pages_and_taps_a_row_of_a_long_queue_on_a_phone(
        phone_page, territory, resident_user, grid_worker, community_staff):
    first = submit(resident_user)
    services.petition_dispatch(petition_id=first.pk, actor=community_staff, holder=grid_worker)
    first.refresh_from_db()
    copies = []
    for index in range(66):
        row = Petition.objects.get(pk=first.pk)
        row.pk = None
        row.tier = "grid" if index < 60 else "microgrid"
        copies.append(row)
    # Mine: 67 (the first and six copies at the micro-grid tier, sixty at the grid tier).
    Petition.objects.bulk_create(copies)
    login(phone_page, grid_worker)
    phone_page.goto("/petitions/staff/")
    expect(phone_page.locator(".wb-tabs a.active .wb-count")).to_have_text("67")
    # The filter form, folded on a phone: 层级 = 网格 narrows the tab to its sixty.
    phone_page.get_by_text("筛选条件", exact=True).click()
    phone_page.get_by_label("层级").select_option("grid")
    phone_page.get_by_role("button", name="筛选").click()
    phone_page.wait_for_url(re.compile(r"tier=grid"))
    expect(phone_page.locator(".wb-tabs a.active .wb-count")).to_have_text("60")
    expect(phone_page.locator(".wb-rows .wb-row")).to_have_count(50)
    expect(phone_page.locator(".countdown").first).to_have_text(re.compile(r"^(剩余|已超时) "))
    following = phone_page.get_by_role("link", name="下一页")
    box = following.bounding_box()
    assert box is not None and box["height"] >= 44  # a thumb-sized target
    following.click()
    phone_page.wait_for_url(re.compile(r"page=2"))
    assert "tier=grid" in phone_page.url  # the filters ride along
    expect(phone_page.locator(".wb-rows .wb-row")).to_have_count(10)
    expect(phone_page.get_by_label("层级")).to_have_value("grid")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    # The whole row is the target: a tap on its clock, far from the number, opens it.
    row = phone_page.locator(".wb-rows .wb-row").first
    row_box = row.bounding_box()
    assert row_box is not None and row_box["width"] >= 340 and row_box["height"] >= 44
    number = row.locator(".wb-id").inner_text()
    row.locator(".wb-clock").tap()
    phone_page.wait_for_url(re.compile(r"/petitions/staff/\d+/$"))
    assert phone_page.url.endswith(f"/petitions/staff/{number.lstrip('#')}/")


def test_a_photo_survives_a_refused_submit_on_a_phone(phone_page, territory, resident_user):
    from pathlib import Path

    from django.conf import settings

    login(phone_page, resident_user)
    phone_page.goto("/petitions/create/")
    phone_page.select_option("#id_category", label="噪音扰民")
    phone_page.set_input_files("#id_photos", files=[{
        "name": "photo.png", "mimeType": "image/png", "buffer": small_png()}])
    phone_page.get_by_role("button", name="提交").click()  # no description: refused
    expect(phone_page.locator(".errorlist")).to_contain_text("请填写诉求内容")
    kept = phone_page.locator(".held-photo")
    expect(kept).to_have_count(1)
    expect(kept).to_contain_text("已上传")
    # The inline thumbnail really shows (the CSP allows data: images; no /media/ URL).
    assert kept.locator("img").evaluate("image => image.naturalWidth") > 0
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    shots = Path(settings.BASE_DIR) / "var" / "e2e"
    shots.mkdir(parents=True, exist_ok=True)
    phone_page.screenshot(path=str(shots / "petition-photo-kept-390.png"), full_page=True)
    phone_page.fill("#id_description", "晚上十点后楼上还在装修")
    phone_page.get_by_role("button", name="提交").click()
    phone_page.wait_for_url(re.compile(r"/petitions/\d+/$"))
    assert Petition.objects.get().photos.count() == 1
