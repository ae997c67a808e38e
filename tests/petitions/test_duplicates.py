"""Duplicates (issue 18 item 6): detection by place, category, window and text similarity; the
resident's offer (no other petition's words or phone); merging keeps every photo and event,
tells and lets the merged petition's submitter rate; who may merge, and the refusals."""

from __future__ import annotations

from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.exceptions import ApplicationError, InvalidTransition, PermissionDeniedError
from core.models import AuditEvent
from notifications.models import Notification, OutboundMessage
from petitions import duplicates, selectors, services
from petitions.models import Category, Petition, PetitionEvent, PetitionMerge, PetitionPhoto
from tests.petitions.factories import category, photo, resolve_after_visit, submit

pytestmark = pytest.mark.django_db

LEAK_TEXT = "3号楼502室张大爷家漏水，电话13912345678"
SIMILAR = "楼道里堆满了杂物，影响通行，请清理"
OTHER_TEXT = "小区东门路灯坏了好几天"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- the measure and detection -------------------------------------------------------------


def test_text_similarity_is_one_for_the_same_text_and_zero_for_nothing_in_common():
    assert duplicates.text_similarity("楼道堆物", "楼道堆物！") == 1.0
    assert duplicates.text_similarity("楼道堆物", "路灯不亮") == 0.0
    assert duplicates.text_similarity("", "路灯不亮") == 0.0
    close = duplicates.text_similarity("楼道里堆满了杂物", "楼道里堆满杂物，请清理")
    far = duplicates.text_similarity("楼道里堆满了杂物", "楼道里路灯坏了")
    assert 0 < far < close < 1


def test_likely_duplicates_are_ranked_by_similarity_and_cut_at_the_threshold(
        frozen, territory, resident_user, other_resident):
    first = submit(resident_user, building=territory.building1,
                   description="楼道里堆满了杂物，影响通行")
    closest = submit(other_resident, building=territory.building1,
                     description="楼道里堆满了杂物，影响通行，请清理")
    unlike = submit(other_resident, building=territory.building1, description=OTHER_TEXT)
    found = duplicates.likely_duplicates(
        category_id=category().pk, building_id=territory.building1.pk,
        description="楼道里堆满了杂物，影响通行，请清理", exclude_id=closest.pk)
    assert [item.petition.pk for item in found] == [first.pk]
    found = duplicates.likely_duplicates(
        category_id=category().pk, building_id=territory.building1.pk,
        description="楼道里堆满了杂物，影响通行，请清理")
    assert [item.petition.pk for item in found] == [closest.pk, first.pk]
    assert found[0].similarity == 1.0 > found[1].similarity >= duplicates.duplicate_threshold()
    assert unlike.pk not in {item.petition.pk for item in found}


def test_other_buildings_and_categories_are_not_duplicates(frozen, territory, resident_user):
    submit(resident_user, building=territory.building2)
    submit(resident_user, building=territory.building1,
           category=Category.objects.create(name="绿化养护"))
    assert duplicates.likely_duplicates(category_id=category().pk,
                                        building_id=territory.building1.pk,
                                        description="楼道里堆满了杂物，影响通行") == []


def test_without_a_building_the_origin_micro_grid_is_the_place(frozen, territory,
                                                                community_staff):
    first = submit(community_staff, channel=Petition.Channel.WALK_IN, area=territory.micro1,
                   location_text="东门广场", contact_name="老李", description=SIMILAR)
    assert first.building_id is None
    found = duplicates.likely_duplicates(category_id=category().pk, building_id=None,
                                         origin_path=first.origin_path, description=SIMILAR)
    assert [item.petition.pk for item in found] == [first.pk]
    elsewhere = duplicates.likely_duplicates(category_id=category().pk, building_id=None,
                                             origin_path=territory.other_micro.path,
                                             description=SIMILAR)
    assert elsewhere == []


def test_the_window_leaves_out_older_petitions_and_setting_widens_it(
        frozen, territory, resident_user, settings):
    old = submit(resident_user, building=territory.building1)
    frozen.shift(timedelta(days=8))
    query = {"category_id": category().pk, "building_id": territory.building1.pk,
             "description": "楼道里堆满了杂物，影响通行"}
    assert duplicates.likely_duplicates(**query) == []
    settings.PETITION_DUPLICATE_WINDOW_DAYS = 10
    assert [item.petition.pk for item in duplicates.likely_duplicates(**query)] == [old.pk]


