"""PIPL retention: the daily job deletes or anonymises personal data past its period, and only
that; a second run finds nothing to do."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from axes.models import AccessLog
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from accounts.models import PhoneCode
from config.celery import app as celery_app
from notifications.models import Notification, OutboundMessage
from petitions.models import Petition, PetitionPhoto
from privacy import registry
from privacy.retention import retention_purge
from privacy.tasks import retention_purge_task
from tests.petitions.factories import photo, submit
from volunteers.models import CareFile, CareFileAccessLog
from volunteers.services.care import care_file_create

START = timezone.now().replace(microsecond=0)


def _traces(territory, resident_user, community_staff):
    PhoneCode.objects.create(phone="13800001111", code_hash="x", expires_at=timezone.now())
    OutboundMessage.objects.create(recipient="13800001111", body="验证码 123456",
                                   processed_at=timezone.now())
    Notification.objects.create(user=resident_user, title="您的诉求已受理")
    petition = submit(resident_user, household=territory.household1, photos=[photo()])
    Petition.objects.filter(pk=petition.pk).update(closed_at=timezone.now(),
                                                   contact_phone="13800001111")
    care_file = care_file_create(resident=resident_user.residents.get(), actor=community_staff,
                                 category=CareFile.Category.ELDER_ALONE,
                                 risk=CareFile.Risk.LOW)
    CareFileAccessLog.objects.create(care_file=care_file, user=community_staff, channel="page")
    AccessLog.objects.create(username="community", ip_address="127.0.0.1", user_agent="t",
                             attempt_time=timezone.now())
    session = SessionStore()
    session.set_expiry(60)
    session.save()
    return petition


def counts(petition):
    return {
        "phone_codes": PhoneCode.objects.count(), "outbox": OutboundMessage.objects.count(),
        "notifications": Notification.objects.count(),
        "contact": Petition.objects.get(pk=petition.pk).contact_phone,
        "photos": PetitionPhoto.objects.filter(petition=petition).count(),
        "care_access_logs": CareFileAccessLog.objects.count(),
        "sign_in_logs": AccessLog.objects.count(), "sessions": Session.objects.count(),
    }


def test_each_kind_of_data_goes_when_its_period_ends_and_not_before(
        territory, resident_user, community_staff):
    with time_machine.travel(START, tick=False):
        petition = _traces(territory, resident_user, community_staff)
        before = counts(petition)
        assert retention_purge(now=timezone.now())["phone_codes"] == 0
        assert counts(petition) == before

    with time_machine.travel(START + timedelta(days=2), tick=False):
        retention_purge_task()  # the beat entry's task: a day later codes and sessions go
        after_two_days = counts(petition)
    assert after_two_days == {**before, "phone_codes": 0, "sessions": 0}

    with time_machine.travel(START + timedelta(days=400), tick=False):
        purged = retention_purge(now=timezone.now())
        assert (purged["outbox"], purged["notifications"], purged["sign_in_logs"]) == (
            before["outbox"], before["notifications"], 1)
        assert before["outbox"] >= 1 and before["notifications"] >= 1
        assert counts(petition)["contact"] == "13800001111"  # closed petitions keep 3 years

    with time_machine.travel(START + timedelta(days=3 * 365 + 1), tick=False):
        purged = retention_purge(now=timezone.now())
        assert counts(petition) == {
            "phone_codes": 0, "outbox": 0, "notifications": 0, "contact": "", "photos": 0,
            "care_access_logs": 0, "sign_in_logs": 0, "sessions": 0}
        assert Petition.objects.get(pk=petition.pk).description  # the record itself stays
        # Idempotent: the second run has nothing left to do.
        assert set(retention_purge(now=timezone.now()).values()) == {0}


def test_the_purge_is_a_constant_number_of_queries(db, django_assert_max_num_queries):
    with time_machine.travel(START, tick=False):
        PhoneCode.objects.bulk_create([
            PhoneCode(phone=f"1380000{index:04d}", code_hash="x", expires_at=timezone.now())
            for index in range(50)])
    with time_machine.travel(START + timedelta(days=2), tick=False), \
            django_assert_max_num_queries(20):
        assert retention_purge(now=timezone.now())["phone_codes"] == 50


def test_the_steps_are_every_apps_privacy_py_in_installed_apps_order(db):
    """The counts keep the keys and order the registered steps had; a name declared twice
    stops start-up."""
    assert list(retention_purge(now=timezone.now())) == [
        "phone_codes", "wechat_messages", "outbox", "notifications", "sign_in_logs", "sessions",
        "petition_contacts", "petition_photos", "care_access_logs"]
    stray = registry.part_of("stray", SimpleNamespace(
        __name__="stray.privacy", RETENTION_STEPS={"sessions": lambda now, periods: 0}))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(registry, "parts", [*registry.parts, stray])
        with pytest.raises(ImproperlyConfigured):
            registry.retention_steps()


def test_the_beat_entry_runs_the_purge_under_its_old_task_name(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["privacy-retention-purge"]
    assert entry["task"] == "notifications.retention_purge"
    assert celery_app.tasks[entry["task"]] is retention_purge_task._get_current_object()
