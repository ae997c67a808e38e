from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from volunteers.api import views

router = SimpleRouter()
router.register("teams", views.TeamViewSet, basename="volunteer-team")
router.register("volunteers", views.VolunteerViewSet, basename="volunteer")
router.register("activities", views.ActivityViewSet, basename="volunteer-activity")
router.register("signups", views.SignupViewSet, basename="volunteer-signup")
router.register("hours", views.HoursEntryViewSet, basename="volunteer-hours")
router.register("zones", views.ZoneViewSet, basename="volunteer-zone")
router.register("posts", views.ServicePostViewSet, basename="volunteer-post")
router.register("shifts", views.ShiftViewSet, basename="volunteer-shift")
router.register("swaps", views.ShiftSwapViewSet, basename="volunteer-swap")
router.register("wishes", views.MicroWishViewSet, basename="volunteer-wish")
router.register("proxy-services", views.ProxyServiceViewSet, basename="volunteer-proxy-service")
router.register("care-files", views.CareFileViewSet, basename="volunteer-care-file")
router.register("dashboard", views.DashboardViewSet, basename="volunteer-dashboard")

urlpatterns = [path("volunteers/", include(router.urls))]