def test_the_threshold_is_a_setting(frozen, territory, resident_user, settings):
    submit(resident_user, building=territory.building1, description=OTHER_TEXT)
    query = {"category_id": category().pk, "building_id": territory.building1.pk,
             "description": "小区东门路灯坏了"}
    assert duplicates.likely_duplicates(**query)
    settings.PETITION_DUPLICATE_MIN_SIMILARITY = 0.9
    assert duplicates.likely_duplicates(**query) == []


def test_finished_petitions_are_not_offered_but_resolved_ones_are(
        frozen, territory, resident_user, community_staff, microgrid_worker):
    rejected = submit(resident_user, building=territory.building1)
    Petition.objects.filter(pk=rejected.pk).update(state=Petition.State.REJECTED)
    resolved = submit(resident_user, building=territory.building1)
    resolve_after_visit(petition_id=resolved.pk, actor=microgrid_worker, resolution="已清理")
    found = duplicates.likely_duplicates(category_id=category().pk,
                                         building_id=territory.building1.pk,
                                         description="楼道里堆满了杂物，影响通行")
    assert [item.petition.pk for item in found] == [resolved.pk]


def test_staff_see_only_the_duplicates_they_may_open(frozen, territory, resident_user,
                                                     microgrid_worker, outsider):
    first = submit(resident_user, building=territory.building1)
    second = submit(resident_user, building=territory.building1)
    mine = duplicates.petition_likely_duplicates_for_user(user=microgrid_worker,
                                                          petition=second)
    assert [item.petition.pk for item in mine] == [first.pk]
    assert duplicates.petition_likely_duplicates_for_user(user=resident_user,
                                                          petition=second) == []
    assert duplicates.petition_likely_duplicates_for_user(user=outsider, petition=second) == []


def test_the_staff_page_lists_likely_duplicates_in_one_query_for_them(
        frozen, territory, resident_user, community_staff, django_assert_num_queries):
    for _ in range(5):
        submit(resident_user, building=territory.building1)
    last = submit(resident_user, building=territory.building1)
    with django_assert_num_queries(1):
        found = duplicates.petition_likely_duplicates_for_user(user=community_staff,
                                                               petition=last)
    assert len(found) == 5


# --- the resident's offer --------------------------------------------------------------------


def _form(territory, **extra: Any) -> dict[str, Any]:
    return {"category": category().pk, "description": SIMILAR,
            "compound": territory.compound.pk, "building": territory.building1.pk,
            "unit": territory.unit1.pk, "household": territory.household1.pk, **extra}


def test_the_resident_is_offered_a_similar_request_without_its_words_or_phone(
        frozen, territory, resident_user, other_resident, settings):
    settings.PETITION_DUPLICATE_MIN_SIMILARITY = 0.2  # the long private tail lowers it
    theirs = submit(other_resident, building=territory.building1,
                    description=f"楼道里堆满了杂物，影响通行，{LEAK_TEXT}",
                    contact_phone="13912345678", contact_name="张大爷")
    count = Petition.objects.count()
    response = client_for(resident_user).post(reverse("petitions:create"), _form(territory))
    assert response.status_code == 200
    page = unescape(response.content.decode())
    assert "同类诉求正在办理" in page
    assert f'value="join:{theirs.pk}"' in page
    for secret in ("张大爷", "13912345678", "502", "漏水", "邻居", "138****2222", "2222"):
        assert secret not in page, secret
    assert Petition.objects.count() == count  # nothing created until the resident chooses


def test_a_resident_is_offered_at_most_five_times_a_day_then_the_form_submits(
        frozen, territory, resident_user, other_resident):
    # Each offer says "something similar is open here" without creating anything: capped, so
    # nobody can resubmit guessed texts all day to learn what a neighbour reported.
    submit(other_resident, building=territory.building1, description=SIMILAR)
    client = client_for(resident_user)
    for _attempt in range(5):
        offered = client.post(reverse("petitions:create"), _form(territory))
        assert "同类诉求正在办理" in offered.content.decode()
    count = Petition.objects.count()
    sixth = client.post(reverse("petitions:create"), _form(territory))
    assert sixth.status_code == 302 and Petition.objects.count() == count + 1
    frozen.shift(timedelta(days=1))
    again = client.post(reverse("petitions:create"), _form(territory))
    assert "同类诉求正在办理" in again.content.decode()


def test_the_resident_may_submit_anyway(frozen, territory, resident_user, other_resident):
    submit(other_resident, building=territory.building1, description=SIMILAR)
    response = client_for(resident_user).post(reverse("petitions:create"),
                                              _form(territory, duplicate_choice="new"))
    assert response.status_code == 302
    mine = Petition.objects.filter(submitter=resident_user).get()
    assert mine.state != Petition.State.MERGED
    assert not PetitionMerge.objects.exists()


