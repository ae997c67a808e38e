from __future__ import annotations

from django.urls import path

from petitions.views import extensions, intake, plaques, public, resident, staff, workbench

app_name = "petitions"

urlpatterns = [
    # Residents (a phone-verified session).
    path("", resident.PetitionMineListView.as_view(), name="mine"),
    path("create/", resident.PetitionCreateView.as_view(), name="create"),
    path("<int:pk>/", resident.PetitionMineDetailView.as_view(), name="detail"),
    path("<int:pk>/status/", resident.PetitionStatusView.as_view(), name="status"),
    path("<int:pk>/rate/", resident.PetitionRateView.as_view(), name="rate"),
    path("<int:pk>/reopen/", resident.PetitionReopenView.as_view(), name="reopen"),
    path("picker/location/", resident.PetitionLocationPickerView.as_view(), name="picker-location"),
    path("picker/questions/", resident.PetitionQuestionsView.as_view(), name="picker-questions"),
    path("picker/duplicates/", resident.PetitionDuplicatesView.as_view(),
         name="picker-duplicates"),
    # A building's QR plaque (楼栋码): residents start a petition, staff check in.
    path("plaque/<str:plaque_token>/", plaques.PlaqueScanView.as_view(), name="plaque"),
    path("plaque/<str:plaque_token>/check-in/<int:pk>/", plaques.PlaqueCheckInView.as_view(),
         name="plaque-check-in"),
    # The public notice (公示), anonymised.
    path("public/", public.PetitionPublicListView.as_view(), name="public"),
    path("public/<int:pk>/photo/", public.PetitionPublicPhotoView.as_view(),
         name="public-photo"),
    # Staff dashboard.
    # The workbench: its tabs (?tab=) and filters; the old list URLs open their tab.
    path("staff/", workbench.PetitionWorkbenchView.as_view(), name="staff-queue"),
    path("staff/export/csv/", workbench.PetitionWorkbenchExportView.as_view(file_format="csv"),
         name="staff-export-csv"),
    path("staff/export/xlsx/",
         workbench.PetitionWorkbenchExportView.as_view(file_format="xlsx"),
         name="staff-export-xlsx"),
    path("staff/overdue/", workbench.PetitionOverdueListView.as_view(),
         name="staff-overdue"),
    path("staff/due-today/", workbench.PetitionDueTodayListView.as_view(),
         name="staff-due-today"),
    path("staff/stats/", staff.PetitionStatsView.as_view(), name="staff-stats"),
    path("staff/dispatch-queue/", workbench.PetitionDispatchQueueView.as_view(),
         name="staff-dispatch-queue"),
    # Walk-ins and calls recorded by staff (代录), with their own picker partials.
    path("staff/intake/", intake.PetitionIntakeView.as_view(), name="staff-intake"),
    path("staff/intake/picker/location/", intake.PetitionIntakeLocationPickerView.as_view(),
         name="staff-intake-picker-location"),
    path("staff/intake/picker/questions/", intake.PetitionIntakeQuestionsView.as_view(),
         name="staff-intake-picker-questions"),
    path("staff/<int:pk>/", staff.PetitionStaffDetailView.as_view(), name="staff-detail"),
    path("staff/buildings/<int:building_id>/plaque/",
         plaques.BuildingPlaqueSheetView.as_view(), name="staff-plaque-sheet"),
    path("staff/<int:pk>/check-in/", staff.PetitionCheckInView.as_view(),
         name="staff-check-in"),
    path("staff/<int:pk>/notes/create/", staff.PetitionNoteCreateView.as_view(),
         name="staff-note-create"),
    path("staff/<int:pk>/resolve/", staff.PetitionResolveView.as_view(), name="staff-resolve"),
    path("staff/<int:pk>/verify/", staff.PetitionVerifyView.as_view(), name="staff-verify"),
    path("staff/<int:pk>/return/", staff.PetitionReturnView.as_view(), name="staff-return"),
    path("staff/<int:pk>/escalate/", staff.PetitionEscalateView.as_view(),
         name="staff-escalate"),
    path("staff/<int:pk>/dispatch/", staff.PetitionDispatchView.as_view(),
         name="staff-dispatch"),
    path("staff/<int:pk>/reroute/", staff.PetitionRerouteView.as_view(), name="staff-reroute"),
    path("staff/<int:pk>/refer/", staff.PetitionReferView.as_view(), name="staff-refer"),
    path("staff/<int:pk>/reject/", staff.PetitionRejectView.as_view(), name="staff-reject"),
    path("staff/<int:pk>/close/", staff.PetitionCloseView.as_view(), name="staff-close"),
    path("staff/<int:pk>/callback/", intake.PetitionCallbackView.as_view(),
         name="staff-callback"),
    path("staff/<int:pk>/place/", staff.PetitionPlaceView.as_view(), name="staff-place"),
    # 申诉剔除: asked for on a petition's page, decided by a street admin in the queue.
    path("staff/<int:pk>/exclusion/", staff.PetitionExclusionRequestView.as_view(),
         name="staff-exclusion-request"),
    path("staff/exclusions/", staff.ExclusionQueueView.as_view(), name="staff-exclusions"),
    path("staff/exclusions/<int:pk>/approve/", staff.ExclusionApproveView.as_view(),
         name="staff-exclusion-approve"),
    path("staff/exclusions/<int:pk>/refuse/", staff.ExclusionRefuseView.as_view(),
         name="staff-exclusion-refuse"),
    # 延期: asked for on a petition's page, decided by the level above in the queue.
    path("staff/<int:pk>/extension/", extensions.PetitionExtensionRequestView.as_view(),
         name="staff-extension-request"),
    path("staff/extensions/", extensions.ExtensionQueueView.as_view(), name="staff-extensions"),
    path("staff/extensions/<int:pk>/grant/", extensions.ExtensionGrantView.as_view(),
         name="staff-extension-grant"),
    path("staff/extensions/<int:pk>/refuse/", extensions.ExtensionRefuseView.as_view(),
         name="staff-extension-refuse"),
    # 未诉先办: suggestions raised where petitions recur, accepted or dismissed by staff.
    path("staff/recurrences/", staff.RecurrenceQueueView.as_view(), name="staff-recurrences"),
    path("staff/recurrences/<int:pk>/accept/", staff.RecurrenceAcceptView.as_view(),
         name="staff-recurrence-accept"),
    path("staff/recurrences/<int:pk>/dismiss/", staff.RecurrenceDismissView.as_view(),
         name="staff-recurrence-dismiss"),
]
