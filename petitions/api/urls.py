from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from petitions.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("petitions", views.PetitionViewSet, basename="petition")
router.register("petition-categories", views.PetitionCategoryViewSet,
                basename="petition-category")

urlpatterns = [path("", include(router.urls))]
