"""协办 / 吹哨报到 (petitions/cohandling.py): a body answers a part of a petition through a
one-time link, with no account; the link is single-use, expires, is stored hashed and audited."""

from __future__ import annotations

import io
import logging
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from core.exceptions import ApplicationError, PermissionDeniedError
from core.log_filters import redact_secrets
from core.models import AuditEvent
from governance.models import Body
from notifications.models import Notification, OutboundMessage
from petitions import cohandling
from petitions.models import CoHandlingRequest, Petition, PetitionEvent, PetitionState
from tests.petitions.factories import submit

BODY_PHONE = "13600001234"
RESIDENT_PHONE = "13912345678"
TOKEN = re.compile(r"/petitions/cohandling/(\d+)/\?access_token=([A-Za-z0-9_-]+)")


@pytest.fixture
def property_company(territory) -> Body:
    return Body.objects.create(kind=Body.Kind.PROPERTY_COMPANY, name="瑞城物业",
                               compound=territory.compound, contact_name="赵经理",
                               contact_phone=BODY_PHONE)


@pytest.fixture
def petition(territory, resident_user, microgrid_worker) -> Petition:
    petition = submit(resident_user, building=territory.building1, unit_number="2", room="0301",
                      description=f"2单元0301楼道灯坏了，请回电{RESIDENT_PHONE}")
    assert petition.holder_id == microgrid_worker.pk
    return petition


def _ask(petition, actor, body, *, days: int = 2, task: str = "请更换2单元楼道灯"):
    request = cohandling.cohandling_request_create(
        petition_id=petition.pk, actor=actor, body_id=body.pk, task=task,
        due_at=timezone.now() + timedelta(days=days))
    sms = OutboundMessage.objects.get(dedupe_key=f"cohandling:{request.pk}")
    match = TOKEN.search(sms.body)
    assert match is not None and int(match.group(1)) == request.pk
    return request, match.group(2), f"/petitions/cohandling/{request.pk}/"


def _jpeg_with_trailer() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    image = Image.new("RGB", (64, 48), "green")
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    image.save(buffer, format="JPEG", exif=exif.tobytes())
    return SimpleUploadedFile("site.jpg", buffer.getvalue() + b"<script>x</script>",
                              content_type="image/jpeg")


def _audits(request: CoHandlingRequest) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(object_type="petitions.cohandlingrequest",
                                          object_id=str(request.pk)).order_by("id"))


def test_the_holder_hands_a_part_to_the_property_company_which_is_texted_a_link_kept_only_hashed(
        petition, microgrid_worker, property_company):
    request, token, _url = _ask(petition, microgrid_worker, property_company)
    sms = OutboundMessage.objects.get(dedupe_key=f"cohandling:{request.pk}")
    assert sms.recipient == BODY_PHONE
    assert request.token_hash == cohandling.token_hash(token) and token not in request.token_hash
    assert not CoHandlingRequest.objects.filter(token_hash=token).exists()
    assert request.expires_at == request.created_at + timedelta(days=7)
    note = PetitionEvent.objects.filter(petition=petition).latest("id")
    assert note.is_internal and "瑞城物业" in note.note
    assert [event.action for event in _audits(request)] == [AuditEvent.Action.ADD]


def test_outsiders_cannot_ask_and_residents_are_refused(
        petition, resident_user, outsider, property_company):
    with pytest.raises(PermissionDeniedError, match="只有承办人或辖区工作人员可以发起协办"):
        cohandling.cohandling_request_create(
            petition_id=petition.pk, actor=resident_user, body_id=property_company.pk,
            task="x", due_at=timezone.now() + timedelta(days=1))
    with pytest.raises(Http404):
        cohandling.cohandling_request_create(
            petition_id=petition.pk, actor=outsider, body_id=property_company.pk,
            task="x", due_at=timezone.now() + timedelta(days=1))
    assert not CoHandlingRequest.objects.exists()


