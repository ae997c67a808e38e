from __future__ import annotations

from django.urls import path

from governance import views

app_name = "governance"

urlpatterns = [
    path("", views.governance_index, name="index"),
    path("compounds/<int:compound_id>/", views.compound_detail, name="compound"),
]
