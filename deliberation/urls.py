from __future__ import annotations

from django.urls import path

from deliberation import views

app_name = "deliberation"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("results/", views.ResultsView.as_view(), name="results"),
    path("compounds/<int:pk>/calendar.ics", views.CompoundCalendarView.as_view(),
         name="compound-calendar"),
    path("topics/create/", views.TopicCreateView.as_view(), name="topic-create"),
    path("topics/<int:pk>/", views.TopicDetailView.as_view(), name="topic-detail"),
    path("topics/<int:pk>/support/", views.TopicSupportView.as_view(), name="topic-support"),
    path("topics/<int:pk>/rate/", views.TopicRateView.as_view(), name="topic-rate"),
    path("sessions/<int:pk>/", views.SessionDetailView.as_view(), name="session-detail"),
    path("sessions/<int:pk>/sign-in/", views.SessionSignInView.as_view(),
         name="session-sign-in"),
    path("surveys/<int:pk>/", views.SurveyAnswerView.as_view(), name="survey-answer"),
    # staff
    path("staff/", views.DashboardView.as_view(), name="staff-dashboard"),
    path("staff/sessions/create/", views.SessionCreateView.as_view(), name="session-create"),
    path("staff/sessions/<int:pk>/agenda/", views.SessionAgendaAddView.as_view(),
         name="session-agenda-add"),
    path("staff/sessions/<int:pk>/minutes/", views.SessionMinutesView.as_view(),
         name="session-minutes"),
    path("staff/sessions/<int:pk>/publish/", views.SessionPublishView.as_view(),
         name="session-publish"),
    path("staff/topics/create/", views.TopicOfflineCreateView.as_view(),
         name="topic-offline-create"),
    path("staff/topics/<int:pk>/schedule/", views.TopicScheduleView.as_view(),
         name="topic-schedule"),
    path("staff/topics/<int:pk>/opinions/", views.TopicOpinionAddView.as_view(),
         name="topic-opinion-add"),
    path("staff/topics/<int:pk>/decide/", views.TopicDecideView.as_view(), name="topic-decide"),
    path("staff/topics/<int:pk>/actions/", views.ActionItemCreateView.as_view(),
         name="action-item-create"),
    path("staff/topics/<int:pk>/settle/", views.TopicSettleView.as_view(), name="topic-settle"),
    path("staff/topics/<int:pk>/close/", views.TopicCloseView.as_view(), name="topic-close"),
    path("staff/topics/<int:pk>/reject/", views.TopicRejectView.as_view(), name="topic-reject"),
    path("staff/actions/", views.ActionItemBoardView.as_view(), name="action-items"),
    path("staff/actions/<int:pk>/progress/", views.ActionItemProgressView.as_view(),
         name="action-item-progress"),
    path("staff/actions/<int:pk>/tick-off/", views.ActionItemTickOffView.as_view(),
         name="action-item-tick-off"),
    path("staff/lists/", views.ListsView.as_view(), name="staff-lists"),
    path("staff/needs/create/", views.NeedCreateView.as_view(), name="need-create"),
    path("staff/needs/<int:pk>/resolve/", views.NeedResolveView.as_view(), name="need-resolve"),
    path("staff/resources/create/", views.ResourceCreateView.as_view(), name="resource-create"),
    path("staff/projects/create/", views.ProjectCreateView.as_view(), name="project-create"),
    path("staff/projects/<int:pk>/tick-off/", views.ProjectTickOffView.as_view(),
         name="project-tick-off"),
    path("staff/reviews/<int:pk>/complete/", views.ListReviewCompleteView.as_view(),
         name="list-review-complete"),
    path("staff/surveys/", views.SurveyResultsView.as_view(), name="staff-surveys"),
]
