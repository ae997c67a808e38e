"""Sign-in through WeChat (网页授权): the first visit binds the phone with a code once, later
visits sign in without one; outside WeChat nothing changes; 我的信息 unbinds and chooses."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User, WechatBinding
from accounts.wechat import openid_digest, wechat_bind, wechat_user_get
from notifications.sms import LocmemSmsBackend
from tests.accounts.conftest import last_code
from tests.accounts.test_wechat_api import WECHAT_UA

pytestmark = pytest.mark.django_db

PHONE = "13912345678"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def _through_wechat(client, response):
    """Follow the portal's redirect to WeChat and WeChat's back to the callback, as WeChat's
    browser does; returns the callback's response."""
    assert response.status_code == 302
    assert response["Location"].endswith("#wechat_redirect")
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(response["Location"].split("#")[0])
    except urllib.error.HTTPError as redirect:
        back = redirect.headers["Location"]
    else:
        pytest.fail("WeChat did not send the browser back")
    parts = urlsplit(back)
    return client.get(f"{parts.path}?{parts.query}", HTTP_USER_AGENT=WECHAT_UA)


def _bind_with_code(client, next_url="/petitions/mine/"):
    start = client.get(reverse("accounts:phone-login"), {"next": next_url},
                       HTTP_USER_AGENT=WECHAT_UA)
    start = client.get(start["Location"], HTTP_USER_AGENT=WECHAT_UA)
    back = _through_wechat(client, start)
    assert back["Location"].startswith(reverse("accounts:phone-login"))
    page = client.get(back["Location"], HTTP_USER_AGENT=WECHAT_UA)
    assert "您的微信将与该账户绑定" in page.content.decode()
    client.post(reverse("accounts:phone-login"), {"phone": PHONE, "next": next_url},
                HTTP_USER_AGENT=WECHAT_UA)
    return client.post(reverse("accounts:phone-verify"),
                       {"code": last_code(PHONE), "next": next_url}, HTTP_USER_AGENT=WECHAT_UA)


def test_first_visit_in_wechat_binds_the_phone_and_the_second_signs_in_without_a_code(
        client, wechat_fake):
    verified = _bind_with_code(client)
    assert verified["Location"] == "/petitions/mine/"
    user = User.objects.get(phone=PHONE)
    binding = WechatBinding.objects.get(user=user)
    assert binding.openid == wechat_fake.browser_openid
    assert binding.openid_digest == openid_digest(wechat_fake.browser_openid)

    client.logout()  # the browser closed: the session ended
    codes_sent = len(LocmemSmsBackend.outbox)
    start = client.get(reverse("accounts:phone-login"), {"next": "/petitions/mine/"},
                       HTTP_USER_AGENT=WECHAT_UA)
    back = _through_wechat(client, client.get(start["Location"], HTTP_USER_AGENT=WECHAT_UA))
    assert back["Location"] == "/petitions/mine/"
    assert int(client.session["_auth_user_id"]) == user.pk
    assert len(LocmemSmsBackend.outbox) == codes_sent  # no code this time


def test_the_openid_is_stored_encrypted(wechat_fake, resident_user):
    from django.db import connection

    wechat_bind(user=resident_user, openid=wechat_fake.browser_openid)
    with connection.cursor() as cursor:
        cursor.execute("SELECT openid FROM accounts_wechatbinding")
        stored = cursor.fetchone()[0]
    assert wechat_fake.browser_openid not in stored
    assert stored.startswith("gAAAAA")


def test_outside_wechat_the_phone_sign_in_is_unchanged(client, wechat_fake):
    page = client.get(reverse("accounts:phone-login"),
                      HTTP_USER_AGENT="Mozilla/5.0 (iPhone) Safari/604.1")
    assert page.status_code == 200
    assert "获取验证码" in page.content.decode()


