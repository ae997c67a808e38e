from __future__ import annotations

from django.urls import reverse

from notifications.models import Notification
from notifications.services import notifications_create


def test_a_repeated_notification_with_the_same_key_lands_once(resident_user):
    for _ in range(2):
        notifications_create(user_ids=[resident_user.pk], title="诉求已升级", dedupe_key="k:1")
    assert Notification.objects.filter(user=resident_user).count() == 1


def test_the_inbox_shows_only_my_messages_and_marks_them_read(client, resident_user, grid_worker,
                                                              django_assert_max_num_queries):
    notifications_create(user_ids=[resident_user.pk], title="您的诉求已办结")
    notifications_create(user_ids=[grid_worker.pk], title="新派单：井盖松动")
    client.force_login(resident_user)
    with django_assert_max_num_queries(6):
        page = client.get(reverse("notifications:inbox")).content.decode()
    assert "您的诉求已办结" in page
    assert "井盖松动" not in page
    client.post(reverse("notifications:mark-all-read"))
    assert not Notification.objects.filter(user=resident_user, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=grid_worker, read_at__isnull=True).exists()


def test_the_inbox_asks_a_visitor_to_sign_in(client, db):
    response = client.get(reverse("notifications:inbox"))
    assert response.status_code == 302


def test_a_dispatch_message_opens_the_staff_page_for_the_worker_and_marks_it_read(
        client, resident_user, microgrid_worker):
    from tests.petitions.factories import submit

    petition = submit(resident_user)
    message = Notification.objects.get(user=microgrid_worker)
    client.force_login(microgrid_worker)

    response = client.get(reverse("notifications:open", args=[message.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("petitions:staff-detail", args=[petition.pk])
    assert client.get(response["Location"]).status_code == 200
    message.refresh_from_db()
    assert message.read_at is not None


def test_the_residents_message_opens_their_own_petition_page(client, resident_user,
                                                             microgrid_worker):
    from petitions.services import petition_check_in
    from tests.petitions.factories import submit

    petition = submit(resident_user)
    petition_check_in(petition_id=petition.pk, actor=microgrid_worker)
    message = Notification.objects.filter(user=resident_user).latest("pk")
    client.force_login(resident_user)

    response = client.get(reverse("notifications:open", args=[message.pk]))

    assert response["Location"] == reverse("petitions:detail", args=[petition.pk])
    assert client.get(response["Location"]).status_code == 200


def test_nobody_opens_or_marks_read_another_users_message(client, resident_user, grid_worker):
    notifications_create(user_ids=[resident_user.pk], title="您的诉求已办结", link="/")
    message = Notification.objects.get(user=resident_user)
    client.force_login(grid_worker)

    assert client.get(reverse("notifications:open", args=[message.pk])).status_code == 404
    message.refresh_from_db()
    assert message.read_at is None


def test_a_link_off_the_site_ends_on_the_inbox(client, resident_user):
    notifications_create(user_ids=[resident_user.pk], title="x", link="//evil.example/")
    message = Notification.objects.get(user=resident_user)
    client.force_login(resident_user)

    response = client.get(reverse("notifications:open", args=[message.pk]))

    assert response["Location"] == reverse("notifications:inbox")


def test_the_header_counts_unread_messages_until_they_are_opened(client, resident_user):
    notifications_create(user_ids=[resident_user.pk], title="一", link="/")
    notifications_create(user_ids=[resident_user.pk], title="二", link="/")
    client.force_login(resident_user)
    first = Notification.objects.filter(user=resident_user).earliest("pk")

    assert 'aria-label="2 条未读">2</span>' in client.get("/").content.decode()
    client.get(reverse("notifications:open", args=[first.pk]))
    assert 'aria-label="1 条未读">1</span>' in client.get("/").content.decode()
    client.post(reverse("notifications:mark-all-read"))
    assert "条未读" not in client.get("/").content.decode()


# --- read in the reader's language (#13 item 16) --------------------------------------------


def _read_in_english(client, user) -> str:
    client.force_login(user)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    return client.get(reverse("notifications:inbox")).content.decode()


def test_a_petition_message_written_in_chinese_reads_in_english_for_an_english_reader(
        client, resident_user, microgrid_worker):
    from django.utils import translation

    from petitions.models import PetitionEvent
    from tests.petitions.factories import submit

    with translation.override("zh-hans"):
        petition = submit(resident_user)
    message = Notification.objects.get(user=microgrid_worker)
    event_id = int(message.dedupe_key.split(":")[1])  # petition-event:<event>:<user>
    kind = PetitionEvent.objects.get(pk=event_id).kind
    with translation.override("en"):
        english_kind = str(PetitionEvent.Kind(kind).label)
    with translation.override("zh-hans"):
        chinese_kind = str(PetitionEvent.Kind(kind).label)
    assert message.title == f"诉求 #{petition.pk}：{chinese_kind}"  # kept for SMS and exports

    page = _read_in_english(client, microgrid_worker)

    assert f"Petition #{petition.pk}: {english_kind}" in page
    assert message.title not in page


def test_a_message_caused_by_an_english_speaker_is_kept_in_chinese(resident_user):
    from django.utils import translation
    from django.utils.translation import gettext_noop

    from notifications.messages import Message

    with translation.override("en"):
        notifications_create(user_ids=[resident_user.pk],
                             title=Message(gettext_noop("诉求已列入督办")))
    message = Notification.objects.get(user=resident_user)
    assert (message.title, message.title_key) == ("诉求已列入督办", "诉求已列入督办")


def test_an_old_message_without_a_key_shows_its_stored_text(client, resident_user):
    notifications_create(user_ids=[resident_user.pk], title="您的诉求已办结", body="井盖已更换")

    page = _read_in_english(client, resident_user)

    assert "您的诉求已办结" in page
    assert "井盖已更换" in page


def test_a_message_whose_params_do_not_fit_its_msgid_shows_its_stored_text(resident_user):
    notifications_create(user_ids=[resident_user.pk], title="诉求 #7：已提交")
    Notification.objects.update(title_key="诉求 #%(id)s：%(kind)s", params={"id": 7})

    assert Notification.objects.get().display_title == "诉求 #7：已提交"


def test_the_header_counts_unread_messages_up_to_99_then_says_99_plus(client, resident_user,
                                                                     grid_worker):
    from notifications.selectors import notification_unread_count

    Notification.objects.bulk_create([Notification(user=resident_user, title=f"通知 {index}")
                                      for index in range(100)])
    Notification.objects.bulk_create([Notification(user=grid_worker, title="新派单")])
    Notification.objects.filter(user=resident_user, title="通知 0").update(
        read_at="2026-11-16T09:00:00+08:00")
    assert notification_unread_count(user_id=resident_user.pk) == 99  # the other's not counted
    assert str(notification_unread_count(user_id=resident_user.pk)) == "99"
    Notification.objects.create(user=resident_user, title="通知 100")
    counted = notification_unread_count(user_id=resident_user.pk)
    assert counted > 99 and str(counted) == "99+"
    client.force_login(resident_user)
    page = client.get(reverse("notifications:inbox")).content.decode()
    assert '<span class="badge warn" aria-label="99+ 条未读">99+</span>' in page
    assert notification_unread_count(user_id=grid_worker.pk) == 1