def test_a_body_of_another_compound_or_without_a_phone_cannot_be_asked(
        petition, territory, microgrid_worker):
    far = Body.objects.create(kind=Body.Kind.PROPERTY_COMPANY, name="黄河物业",
                              compound=territory.other_compound, contact_phone="13600009999")
    silent = Body.objects.create(kind=Body.Kind.PARTNER_UNIT, name="共建单位",
                                 community=territory.community)
    committee = Body.objects.create(kind=Body.Kind.OWNERS_COMMITTEE, name="业委会",
                                    compound=territory.compound, contact_phone="13600008888")
    department = Body.objects.create(kind=Body.Kind.DEPARTMENT, name="街道城管科",
                                     contact_phone="13600007777")
    assert list(cohandling.cohandling_body_list(petition=petition)) == [department]
    for body in (far, silent, committee):
        with pytest.raises(ApplicationError, match="请选择本小区、本社区或街道的协办单位"):
            cohandling.cohandling_request_create(
                petition_id=petition.pk, actor=microgrid_worker, body_id=body.pk, task="x",
                due_at=timezone.now() + timedelta(days=1))


def test_the_due_date_must_lie_within_the_links_life(petition, microgrid_worker,
                                                     property_company):
    for days in (-1, 8):
        with pytest.raises(ApplicationError, match="答复期限须在今后 7 天内"):
            _ask(petition, microgrid_worker, property_company, days=days)


def test_the_link_shows_the_task_and_place_with_the_petitions_numbers_masked_and_is_audited(
        petition, microgrid_worker, property_company):
    request, token, url = _ask(petition, microgrid_worker, property_company,
                               task=f"请联系{RESIDENT_PHONE}更换楼道灯")
    page = Client().get(url, {"access_token": token})
    html = page.content.decode()
    assert page.status_code == 200
    assert "长江瑞城" in html and "2单元" in html and "楼道灯坏了" in html
    assert RESIDENT_PHONE not in html and "0301" not in html and "王阿姨" not in html
    assert "139****5678" in html  # the task: staff's words, the phone masked
    assert page["Cache-Control"] == "no-store" and page["Referrer-Policy"] == "origin"
    request.refresh_from_db()
    assert request.open_count == 1 and request.opened_at is not None
    assert _audits(request)[-1].fields == ["open_count", "opened_at"]


def test_the_answer_lands_on_the_timeline_with_its_photo_re_encoded_and_the_holder_is_told(
        petition, microgrid_worker, community_staff, property_company):
    request, token, url = _ask(petition, community_staff, property_company)
    client = Client()
    client.get(url, {"access_token": token})
    page = client.post(url, {"access_token": token, "note": "已更换灯泡，恢复照明",
                             "photos": [_jpeg_with_trailer()]})
    assert page.status_code == 200 and "答复已提交" in page.content.decode()
    request.refresh_from_db()
    assert request.used_at is not None and request.answer_note == "已更换灯泡，恢复照明"
    event = request.answer_event
    assert event is not None and event.is_internal and event.actor_id is None
    assert "瑞城物业" in event.note and "已更换灯泡" in event.note
    photo = event.photos.get()
    stored = photo.image.read()
    assert b"<script>" not in stored and b"SecretCam" not in stored
    assert Image.open(io.BytesIO(stored)).format == "JPEG"
    told = set(Notification.objects.filter(dedupe_key__startswith="cohandling-answer:")
               .values_list("user_id", flat=True))
    assert told == {microgrid_worker.pk, community_staff.pk}
    assert Petition.objects.get(pk=petition.pk).state == PetitionState.DISPATCHED  # still theirs
    assert _audits(request)[-1].fields == ["answer_event", "answer_note", "answered_at",
                                           "used_at"]
    # The staff page shows it, with the photo, in the panel and on the timeline.
    staff = Client()
    staff.force_login(microgrid_worker)
    html = staff.get(reverse("petitions:staff-detail", args=[petition.pk])).content.decode()
    assert html.count(photo.image.url) >= 2 and "已答复" in html


def test_the_link_is_single_use_a_second_post_or_open_does_nothing_but_say_so(
        petition, microgrid_worker, property_company):
    request, token, url = _ask(petition, microgrid_worker, property_company)
    client = Client()
    client.post(url, {"access_token": token, "note": "已处理"})
    events = PetitionEvent.objects.count()
    second = client.post(url, {"access_token": token, "note": "再答一次"})
    again = client.get(url, {"access_token": token})
    for page in (second, again):
        assert page.status_code == 200 and "已使用" in page.content.decode()
        assert "<form" not in page.content.decode().split("</header>")[-1]
    request.refresh_from_db()
    assert request.answer_note == "已处理" and PetitionEvent.objects.count() == events
    assert request.refused_count == 2
    assert [audit.fields for audit in _audits(request)[-2:]] == [["refused_count"]] * 2