def test_in_wechat_without_configuration_the_phone_sign_in_is_unchanged(client):
    page = client.get(reverse("accounts:phone-login"), HTTP_USER_AGENT=WECHAT_UA)
    assert page.status_code == 200
    start = client.get(reverse("accounts:wechat-start"), HTTP_USER_AGENT=WECHAT_UA)
    assert start["Location"].startswith(reverse("accounts:phone-login"))


def test_a_refused_code_falls_back_to_the_phone_sign_in_without_a_loop(client, wechat_fake,
                                                                       settings):
    start = client.get(reverse("accounts:wechat-start"), HTTP_USER_AGENT=WECHAT_UA)
    settings.WECHAT_APP_SECRET = "wrong0secret0wrong0secret0wrong00"  # WeChat says 40125
    back = _through_wechat(client, start)
    page = client.get(back["Location"], HTTP_USER_AGENT=WECHAT_UA)
    assert page.status_code == 200  # the form, not another trip to WeChat
    assert "微信登录未成功" in page.content.decode()


def test_a_callback_with_a_forged_state_signs_nobody_in(client, wechat_fake, resident_user):
    wechat_bind(user=resident_user, openid=wechat_fake.browser_openid)
    start = client.get(reverse("accounts:wechat-start"), HTTP_USER_AGENT=WECHAT_UA)
    session = client.session
    session["accounts_wechat_state"] = "another-state"
    session.save()
    back = _through_wechat(client, start)
    assert "_auth_user_id" not in client.session
    assert back["Location"].startswith(reverse("accounts:phone-login"))


def test_a_staff_account_is_never_signed_in_by_an_openid(wechat_fake, grid_worker):
    WechatBinding.objects.create(user=grid_worker, openid="oStaffOpenid00000000000000aB",
                                 openid_digest=openid_digest("oStaffOpenid00000000000000aB"))
    assert wechat_user_get(openid="oStaffOpenid00000000000000aB") is None


def test_an_openid_binds_to_one_account(wechat_fake, resident_user):
    other = User.objects.create(username="other", phone="13700000002",
                                role=User.Role.RESIDENT)
    openid = wechat_fake.browser_openid
    wechat_bind(user=resident_user, openid=openid)
    wechat_bind(user=other, openid=openid)
    assert list(WechatBinding.objects.values_list("user_id", flat=True)) == [other.pk]
    assert wechat_user_get(openid=openid) == other


def test_my_data_unbinds_wechat_and_chooses_the_channel(client, wechat_fake, resident_user):
    wechat_bind(user=resident_user, openid=wechat_fake.browser_openid)
    client.force_login(resident_user)
    page = client.get(reverse("accounts:my-data")).content.decode()
    assert "解除微信绑定</button>" in page
    assert wechat_fake.browser_openid not in page
    client.post(reverse("accounts:wechat-channel"), {"channel": "both"})
    assert WechatBinding.objects.get(user=resident_user).channel == "both"
    client.post(reverse("accounts:wechat-channel"), {"channel": "carrier-pigeon"})
    assert WechatBinding.objects.get(user=resident_user).channel == "both"
    client.post(reverse("accounts:wechat-unbind"))
    assert not WechatBinding.objects.filter(user=resident_user).exists()
    client.get(reverse("accounts:my-data"))  # the message "已解除微信绑定" is shown once
    assert "解除微信绑定</button>" not in client.get(reverse("accounts:my-data")).content.decode()


def test_the_data_download_shows_the_binding_with_the_openid_masked(client, wechat_fake,
                                                                    resident_user):
    wechat_bind(user=resident_user, openid=wechat_fake.browser_openid)
    client.force_login(resident_user)
    data = client.get(reverse("accounts:my-data-download")).json()
    assert data["wechat"]["openid"].endswith(wechat_fake.browser_openid[-2:])
    assert wechat_fake.browser_openid not in str(data)


def test_account_deletion_removes_the_binding(wechat_fake, resident_user):
    from privacy.services import account_anonymise

    wechat_bind(user=resident_user, openid=wechat_fake.browser_openid)
    account_anonymise(user=resident_user)
    assert not WechatBinding.objects.exists()
    assert wechat_user_get(openid=wechat_fake.browser_openid) is None


