from __future__ import annotations

from django.urls import path

from petitions import views, views_intake, views_media, views_plaques, views_workbench

app_name = "petitions"

urlpatterns = [
    # Residents (a phone-verified session).
    path("", views.PetitionMineListView.as_view(), name="mine"),
    path("create/", views.PetitionCreateView.as_view(), name="create"),
    path("<int:pk>/", views.PetitionMineDetailView.as_view(), name="detail"),
    path("<int:pk>/status/", views.PetitionStatusView.as_view(), name="status"),
    path("<int:pk>/rate/", views.PetitionRateView.as_view(), name="rate"),
    path("<int:pk>/reopen/", views.PetitionReopenView.as_view(), name="reopen"),
    path("picker/location/", views.PetitionLocationPickerView.as_view(), name="picker-location"),
    path("picker/questions/", views.PetitionQuestionsView.as_view(), name="picker-questions"),
    path("picker/duplicates/", views.PetitionDuplicatesView.as_view(),
         name="picker-duplicates"),
    # A building's QR plaque (楼栋码): residents start a petition, staff check in.
    path("plaque/<str:plaque_token>/", views_plaques.PlaqueScanView.as_view(), name="plaque"),
    path("plaque/<str:plaque_token>/check-in/<int:pk>/", views_plaques.PlaqueCheckInView.as_view(),
         name="plaque-check-in"),
    # The public notice (公示), anonymised.
    path("public/", views.PetitionPublicListView.as_view(), name="public"),
    path("public/<int:pk>/photo/", views_media.PetitionPublicPhotoView.as_view(),
         name="public-photo"),
    # Staff dashboard.
    # The workbench: its tabs (?tab=) and filters; the old list URLs open their tab.
    path("staff/", views_workbench.PetitionWorkbenchView.as_view(), name="staff-queue"),
    path("staff/overdue/", views_workbench.PetitionOverdueListView.as_view(),
         name="staff-overdue"),
    path("staff/due-today/", views_workbench.PetitionDueTodayListView.as_view(),
         name="staff-due-today"),
    path("staff/stats/", views.PetitionStatsView.as_view(), name="staff-stats"),
    path("staff/dispatch-queue/", views_workbench.PetitionDispatchQueueView.as_view(),
         name="staff-dispatch-queue"),
    # Walk-ins and calls recorded by staff (代录), with their own picker partials.
    path("staff/intake/", views_intake.PetitionIntakeView.as_view(), name="staff-intake"),
    path("staff/intake/picker/location/", views_intake.PetitionIntakeLocationPickerView.as_view(),
         name="staff-intake-picker-location"),
    path("staff/intake/picker/questions/", views_intake.PetitionIntakeQuestionsView.as_view(),
         name="staff-intake-picker-questions"),
    path("staff/<int:pk>/", views.PetitionStaffDetailView.as_view(), name="staff-detail"),
    path("staff/buildings/<int:building_id>/plaque/",
         views_plaques.BuildingPlaqueSheetView.as_view(), name="staff-plaque-sheet"),
    path("staff/<int:pk>/check-in/", views.PetitionCheckInView.as_view(),
         name="staff-check-in"),
    path("staff/<int:pk>/notes/create/", views.PetitionNoteCreateView.as_view(),
         name="staff-note-create"),
    path("staff/<int:pk>/resolve/", views.PetitionResolveView.as_view(), name="staff-resolve"),
    path("staff/<int:pk>/verify/", views.PetitionVerifyView.as_view(), name="staff-verify"),
    path("staff/<int:pk>/return/", views.PetitionReturnView.as_view(), name="staff-return"),
    path("staff/<int:pk>/escalate/", views.PetitionEscalateView.as_view(),
         name="staff-escalate"),
    path("staff/<int:pk>/dispatch/", views.PetitionDispatchView.as_view(),
         name="staff-dispatch"),
    path("staff/<int:pk>/reroute/", views.PetitionRerouteView.as_view(), name="staff-reroute"),
    path("staff/<int:pk>/refer/", views.PetitionReferView.as_view(), name="staff-refer"),
    path("staff/<int:pk>/reject/", views.PetitionRejectView.as_view(), name="staff-reject"),
    path("staff/<int:pk>/close/", views.PetitionCloseView.as_view(), name="staff-close"),
    path("staff/<int:pk>/callback/", views_intake.PetitionCallbackView.as_view(),
         name="staff-callback"),
    path("staff/<int:pk>/place/", views.PetitionPlaceView.as_view(), name="staff-place"),
]
