"""Issue #18's co-handling acceptance, end to end in Chromium: the holder hands a part of a
petition to the compound's property company (协办); the company's manager opens the link from
the SMS on a 390×844 phone, with no account, answers with a note and a photo; the petition's
timeline on the staff page shows the answer and its photo; the link opened a second time does
nothing but say it was used. At each phone step: no sideways scroll, no serious or critical axe
finding, a screenshot under var/e2e/."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from PIL import Image

from governance.models import Body
from notifications.models import OutboundMessage
from petitions import cohandling
from petitions.models import CoHandlingRequest, PetitionPhoto
from tests.e2e.conftest import DESKTOP, PHONE, _page, login
from tests.e2e.test_accessibility import serious_violations
from tests.petitions.factories import submit

SHOTS = Path(__file__).resolve().parents[2] / "var" / "e2e"
LINK = re.compile(r"https?://\S+/petitions/cohandling/\d+/\?access_token=[A-Za-z0-9_-]+")


@pytest.fixture
def phone(browser: Any, live_server: Any, transactional_db: None) -> Any:
    # CSP allows only the pages' own nonced scripts: axe is the test's, so the context bypasses it.
    yield from _page(browser, live_server, PHONE, bypass_csp=True)


@pytest.fixture
def desk(browser: Any, live_server: Any, transactional_db: None) -> Any:
    yield from _page(browser, live_server, DESKTOP)


def _photo() -> dict[str, Any]:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (40, 120, 200)).save(buffer, format="JPEG")
    return {"name": "lamp.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def _check(page: Any, name: str, *, axe_url: str | None = None) -> list[str]:
    page.wait_for_load_state()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width}px wide"
    page.screenshot(path=str(SHOTS / f"cohandling-{name}-390.png"), full_page=True)
    return serious_violations(page, axe_url) if axe_url else []


def test_a_property_company_answers_a_co_handling_request_on_a_phone_with_a_photo_once(
        phone, desk, territory, resident_user, microgrid_worker):
    from playwright.sync_api import expect

    SHOTS.mkdir(parents=True, exist_ok=True)
    petition = submit(resident_user, building=territory.building1, unit_number="2",
                      description="2单元楼道灯坏了一周，晚上看不见台阶，请回电13912345678")
    Body.objects.create(kind=Body.Kind.PROPERTY_COMPANY, name="瑞城物业",
                        compound=territory.compound, contact_name="赵经理",
                        contact_phone="13600001234")

    # The holder asks from the petition's staff page.
    login(desk, microgrid_worker)
    desk.goto(f"/petitions/staff/{petition.pk}/")
    desk.get_by_text("发起协办", exact=True).first.click()
    desk.get_by_label("协办单位").select_option(label="物业公司 · 瑞城物业")
    desk.get_by_label("协办事项").fill("请更换2单元楼道灯，并检查线路")
    desk.get_by_label("答复期限").fill((timezone.localdate() + timedelta(days=2)).isoformat())
    desk.get_by_role("button", name="发起协办").click()
    expect(desk.locator("#cohandling")).to_contain_text("待答复")

    # The link, as the company's phone received it.
    sms = OutboundMessage.objects.get(recipient="13600001234")
    match = LINK.search(sms.body)
    assert match is not None and "13912345678" not in sms.body
    parts = urlsplit(match.group())
    link = f"{parts.path}?{parts.query}"

    findings = []
    phone.goto(link)
    expect(phone.locator("h1")).to_contain_text("瑞城物业")
    expect(phone.locator(".task")).to_contain_text("请更换2单元楼道灯")
    expect(phone.locator(".place")).to_contain_text("长江瑞城")
    expect(phone.locator(".description")).to_contain_text("楼道灯坏了")
    expect(phone.locator("body")).not_to_contain_text("13912345678")
    findings += _check(phone, "1-task", axe_url=link)

    phone.get_by_label("答复内容").fill("已更换灯泡和开关，楼道恢复照明")
    phone.get_by_label("现场照片（最多 3 张）").set_input_files(files=[_photo()])
    phone.get_by_role("button", name="提交答复").click()
    expect(phone.locator("h1")).to_have_text("答复已提交")
    _check(phone, "2-done")

    request = CoHandlingRequest.objects.get()
    assert request.used_at is not None and request.answer_event is not None
    photo = PetitionPhoto.objects.get(event_id=request.answer_event_id)

    # The holder's page: the answer on the timeline with its photo; the holder still closes.
    desk.goto(f"/petitions/staff/{petition.pk}/")
    timeline = desk.locator("ol.timeline")
    expect(timeline).to_contain_text("协办答复（瑞城物业）：已更换灯泡和开关")
    expect(timeline.locator(f'img[src="{photo.image.url}"]')).to_be_visible()
    expect(desk.locator("#cohandling")).to_contain_text("已答复")

    # The link a second time: it says it was used and offers nothing to submit.
    phone.goto(link)
    expect(phone.locator("h1")).to_have_text("已使用")
    expect(phone.locator("textarea")).to_have_count(0)
    findings += _check(phone, "3-used", axe_url=link)
    request.refresh_from_db()
    assert request.answer_note == "已更换灯泡和开关，楼道恢复照明"
    assert request.refused_count >= 1
    assert cohandling.cohandling_status(request, now=timezone.now()) == cohandling.Status.ANSWERED
    assert findings == []