def test_a_callback_with_a_non_ascii_state_is_declined_not_an_error(client, wechat_fake):
    client.get(reverse("accounts:wechat-start"), HTTP_USER_AGENT=WECHAT_UA)
    back = client.get(reverse("accounts:wechat-callback"), {"code": "c", "state": "状态"},
                      HTTP_USER_AGENT=WECHAT_UA)
    assert back.status_code == 302
    assert back["Location"].startswith(reverse("accounts:phone-login"))
    assert "_auth_user_id" not in client.session


def test_a_broken_wechat_answer_on_the_callback_falls_back_to_the_phone_sign_in(
        client, wechat_fake, settings):
    from tests.fakes.wechat import serve_raw

    start = client.get(reverse("accounts:wechat-start"), HTTP_USER_AGENT=WECHAT_UA)
    state = client.session["accounts_wechat_state"]
    settings.WECHAT_API_URL, thread = serve_raw(b"not http\r\n\r\n")
    back = client.get(reverse("accounts:wechat-callback"), {"code": "c", "state": state},
                      HTTP_USER_AGENT=WECHAT_UA)
    thread.join(5)
    assert start.status_code == 302
    assert back.status_code == 302
    assert back["Location"].startswith(reverse("accounts:phone-login"))


def test_the_data_download_lists_wechat_messages_kept_after_unbinding(client, wechat_fake,
                                                                      resident_user):
    """Unbinding keeps the outbox rows (they go by SMS); the download must still list them."""
    from accounts.models import WechatMessage
    from accounts.wechat import wechat_unbind

    wechat_bind(user=resident_user, openid=wechat_fake.browser_openid)
    WechatMessage.objects.create(user=resident_user, template="petition_status",
                                 data={"keyword1": "#1"}, sms_body="已受理",
                                 next_attempt_at=timezone.now())
    wechat_unbind(user=resident_user)
    client.force_login(resident_user)
    data = client.get(reverse("accounts:my-data-download")).json()
    assert data["wechat"]["openid"] is None
    assert len(data["wechat"]["messages"]) == 1


def test_a_resident_may_sign_in_with_a_code_in_wechat_without_binding(client, wechat_fake):
    """Binding is the resident's choice (PIPL: a separate purpose, auto sign-in): one who
    unbound in 我的信息, or never wants it, signs in by code and stays unbound."""
    start = client.get(reverse("accounts:phone-login"), HTTP_USER_AGENT=WECHAT_UA)
    back = _through_wechat(client, client.get(start["Location"], HTTP_USER_AGENT=WECHAT_UA))
    client.post(reverse("accounts:phone-login"), {"phone": PHONE}, HTTP_USER_AGENT=WECHAT_UA)
    form = client.get(reverse("accounts:phone-verify"), HTTP_USER_AGENT=WECHAT_UA)
    assert back["Location"].startswith(reverse("accounts:phone-login"))
    assert 'name="skip_wechat"' in form.content.decode()
    verified = client.post(reverse("accounts:phone-verify"),
                           {"code": last_code(PHONE), "skip_wechat": "1"},
                           HTTP_USER_AGENT=WECHAT_UA)
    assert verified.status_code == 302
    assert int(client.session["_auth_user_id"]) == User.objects.get(phone=PHONE).pk
    assert not WechatBinding.objects.exists()
    assert "accounts_wechat_openid" not in client.session


