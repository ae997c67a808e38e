from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from petitions.api import views

router = SimpleRouter()
router.register("petitions", views.PetitionViewSet, basename="petition")
router.register("petition-categories", views.PetitionCategoryViewSet,
                basename="petition-category")

urlpatterns = [path("", include(router.urls))]