def test_a_stale_copy_of_the_request_cannot_answer_twice(petition, microgrid_worker,
                                                        property_company):
    request, _token, _url = _ask(petition, microgrid_worker, property_company)
    stale = CoHandlingRequest.objects.select_related("petition", "body").get(pk=request.pk)
    cohandling.cohandling_answer(request=request, note="第一次")
    # Loaded before the first answer: the conditional UPDATE, not the object, decides.
    with pytest.raises(cohandling.LinkUsed, match="此链接已使用"):
        cohandling.cohandling_answer(request=stale, note="第二次")
    assert CoHandlingRequest.objects.get(pk=request.pk).answer_note == "第一次"


def test_the_link_expires_after_seven_days(petition, microgrid_worker, property_company,
                                           time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    request, token, url = _ask(petition, microgrid_worker, property_company)
    time_machine.shift(timedelta(days=7, seconds=-1))
    assert "提交答复" in Client().get(url, {"access_token": token}).content.decode()
    time_machine.shift(timedelta(seconds=1))
    page = Client().post(url, {"access_token": token, "note": "迟到的答复"})
    assert page.status_code == 200 and "已失效" in page.content.decode()
    request.refresh_from_db()
    assert request.used_at is None and request.refused_count == 1
    assert cohandling.cohandling_status(request, now=timezone.now()) == cohandling.Status.EXPIRED


def test_the_link_dies_with_the_petition(petition, microgrid_worker, property_company):
    request, token, url = _ask(petition, microgrid_worker, property_company)
    Petition.objects.filter(pk=petition.pk).update(state=PetitionState.CLOSED)
    page = Client().get(url, {"access_token": token})
    assert "已失效" in page.content.decode()
    with pytest.raises(cohandling.LinkExpired, match="此链接已失效"):
        cohandling.cohandling_answer(
            request=CoHandlingRequest.objects.select_related("petition", "body")
            .get(pk=request.pk), note="x")


def test_a_wrong_token_a_wrong_id_and_no_token_answer_the_same_404(
        petition, microgrid_worker, property_company):
    request, token, url = _ask(petition, microgrid_worker, property_company)
    client = Client()
    pages = [client.get(url, {"access_token": token[:-1] + ("A" if token[-1] != "A" else "B")}),
             client.get(url),
             client.get(f"/petitions/cohandling/{request.pk + 1000}/", {"access_token": token}),
             client.post(url, {"access_token": "x" * 43, "note": "猜"})]
    assert {page.status_code for page in pages} == {404}
    assert len({page.content for page in pages}) == 1  # nothing tells one case from another
    request.refresh_from_db()
    assert request.open_count == 0 and request.used_at is None


def test_the_token_reaches_no_log_line(petition, microgrid_worker, property_company, caplog):
    _request, token, url = _ask(petition, microgrid_worker, property_company)
    with caplog.at_level(logging.DEBUG):
        client = Client()
        client.get(url, {"access_token": token})
        client.post(url, {"access_token": token, "note": "好"})
        client.get(url, {"access_token": token})
    assert token not in caplog.text
    # runserver's request line for the link is starred by the log filter.
    assert token not in redact_secrets(f'"GET {url}?access_token={token} HTTP/1.1" 200')


def test_staff_ask_from_the_petitions_page_and_see_the_requests_state(
        petition, microgrid_worker, property_company):
    client = Client()
    client.force_login(microgrid_worker)
    detail = reverse("petitions:staff-detail", args=[petition.pk])
    assert "发起协办" in client.get(detail).content.decode()
    due_on = (timezone.localdate() + timedelta(days=2)).isoformat()
    response = client.post(reverse("petitions:staff-cohandling-create", args=[petition.pk]),
                           {"body": property_company.pk, "task": "请检修楼道灯",
                            "due_on": due_on})
    assert response.status_code == 302 and response["Location"] == detail
    request = CoHandlingRequest.objects.get()
    assert timezone.localtime(request.due_at).hour == 18 and request.created_by == microgrid_worker
    html = client.get(detail).content.decode()
    assert "请检修楼道灯" in html and "待答复" in html


def test_bodies_response_times_are_reported_in_the_users_scope(
        petition, microgrid_worker, community_staff, outsider, property_company, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    first, _token, _url = _ask(petition, microgrid_worker, property_company, days=1)
    _ask(petition, microgrid_worker, property_company, task="第二件")
    time_machine.shift(timedelta(hours=6))
    cohandling.cohandling_answer(request=first, note="已处理")
    now = timezone.now()
    rows = cohandling.cohandling_response_times(user=community_staff,
                                                start=now - timedelta(days=1), end=now)
    assert len(rows) == 1
    row = rows[0]
    assert (row.name, row.requests, row.answered, row.on_time, row.average_hours) == (
        "瑞城物业", 2, 1, 1, 6.0)
    assert cohandling.cohandling_response_times(user=outsider, start=now - timedelta(days=1),
                                                end=now) == []
    client = Client()
    client.force_login(community_staff)
    html = client.get(reverse("petitions:staff-stats")).content.decode()
    assert "协办单位响应" in html and "瑞城物业" in html and "6.0" in html


def test_the_admin_lists_response_times(petition, microgrid_worker, street_admin,
                                        property_company):
    request, _token, _url = _ask(petition, microgrid_worker, property_company)
    cohandling.cohandling_answer(request=request, note="好")
    client = Client()
    client.force_login(street_admin)
    page = client.get(reverse("admin:petitions_cohandlingrequest_changelist"))
    assert page.status_code == 200 and "瑞城物业" in page.content.decode()
    assert request.token_hash not in page.content.decode()


def test_a_refused_photo_leaves_the_link_unused_for_a_second_try(petition, microgrid_worker,
                                                                  property_company):
    request, token, url = _ask(petition, microgrid_worker, property_company)
    not_a_picture = SimpleUploadedFile("x.jpg", b"<html>not a picture</html>",
                                       content_type="image/jpeg")
    page = Client().post(url, {"access_token": token, "note": "已处理",
                               "photos": [not_a_picture]})
    assert page.status_code == 400 and "JPEG" in page.content.decode()
    request.refresh_from_db()
    assert request.used_at is None and not PetitionEvent.objects.filter(
        note__startswith="协办答复").exists()
    with pytest.raises(ApplicationError, match="请填写答复内容"):
        cohandling.cohandling_answer(request=request, note="   ")
    assert Client().post(url, {"access_token": token, "note": "已处理"}).status_code == 200
    assert CoHandlingRequest.objects.get(pk=request.pk).used_at is not None


def test_response_times_are_one_query_for_many_bodies(
        petition, territory, microgrid_worker, community_staff, property_company,
        django_assert_num_queries):
    partner = Body.objects.create(kind=Body.Kind.PARTNER_UNIT, name="共建单位甲",
                                  community=territory.community, contact_phone="13600005555")
    for body in (property_company, partner, property_company):
        request, _token, _url = _ask(petition, microgrid_worker, body)
        cohandling.cohandling_answer(request=request, note="好")
    now = timezone.now()
    with django_assert_num_queries(1):
        rows = cohandling.cohandling_response_times(
            user=community_staff, start=now - timedelta(days=1), end=now + timedelta(seconds=1))
    assert sorted((row.name, row.requests) for row in rows) == [("共建单位甲", 1), ("瑞城物业", 2)]


def test_a_deleted_account_is_redacted_from_the_task_and_the_answer(
        petition, microgrid_worker, resident_user, property_company):
    from privacy.services import account_anonymise

    request, _token, _url = _ask(petition, microgrid_worker, property_company,
                                 task="请联系王阿姨 13800001111 更换楼道灯")
    cohandling.cohandling_answer(request=request, note="已与王阿姨（13800001111）确认，灯已换")
    account_anonymise(user=resident_user)
    request.refresh_from_db()
    for text in (request.task, request.answer_note):
        assert "王阿姨" not in text and "13800001111" not in text