def test_joining_merges_the_new_petition_into_the_one_followed(
        frozen, territory, resident_user, other_resident, microgrid_worker):
    theirs = submit(other_resident, building=territory.building1, description=SIMILAR)
    response = client_for(resident_user).post(
        reverse("petitions:create"),
        _form(territory, duplicate_choice=f"join:{theirs.pk}", photos=[photo()]))
    assert response.status_code == 302
    mine = Petition.objects.filter(submitter=resident_user).get()
    assert mine.state == Petition.State.MERGED
    link = PetitionMerge.objects.get(petition=mine)
    assert (link.into_id, link.how) == (theirs.pk, PetitionMerge.How.JOINED)
    assert mine.photos.count() == 1  # kept on the resident's own petition
    # The holder it was dispatched to hears it is no longer theirs; the resident, who chose
    # it, gets no SMS about it.
    assert Notification.objects.filter(
        user=microgrid_worker, link=reverse("petitions:staff-detail", args=[mine.pk]),
        title__contains="合并").exists()
    assert not OutboundMessage.objects.filter(recipient=resident_user.phone,
                                              body__contains="合并").exists()
    page = unescape(client_for(resident_user).get(
        reverse("petitions:detail", args=[mine.pk])).content.decode())
    assert f"已与同类诉求 #{theirs.pk} 合并办理" in page


def test_a_resident_cannot_join_a_petition_that_was_not_offered(frozen, territory,
                                                                resident_user, other_resident):
    elsewhere = submit(other_resident, building=territory.building3, description=SIMILAR)
    response = client_for(resident_user).post(
        reverse("petitions:create"), _form(territory, duplicate_choice=f"join:{elsewhere.pk}"))
    assert response.status_code == 400
    assert "该同类诉求已办结或不可关注" in unescape(response.content.decode())
    assert not Petition.objects.filter(submitter=resident_user).exists()


# --- merging -----------------------------------------------------------------------------------


@pytest.fixture
def pair(frozen, territory, resident_user, other_resident, microgrid_worker):
    """A (kept) by the neighbour, B (merged) by the resident with a photo and a note."""
    kept = submit(other_resident, building=territory.building1, description=SIMILAR)
    merged = submit(resident_user, building=territory.building1, description=SIMILAR,
                    photos=[photo(), photo("b.jpg", color="blue")])
    services.petition_add_note(petition_id=merged.pk, actor=microgrid_worker,
                               note="已电话联系居民", photos=[photo("n.jpg")], is_internal=True)
    return kept, merged


def test_merge_keeps_every_photo_and_event_readable_from_the_kept_petition(
        pair, community_staff, django_assert_max_num_queries):
    kept, merged = pair
    photo_ids = set(PetitionPhoto.objects.filter(petition=merged).values_list("id", flat=True))
    event_ids = set(PetitionEvent.objects.filter(petition=merged).values_list("id", flat=True))
    assert len(photo_ids) == 3
    result = duplicates.petition_merge(petition_id=merged.pk, into_id=kept.pk,
                                       actor=community_staff, note="同一处堆物")
    assert result.pk == kept.pk
    merged.refresh_from_db()
    assert merged.state == Petition.State.MERGED
    assert set(PetitionPhoto.objects.filter(petition=merged).values_list("id", flat=True)) \
        == photo_ids
    assert event_ids < set(PetitionEvent.objects.filter(petition=merged)
                           .values_list("id", flat=True))
    with django_assert_max_num_queries(6):
        records = duplicates.petition_merged_records(user=community_staff, petition=kept)
    (record,) = records
    assert {photo.pk for photo in record.photos} == photo_ids
    assert event_ids <= {event.pk for event in record.events}
    # Both timelines show the merge; the kept one's note (the staff's reason) is internal.
    assert merged.events.filter(kind="merged", to_state="merged", is_internal=False).exists()
    assert kept.events.get(kind="merged").note.endswith("同一处堆物")
    assert kept.events.get(kind="merged").is_internal
    assert AuditEvent.objects.filter(object_type="petitions.petitionmerge").count() == 1
    page = unescape(client_for(community_staff).get(
        reverse("petitions:staff-detail", args=[kept.pk])).content.decode())
    assert "并入本诉求的诉求" in page and "已电话联系居民" in page
    for merged_photo in PetitionPhoto.objects.filter(petition=merged):
        assert merged_photo.image.url in page


