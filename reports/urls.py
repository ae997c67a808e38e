from __future__ import annotations

from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.ReportListView.as_view(), name="list"),
    path("generate/", views.ReportGenerateView.as_view(), name="generate"),
    path("rankings/", views.RankingView.as_view(), name="rankings"),
    path("screen/", views.ScreenView.as_view(), name="screen"),
    path("screen/data/", views.ScreenDataView.as_view(), name="screen-data"),
    path("screen/map/", views.ScreenMapView.as_view(), name="screen-map"),
    path("map/", views.PetitionMapView.as_view(), name="map"),
    path("map/data/", views.PetitionMapDataView.as_view(), name="map-data"),
]
