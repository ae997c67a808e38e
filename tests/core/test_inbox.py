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
