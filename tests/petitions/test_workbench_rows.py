"""The workbench's rows as they print (petitions.presentation.workbench_rows and _html): the
same words, times and classes the page's template printed before the rows moved to Python,
in the street's time zone, every value escaped and the description's numbers masked."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from petitions.models import Petition
from tests.petitions.factories import category, resolve_after_visit, submit

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Accepted Monday 09:00 in Shanghai, 01:00 UTC: the page prints Shanghai's hours.
MONDAY_9AM = datetime(2026, 11, 16, 9, 0, tzinfo=SHANGHAI)
URL = reverse("petitions:staff-queue")


def rows_of(user: Any, **params: str) -> dict[int, tuple[str, str]]:
    """Each row's classes and markup by petition number."""
    client = Client()
    client.force_login(user)
    response = client.get(URL, params)
    assert response.status_code == 200
    html = response.content.decode()
    return {int(number): (classes, row) for classes, row, number in re.findall(
        r'<li class="(wb-row[^"]*)">(.*?#(\d+)</span>.*?)</li>', html, flags=re.DOTALL)}


def text(row: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split())


def test_an_open_row_prints_its_labels_and_both_deadlines_in_shanghai_time(
        territory, resident_user, microgrid_worker, time_machine):
    time_machine.move_to(MONDAY_9AM, tick=False)
    petition = submit(resident_user, building=territory.building1,
                      description="请回电13812345678，楼道灯坏了一个星期，晚上上下楼什么都看不见"
                                  "很危险，请尽快修")
    Petition.objects.filter(pk=petition.pk).update(supervised=True)  # as the sweep flags it
    # Nobody has accepted it (签收): the row says so beside 督办.
    # 09:10: the 7-minute arrival (09:07) is missed, the day's resolution (Tuesday 09:00) not.
    time_machine.move_to(MONDAY_9AM + timedelta(minutes=10), tick=False)
    classes, row = rows_of(microgrid_worker)[petition.pk]
    assert classes == "wb-row is-late"
    # truncatechars:40 with Django's Chinese ellipsis "..." (3 characters): 37 and "...", the
    # phone masked before the cut.
    assert text(row) == (
        f"#{petition.pk} 环境卫生 请回电138****5678，楼道灯坏了一个星期，"
        "晚上上下楼什么都看不见很... 长江瑞城 1号楼 已派单 微网格 督办 待签收 "
        "到场 11-16 09:07 到场超时 办结 11-17 09:00")
    assert f'href="{reverse("petitions:staff-detail", args=[petition.pk])}"' in row
    assert 'data-deadline="2026-11-16T09:07:00+08:00"' in row
    assert 'data-deadline="2026-11-17T09:00:00+08:00"' in row
    assert 'class="badge state state-dispatched"' in row
    assert 'class="badge tier tier-microgrid"' in row


def test_a_resolved_row_prints_when_it_was_resolved_and_no_countdown(
        territory, resident_user, microgrid_worker, community_staff, time_machine):
    time_machine.move_to(MONDAY_9AM, tick=False)
    petition = submit(resident_user, building=territory.building1)
    time_machine.move_to(MONDAY_9AM + timedelta(minutes=95), tick=False)
    resolve_after_visit(petition_id=petition.pk, actor=microgrid_worker, resolution="已清理")
    classes, row = rows_of(community_staff, tab="verify")[petition.pk]
    assert classes == "wb-row"
    assert text(row) == (f"#{petition.pk} 环境卫生 楼道里堆满了杂物，影响通行 长江瑞城 1号楼 "
                         "已办结 微网格 办结于 11-16 10:35")
    assert "countdown" not in row


