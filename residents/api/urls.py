from __future__ import annotations

from rest_framework.routers import SimpleRouter

from residents.api.views import HouseholdViewSet, PartyMemberViewSet, ResidentViewSet

router = SimpleRouter()
router.register("households", HouseholdViewSet, basename="residents-household")
router.register("residents", ResidentViewSet, basename="residents-resident")
router.register("party-members", PartyMemberViewSet, basename="residents-party-member")

urlpatterns = router.urls
