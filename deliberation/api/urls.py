from __future__ import annotations

from rest_framework.routers import SimpleRouter

from deliberation.api import views

router = SimpleRouter()
router.register("deliberation/sessions", views.SessionViewSet, basename="deliberation-session")
router.register("deliberation/topics", views.TopicViewSet, basename="deliberation-topic")
router.register("deliberation/action-items", views.ActionItemViewSet,
                basename="deliberation-action-item")
router.register("deliberation/needs", views.NeedViewSet, basename="deliberation-need")
router.register("deliberation/resources", views.ResourceViewSet,
                basename="deliberation-resource")
router.register("deliberation/projects", views.ProjectViewSet, basename="deliberation-project")
router.register("deliberation/surveys", views.SurveyViewSet, basename="deliberation-survey")
router.register("deliberation/results", views.PublishedTopicViewSet,
                basename="deliberation-result")

urlpatterns = router.urls
