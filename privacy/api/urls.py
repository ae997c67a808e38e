from __future__ import annotations

from django.urls import path

from privacy.api import views

urlpatterns = [
    path("me/data/", views.MyDataApi.as_view(), name="me-data"),
    path("me/deletion-request/", views.DeletionRequestApi.as_view(),
         name="me-deletion-request"),
]