def test_the_merged_petitions_submitter_is_told_and_rates_the_kept_result(
        pair, resident_user, other_resident, community_staff, microgrid_worker, grid_worker):
    kept, merged = pair
    duplicates.petition_merge(petition_id=merged.pk, into_id=kept.pk, actor=community_staff)
    assert OutboundMessage.objects.filter(recipient=resident_user.phone,
                                          body__contains=f"已与同类诉求 #{kept.pk} 合并").exists()
    assert Notification.objects.filter(user=resident_user,
                                       link=reverse("petitions:detail", args=[merged.pk]),
                                       title__contains="合并").exists()
    with pytest.raises(ApplicationError, match="尚未办结核实"):
        duplicates.petition_merge_rate(petition_id=merged.pk, actor=resident_user,
                                       rating="satisfied")
    resolve_after_visit(petition_id=kept.pk, actor=microgrid_worker, resolution="已清理")
    services.petition_verify(petition_id=kept.pk, actor=grid_worker)
    assert Notification.objects.filter(user=resident_user,
                                       link=reverse("petitions:detail", args=[merged.pk]),
                                       title__contains="请评价").exists()
    assert OutboundMessage.objects.filter(recipient=resident_user.phone,
                                          body__contains="请登录评价").count() == 1
    page = unescape(client_for(resident_user).get(
        reverse("petitions:detail", args=[merged.pk])).content.decode())
    assert "评价合并办理的结果" in page
    response = client_for(resident_user).post(reverse("petitions:merged-rate", args=[merged.pk]),
                                              {"rating": "basic", "comment": "还行"})
    assert response.status_code == 302
    link = PetitionMerge.objects.get(petition=merged)
    assert (link.rating, link.rating_comment) == ("basic", "还行")
    with pytest.raises(ApplicationError, match="您已评价过"):
        duplicates.petition_merge_rate(petition_id=merged.pk, actor=resident_user,
                                       rating="satisfied")
    # 满意率 counts the kept petition's own rating only: the merged one has none.
    services.petition_rate(petition_id=kept.pk, actor=other_resident, rating="satisfied")
    end = timezone.now() + timedelta(days=1)
    (row,) = selectors.petition_rates(user=community_staff, start=end - timedelta(days=30),
                                      end=end)
    assert row["satisfaction_sample"] == 1
    assert row["submitted"] == 1
    assert duplicates.merged_rating_counts(petition=kept)["basic"] == 1


def test_merging_into_a_verified_petition_invites_at_once(pair, resident_user, community_staff,
                                                           microgrid_worker, grid_worker):
    kept, merged = pair
    resolve_after_visit(petition_id=kept.pk, actor=microgrid_worker, resolution="已清理")
    services.petition_verify(petition_id=kept.pk, actor=grid_worker)
    duplicates.petition_merge(petition_id=merged.pk, into_id=kept.pk, actor=community_staff)
    assert PetitionMerge.objects.get(petition=merged).invited_at is not None
    link = duplicates.petition_merge_rate(petition_id=merged.pk, actor=resident_user,
                                          rating="satisfied")
    assert link.rating == "satisfied"


def test_petitions_merged_into_the_merged_one_follow_it(frozen, pair, resident_user,
                                                        community_staff):
    kept, merged = pair
    third = submit(resident_user, building=kept.building, description=SIMILAR)
    duplicates.petition_merge(petition_id=third.pk, into_id=merged.pk, actor=community_staff)
    duplicates.petition_merge(petition_id=merged.pk, into_id=kept.pk, actor=community_staff)
    assert set(PetitionMerge.objects.filter(into=kept).values_list("petition_id", flat=True)) \
        == {third.pk, merged.pk}


def test_an_outsider_gets_404_and_a_non_dispatcher_403(pair, outsider, microgrid_worker,
                                                       grid_worker, resident_user):
    kept, merged = pair
    with pytest.raises(Http404):
        duplicates.petition_merge(petition_id=merged.pk, into_id=kept.pk, actor=outsider)
    for user in (microgrid_worker, grid_worker):
        with pytest.raises(PermissionDeniedError, match="只有管辖两件诉求的社区工作人员"):
            duplicates.petition_merge(petition_id=merged.pk, into_id=kept.pk, actor=user)
    with pytest.raises(Http404):  # the resident does not see the neighbour's petition
        duplicates.petition_merge(petition_id=merged.pk, into_id=kept.pk, actor=resident_user)
    assert not PetitionMerge.objects.exists()
    merged.refresh_from_db()
    assert merged.state == Petition.State.DISPATCHED


