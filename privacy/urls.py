"""The resident's pages of privacy, mounted by config/urls.py into the "accounts" namespace
under /accounts/ (next to accounts.urls), so their paths and names stay what they were."""

from __future__ import annotations

from django.urls import path

from privacy import views

urlpatterns = [
    # PIPL: a resident's own data and the deletion of their account.
    path("me/data/", views.MyDataView.as_view(), name="my-data"),
    path("me/data/download/", views.MyDataDownloadView.as_view(), name="my-data-download"),
    path("me/deletion/create/", views.DeletionRequestCreateView.as_view(),
         name="deletion-create"),
    path("me/deletion/cancel/", views.DeletionRequestCancelView.as_view(),
         name="deletion-cancel"),
]
