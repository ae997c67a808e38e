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
    # PIPL: a resident's own data and the deletion of their account.
    path("me/data/", views.MyDataView.as_view(), name="my-data"),
    path("me/data/download/", views.MyDataDownloadView.as_view(), name="my-data-download"),
    path("me/deletion/create/", views.DeletionRequestCreateView.as_view(),
         name="deletion-create"),
    path("me/deletion/cancel/", views.DeletionRequestCancelView.as_view(),
         name="deletion-cancel"),
]
