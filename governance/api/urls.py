from __future__ import annotations

from rest_framework.routers import SimpleRouter

from governance.api.views import AreaViewSet, BuildingViewSet

router = SimpleRouter()
router.register("areas", AreaViewSet, basename="governance-area")
router.register("buildings", BuildingViewSet, basename="governance-building")

urlpatterns = router.urls
