"""Review of 协办 links and duplicates (issue #18): what an outside tester tries."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from core.log_filters import json_formatter
from core.models import AuditEvent
from governance.models import Body
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
