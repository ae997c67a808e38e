"""Review of 协办 links and duplicates (issue #18): what an outside tester tries."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from django.test import Client

from core.log_filters import json_formatter
from core.models import AuditEvent
from governance.models import Body
from notifications.models import OutboundMessage
from petitions import cohandling
from petitions.models import CoHandlingRequest
from tests.petitions.test_cohandling import BODY_PHONE, _ask
from tests.petitions.test_cohandling import petition as petition


@pytest.fixture
def property_company(territory) -> Body:
    return Body.objects.create(kind=Body.Kind.PROPERTY_COMPANY, name="瑞城物业",
                               compound=territory.compound, contact_name="赵经理",
                               contact_phone=BODY_PHONE)


def test_a_link_previewers_head_request_leaves_no_token_in_the_json_log(
        petition, microgrid_worker, property_company, caplog):
    _request, token, url = _ask(petition, microgrid_worker, property_company)
    with caplog.at_level(logging.DEBUG):
        Client().head(url, {"access_token": token})
        Client().put(url, {"access_token": token})
    formatter = json_formatter()
    lines = "\n".join(formatter.format(record) for record in caplog.records)
    assert "cohandling" in lines  # django.request did log the refused method
    assert token not in lines
    assert token[:12] not in lines


def test_the_post_that_loses_the_race_is_counted_and_audited(
        petition, microgrid_worker, property_company):
    request, _token, _url = _ask(petition, microgrid_worker, property_company)
    # Loaded before the winner answered, as the second of two simultaneous posts is.
    loser = CoHandlingRequest.objects.select_related("petition", "body").get(pk=request.pk)
    cohandling.cohandling_answer(request=request, note="第一次")
    audits = AuditEvent.objects.filter(object_type="petitions.cohandlingrequest",
                                       object_id=str(request.pk)).count()
    with pytest.raises(cohandling.LinkUsed, match="此链接已使用"):
        cohandling.cohandling_answer(request=loser, note="第二次")
    request.refresh_from_db()
    assert request.refused_count == 1 and request.answer_note == "第一次"
    assert AuditEvent.objects.filter(object_type="petitions.cohandlingrequest",
                                     object_id=str(request.pk)).count() == audits + 1


def test_the_residents_own_name_written_in_the_petition_never_reaches_the_bodys_page(
        territory, resident_user, microgrid_worker, property_company):
    from tests.petitions.factories import submit
    petition = submit(resident_user, building=territory.building1, unit_number="2",
                      description="我是王阿姨，2单元楼道灯坏了，联系人李师傅",
                      location_text="王阿姨家门口", contact_name="李师傅")
    _request, token, url = _ask(petition, microgrid_worker, property_company)
    html = Client().get(url, {"access_token": token}).content.decode()
    assert "楼道灯坏了" in html
    assert "王阿姨" not in html and "李师傅" not in html
    assert "王**" in html and "李**" in html


def test_a_name_in_the_staff_task_is_masked_on_the_page_and_in_the_sms(
        petition, microgrid_worker, property_company):  # the resident_user is 王阿姨
    request, token, url = _ask(petition, microgrid_worker, property_company,
                               task="请联系王阿姨更换楼道灯")
    sms = OutboundMessage.objects.get(dedupe_key=f"cohandling:{request.pk}")
    html = Client().get(url, {"access_token": token}).content.decode()
    for text in (sms.body, html):
        assert "王阿姨" not in text and "请联系王**更换楼道灯" in text


def test_nginx_logs_no_query_string_so_no_link_token_nor_referer():
    """nginx's default `combined` format logs $request, the query string with it: a 协办
    link's access_token (and a lookup's ?phone=) would land in the container's log."""
    conf = (Path(__file__).resolve().parents[2] / "ops/nginx/portal.conf").read_text("utf-8")
    directives = "\n".join(line.split("#", 1)[0] for line in conf.splitlines())
    formats = dict(re.findall(r"log_format\s+(\w+)\s+((?:'[^']*'\s*)+);", directives))
    logs = re.findall(r"access_log\s+([^;]+);", directives)
    written = [entry.split() for entry in logs if entry.strip() != "off"]
    assert written, "the server's access_log must name a format (the default logs $request)"
    for path_and_format in written:
        assert len(path_and_format) == 2 and path_and_format[1] in formats, path_and_format
        used = formats[path_and_format[1]]
        for leaky in ("$request ", '$request"', "$request_uri", "$args", "$query_string",
                      "$arg_", "$http_referer"):
            assert leaky not in used, leaky
        assert "$uri" in used
    server = directives.split("location", 1)[0]
    assert "access_log" in server  # every location inherits it, not the http default
