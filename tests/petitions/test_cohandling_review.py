"""Review of 协办 links and duplicates (issue #18): what an outside tester tries."""

from __future__ import annotations

import logging

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
    with pytest.raises(cohandling.LinkUsed):
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