def test_an_openid_left_waiting_in_the_session_lapses_and_binds_nothing(client, wechat_fake):
    """The openid waits for its phone code only minutes: a session someone else planted in a
    browser (a tossed cookie) cannot bind their WeChat to whoever signs in there later."""
    import time_machine
    from django.utils import timezone

    start = client.get(reverse("accounts:phone-login"), HTTP_USER_AGENT=WECHAT_UA)
    back = _through_wechat(client, client.get(start["Location"], HTTP_USER_AGENT=WECHAT_UA))
    assert back["Location"].startswith(reverse("accounts:phone-login"))
    with time_machine.travel(timezone.now() + timedelta(minutes=11), tick=False):
        client.post(reverse("accounts:phone-login"), {"phone": PHONE},
                    HTTP_USER_AGENT=WECHAT_UA)
        form = client.get(reverse("accounts:phone-verify"), HTTP_USER_AGENT=WECHAT_UA)
        client.post(reverse("accounts:phone-verify"), {"code": last_code(PHONE)},
                    HTTP_USER_AGENT=WECHAT_UA)
    assert 'name="skip_wechat"' not in form.content.decode()
    assert int(client.session["_auth_user_id"]) == User.objects.get(phone=PHONE).pk
    assert not WechatBinding.objects.exists()


def test_a_forced_visit_to_the_callback_does_not_turn_wechat_sign_in_off(client, wechat_fake):
    """Another site sending the browser to the callback (no sign-in under way in this session)
    is ignored: it must not mark the session 'WeChat failed' and force the SMS route."""
    forced = client.get(reverse("accounts:wechat-callback"), {"state": "x"},
                        HTTP_USER_AGENT=WECHAT_UA)
    assert forced["Location"].startswith(reverse("accounts:phone-login"))
    again = client.get(reverse("accounts:phone-login"), HTTP_USER_AGENT=WECHAT_UA)
    assert again["Location"].startswith(reverse("accounts:wechat-start"))


def test_a_deactivated_resident_is_not_signed_in_by_their_openid(client, wechat_fake,
                                                                 resident_user):
    wechat_bind(user=resident_user, openid=wechat_fake.browser_openid)
    resident_user.is_active = False
    resident_user.save(update_fields=["is_active"])
    start = client.get(reverse("accounts:wechat-start"), HTTP_USER_AGENT=WECHAT_UA)
    back = _through_wechat(client, start)
    assert "_auth_user_id" not in client.session
    assert back["Location"].startswith(reverse("accounts:phone-login"))


def test_signing_in_by_openid_gives_the_browser_a_new_session_key(client, wechat_fake,
                                                                  resident_user):
    wechat_bind(user=resident_user, openid=wechat_fake.browser_openid)
    start = client.get(reverse("accounts:wechat-start"), HTTP_USER_AGENT=WECHAT_UA)
    before = client.session.session_key
    _through_wechat(client, start)
    assert int(client.session["_auth_user_id"]) == resident_user.pk
    assert client.session.session_key != before


def test_one_address_looping_through_the_callback_is_refused_before_wechat_is_asked(
        client, wechat_fake, settings):
    """Each callback costs a call to WeChat with the portal's secret: past
    WECHAT_SIGNINS_PER_IP_PER_HOUR from one address the callback declines without the call; the
    phone sign-in stays open, and another address is not affected."""
    settings.WECHAT_SIGNINS_PER_IP_PER_HOUR = 2
    wechat_bind(user=User.objects.create(username="r", phone=PHONE, role=User.Role.RESIDENT),
                openid=wechat_fake.browser_openid)

    def sign_in(address: str):
        client.logout()
        start = client.get(reverse("accounts:wechat-start"), HTTP_USER_AGENT=WECHAT_UA,
                           REMOTE_ADDR=address)
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            opener.open(start["Location"].split("#")[0])
        except urllib.error.HTTPError as redirect:
            parts = urlsplit(redirect.headers["Location"])
        return client.get(f"{parts.path}?{parts.query}", HTTP_USER_AGENT=WECHAT_UA,
                          REMOTE_ADDR=address)

    assert [sign_in("203.0.113.7")["Location"] for _ in range(2)] == ["/", "/"]
    assert wechat_fake.oauth_exchanges == 2
    refused = sign_in("203.0.113.7")
    assert refused["Location"].startswith(reverse("accounts:phone-login"))
    assert "_auth_user_id" not in client.session
    assert wechat_fake.oauth_exchanges == 2  # WeChat was not asked
    assert sign_in("198.51.100.4")["Location"] == "/"
    assert wechat_fake.oauth_exchanges == 3