def test_a_row_without_a_building_prints_its_area_and_place_and_escapes_the_text(
        territory, resident_user, microgrid_worker, time_machine):
    time_machine.move_to(MONDAY_9AM, tick=False)
    petition = submit(resident_user, building=territory.building1)
    Petition.objects.filter(pk=petition.pk).update(
        building=None, description='<script>alert(1)</script> & "引号"',
        location_text="小区南门外的人行道上，靠近公交站台的那棵大树下面有个坑，下雨天积水")
    _classes, row = rows_of(microgrid_worker)[petition.pk]
    assert "<script>" not in row
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;引号&quot;" in row
    area = Petition.objects.get(pk=petition.pk).area.name
    # The place cut at 30: 27 characters and "...".
    assert f"{area} · 小区南门外的人行道上，靠近公交站台的那棵大树下面有个坑..." in text(row)


def test_a_row_masks_a_phone_number_typed_into_the_place(territory, resident_user,
                                                         microgrid_worker, time_machine):
    time_machine.move_to(MONDAY_9AM, tick=False)
    petition = submit(resident_user, building=territory.building1)
    Petition.objects.filter(pk=petition.pk).update(building=None,
                                                   location_text="南门外，有事打13912345678")
    _classes, row = rows_of(microgrid_worker)[petition.pk]
    assert "13912345678" not in row
    assert "南门外，有事打139****5678" in text(row)


def test_the_filter_form_marks_the_chosen_option_and_escapes_the_names(
        territory, resident_user, community_staff):
    category(name='灯<b>"坏"</b>')
    client = Client()
    client.force_login(community_staff)
    html = client.get(URL, {"tab": "all", "state": "dispatched", "page": "1"}).content.decode()
    assert '<option value="dispatched" selected>已派单</option>' in html
    assert html.count(" selected>") == 1
    assert "灯&lt;b&gt;&quot;坏&quot;&lt;/b&gt;</option>" in html
    # The tab links keep the filters and drop the page number.
    assert 'href="?tab=mine&amp;state=dispatched"' in html


# --- rows drawn once and remembered (presentation.workbench_page_html) ------------------------


def test_a_remembered_row_is_drawn_late_once_a_deadline_passes_and_on_time_again_before_it(
        territory, resident_user, microgrid_worker, time_machine):
    """The same row, values unchanged (no sweep between): drawn at 09:05, it is remembered
    only until its arrival deadline (09:07); at 09:10 it is late, and back at 09:05 (a clock
    set back) it is on time again."""
    time_machine.move_to(MONDAY_9AM, tick=False)
    petition = submit(resident_user, building=territory.building1)
    for minutes, late in ((5, False), (5, False), (10, True), (10, True), (5, False)):
        time_machine.move_to(MONDAY_9AM + timedelta(minutes=minutes), tick=False)
        classes, row = rows_of(microgrid_worker)[petition.pk]
        assert (classes == "wb-row is-late") is late, minutes
        assert ("到场超时" in row) is late, minutes


def test_a_remembered_row_is_drawn_anew_in_another_language_and_after_a_change(
        territory, resident_user, microgrid_worker, time_machine):
    time_machine.move_to(MONDAY_9AM, tick=False)
    petition = submit(resident_user, building=territory.building1)
    assert "已派单" in rows_of(microgrid_worker)[petition.pk][1]
    client = Client()
    client.force_login(microgrid_worker)
    english = client.get(URL, headers={"accept-language": "en"}).content.decode()
    assert "Assigned" in english and "已派单" not in english
    Petition.objects.filter(pk=petition.pk).update(description="换了一段描述")
    assert "换了一段描述" in rows_of(microgrid_worker)[petition.pk][1]


def test_the_remembered_rows_start_over_past_their_bound(territory, resident_user,
                                                        microgrid_worker, monkeypatch,
                                                        time_machine):
    from petitions import presentation

    time_machine.move_to(MONDAY_9AM, tick=False)
    monkeypatch.setattr(presentation, "MAX_DRAWN_ROWS", 2)
    presentation._drawn.clear()
    for _ in range(3):
        submit(resident_user, building=territory.building1)
    rows = rows_of(microgrid_worker)
    assert len(rows) == 3
    assert len(presentation._drawn) <= 3  # cleared before the page's three were kept
    rows_of(microgrid_worker)
    assert len(presentation._drawn) <= 3
