"""A merged petition (已合并) is finished everywhere: nothing more is written on it, and it is
not sent for 剔除考核 (it counts in no figure already). Review of issue #18."""

from __future__ import annotations

import pytest
from django.test import Client

from core.exceptions import ApplicationError, PermissionDeniedError
from petitions import assessment, duplicates, services
from petitions.models import AssessmentExclusion, Petition, PetitionEvent
from tests.petitions.factories import submit

pytestmark = pytest.mark.django_db

SIMILAR = "楼道里堆满了杂物，影响通行，请清理"


@pytest.fixture
def merged(frozen, territory, resident_user, other_resident, community_staff) -> Petition:
    kept = submit(other_resident, building=territory.building1, description=SIMILAR)
    merged = submit(resident_user, building=territory.building1, description=SIMILAR)
    duplicates.petition_merge(petition_id=merged.pk, into_id=kept.pk, actor=community_staff)
    merged.refresh_from_db()
    assert merged.state == Petition.State.MERGED
    return merged


def test_no_note_is_added_to_a_merged_petition_by_its_submitter_or_staff(
        merged, resident_user, community_staff):
    events = PetitionEvent.objects.filter(petition=merged).count()
    for actor in (resident_user, community_staff):
        with pytest.raises(ApplicationError, match="诉求已结束"):
            services.petition_add_note(petition_id=merged.pk, actor=actor, note="还在吗")
    client = Client()
    client.force_login(resident_user)
    answer = client.post(f"/api/v1/petitions/{merged.pk}/notes/", {"note": "还在吗"},
                         content_type="application/json")
    assert answer.status_code == 400 and "诉求已结束" in answer.content.decode()
    assert PetitionEvent.objects.filter(petition=merged).count() == events


def test_a_merged_petition_is_not_sent_for_exclusion_from_the_assessment(
        merged, community_staff):
    with pytest.raises(PermissionDeniedError, match="您无权为该诉求申请剔除考核"):
        assessment.exclusion_request(petition_id=merged.pk, actor=community_staff,
                                     reason=AssessmentExclusion.Reason.values[0], note="重复")
    assert not AssessmentExclusion.objects.filter(petition=merged).exists()
