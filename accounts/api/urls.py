from __future__ import annotations

from django.urls import path

from accounts.api import views

urlpatterns = [
    path("auth/phone/code/", views.PhoneCodeRequestApi.as_view(), name="auth-phone-code"),
    path("auth/phone/verify/", views.PhoneCodeVerifyApi.as_view(), name="auth-phone-verify"),
    path("me/", views.MeApi.as_view(), name="me"),
]
