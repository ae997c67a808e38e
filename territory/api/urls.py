from __future__ import annotations

from rest_framework.routers import SimpleRouter

from territory.api.views import AreaViewSet, BuildingViewSet

router = SimpleRouter()
# The URL names stay governance-*: clients and docs/access-matrix.md name them.
router.register("areas", AreaViewSet, basename="governance-area")
router.register("buildings", BuildingViewSet, basename="governance-building")

urlpatterns = router.urls
