from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("phone/", views.PhoneLoginView.as_view(), name="phone-login"),
    path("phone/verify/", views.PhoneVerifyView.as_view(), name="phone-verify"),
    path("wechat/", views.WechatStartView.as_view(), name="wechat-start"),
    path("wechat/callback/", views.WechatCallbackView.as_view(), name="wechat-callback"),
    path("wechat/jssdk/", views.WechatJssdkConfigView.as_view(), name="wechat-jssdk"),
    path("me/wechat/unbind/", views.WechatUnbindView.as_view(), name="wechat-unbind"),
    path("me/wechat/channel/", views.WechatChannelView.as_view(), name="wechat-channel"),
    # me/…: a resident's own data and account deletion, privacy.urls (config/urls.py).
]