def test_merge_refusals_are_clear_sentences(pair, community_staff, microgrid_worker,
                                            grid_worker, other_resident, resident_user):
    kept, merged = pair
    with pytest.raises(ApplicationError, match="不能把诉求并入它自己"):
        duplicates.petition_merge(petition_id=kept.pk, into_id=kept.pk, actor=community_staff)
    duplicates.petition_merge(petition_id=merged.pk, into_id=kept.pk, actor=community_staff)
    with pytest.raises(ApplicationError, match=f"已并入 #{kept.pk}，不能再次合并"):
        duplicates.petition_merge(petition_id=merged.pk, into_id=kept.pk, actor=community_staff)
    third = submit(resident_user, building=kept.building, description=SIMILAR)
    with pytest.raises(ApplicationError, match=f"请并入 #{kept.pk}"):
        duplicates.petition_merge(petition_id=third.pk, into_id=merged.pk,
                                  actor=community_staff)
    resolve_after_visit(petition_id=kept.pk, actor=microgrid_worker, resolution="已清理")
    services.petition_verify(petition_id=kept.pk, actor=grid_worker)
    services.petition_rate(petition_id=kept.pk, actor=other_resident, rating="satisfied")
    kept.refresh_from_db()
    assert kept.state == Petition.State.CLOSED
    with pytest.raises(ApplicationError, match="已关闭，只能并入正在办理或刚办结的诉求"):
        duplicates.petition_merge(petition_id=third.pk, into_id=kept.pk,
                                  actor=community_staff)
    with pytest.raises(InvalidTransition, match="不能从"):  # a done petition is not merged
        duplicates.petition_merge(petition_id=kept.pk, into_id=third.pk,
                                  actor=community_staff)


def test_the_staff_merge_button_needs_the_confirmation_box(pair, community_staff):
    kept, merged = pair
    client = client_for(community_staff)
    page = unescape(client.get(reverse("petitions:staff-detail", args=[merged.pk]))
                    .content.decode())
    assert f"将本诉求并入 #{kept.pk}" in page
    url = reverse("petitions:staff-merge", args=[merged.pk])
    response = client.post(url, {"into": kept.pk}, follow=True)
    assert "请勾选确认后再合并" in unescape(response.content.decode())
    assert not PetitionMerge.objects.exists()
    response = client.post(url, {"into": kept.pk, "confirm": "on", "note": "同一件事"},
                           follow=True)
    assert f"已并入诉求 #{kept.pk}" in unescape(response.content.decode())
    assert PetitionMerge.objects.get().into_id == kept.pk


def test_the_api_merges_and_lists_duplicates(pair, community_staff, grid_worker, outsider):
    kept, merged = pair
    client = client_for(community_staff)
    listed = client.get(f"/api/v1/petitions/{merged.pk}/duplicates/")
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["duplicates"]] == [kept.pk]
    assert client_for(outsider).get(
        f"/api/v1/petitions/{merged.pk}/duplicates/").status_code == 404
    url = f"/api/v1/petitions/{merged.pk}/merge/"
    assert client_for(grid_worker).post(url, {"into": kept.pk},
                                        content_type="application/json").status_code == 403
    assert client_for(outsider).post(url, {"into": kept.pk},
                                     content_type="application/json").status_code == 404
    response = client.post(url, {"into": kept.pk, "note": "同一件事"},
                           content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "merged"
    again = client.post(url, {"into": kept.pk}, content_type="application/json")
    assert again.status_code == 400
    assert "不能再次合并" in again.content.decode()


def test_inviting_the_linked_raters_takes_the_same_queries_for_one_or_many(
        frozen, territory, resident_user, other_resident, community_staff, microgrid_worker,
        grid_worker):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def kept_with(links: int) -> Petition:
        kept = submit(other_resident, building=territory.building1, description=SIMILAR)
        for _ in range(links):
            merged = submit(resident_user, building=territory.building1, description=SIMILAR)
            duplicates.petition_merge(petition_id=merged.pk, into_id=kept.pk,
                                      actor=community_staff)
        resolve_after_visit(petition_id=kept.pk, actor=microgrid_worker, resolution="已清理")
        Petition.objects.filter(pk=kept.pk).update(verified_at=timezone.now())
        kept.refresh_from_db()
        return kept

    counts = []
    for links in (1, 5):
        kept = kept_with(links)
        with CaptureQueriesContext(connection) as queries:
            assert duplicates.merged_raters_invite(petition=kept) == links
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert PetitionMerge.objects.filter(invited_at__isnull=True).count() == 0
