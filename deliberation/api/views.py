"""REST API under /api/v1/deliberation/: lists with filters, one POST action per transition."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from core.api.views import ID_LOOKUP_REGEX, validated
from core.exceptions import ApplicationError
from core.types import signed_in_user
from deliberation import filters, rules, selectors
from deliberation.api import serializers as io
from deliberation.models import ActionItem, Need, Project, Resource, Session, Survey, Topic
from deliberation.services.lists import project_tick_off
from deliberation.services.sessions import (
    session_call_joint,
    session_publish,
    session_record_minutes,
    session_sign_in,
)
from deliberation.services.surveys import survey_answer_submit, survey_respond
from deliberation.services.topics import (
    action_item_add,
    action_item_progress,
    action_item_tick_off,
    topic_close,
    topic_decide,
    topic_opinion_add,
    topic_propose,
    topic_propose_from_petition,
    topic_propose_offline,
    topic_rate,
    topic_reject,
    topic_schedule,
    topic_settle_on_the_spot,
    topic_support,
)


class _SignedInMixin(APIView):
    @property
    def actor(self) -> User:
        """The user the services act for: IsAuthenticated lets only them through."""
        return signed_in_user(self.request.user)


class SessionViewSet(_SignedInMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     viewsets.GenericViewSet[Session]):
    lookup_value_regex = ID_LOOKUP_REGEX
    serializer_class = io.SessionOutputSerializer
    filterset_class = filters.SessionFilter

    def get_queryset(self) -> QuerySet[Session]:
        return selectors.session_list_with_agenda(user=self.request.user)

    def get_object(self) -> Session:
        return selectors.session_get_for_user(user=self.request.user,
                                              session_id=int(self.kwargs["pk"]))

    def _staff_session(self) -> Session:
        return selectors.session_get_for_staff(user=self.request.user,
                                               session_id=int(self.kwargs["pk"]))

    @extend_schema(request=io.JointSessionInputSerializer,
                   responses={201: io.SessionOutputSerializer})
    @action(detail=False, methods=["post"], url_path="joint")
    def joint(self, request: Request) -> Response:
        data = validated(io.JointSessionInputSerializer, request.data)
        data["compound"] = selectors.compound_get_for_user(user=request.user,
                                                           compound_id=data["compound"])
        session = session_call_joint(actor=self.actor, **data)
        return Response(io.SessionOutputSerializer(session).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=io.SignInInputSerializer, responses={204: None})
    @action(detail=True, methods=["post"], url_path="sign-in")
    def sign_in(self, request: Request, pk: str) -> Response:
        data = validated(io.SignInInputSerializer, request.data)
        session_sign_in(session=self.get_object(), actor=self.actor, **data)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=io.MinutesInputSerializer, responses=io.SessionOutputSerializer)
    @action(detail=True, methods=["post"])
    def minutes(self, request: Request, pk: str) -> Response:
        data = validated(io.MinutesInputSerializer, request.data)
        session = session_record_minutes(session=self._staff_session(),
                                                  actor=self.actor, **data)
        return Response(io.SessionOutputSerializer(session).data)

    @extend_schema(request=None, responses=io.SessionOutputSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str) -> Response:
        session = session_publish(session=self._staff_session(), actor=self.actor)
        return Response(io.SessionOutputSerializer(session).data)


class TopicViewSet(_SignedInMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                   viewsets.GenericViewSet[Topic]):
    lookup_value_regex = ID_LOOKUP_REGEX
    serializer_class = io.TopicOutputSerializer
    filterset_class = filters.TopicFilter

    def get_queryset(self) -> QuerySet[Topic]:
        return selectors.topic_list(user=self.request.user)

    def get_object(self) -> Topic:
        return selectors.topic_get_for_user(user=self.request.user,
                                            topic_id=int(self.kwargs["pk"]))

    def _staff_topic(self) -> Topic:
        return selectors.topic_get_for_staff(user=self.request.user,
                                             topic_id=int(self.kwargs["pk"]))

    def _topic_response(self, topic: Topic, code: int = status.HTTP_200_OK) -> Response:
        topic.refresh_from_db()
        return Response(io.TopicOutputSerializer(topic).data, status=code)

    @extend_schema(request=io.TopicProposeInputSerializer,
                   responses={201: io.TopicOutputSerializer})
    def create(self, request: Request) -> Response:
        data = validated(io.TopicProposeInputSerializer, request.data)
        data["compound"] = selectors.compound_get_for_user(user=request.user,
                                                           compound_id=data["compound"])
        topic = topic_propose(actor=self.actor, **data)
        return self._topic_response(topic, status.HTTP_201_CREATED)

    @extend_schema(request=io.TopicOfflineInputSerializer,
                   responses={201: io.TopicOutputSerializer})
    @action(detail=False, methods=["post"])
    def offline(self, request: Request) -> Response:
        data = validated(io.TopicOfflineInputSerializer, request.data)
        data["compound"] = selectors.compound_get_for_user(user=request.user,
                                                           compound_id=data["compound"])
        topic = topic_propose_offline(actor=self.actor, **data)
        return self._topic_response(topic, status.HTTP_201_CREATED)

    @extend_schema(request=io.TopicFromPetitionInputSerializer,
                   responses={201: io.TopicOutputSerializer})
    @action(detail=False, methods=["post"], url_path="from-petition")
    def from_petition(self, request: Request) -> Response:
        data = validated(io.TopicFromPetitionInputSerializer, request.data)
        topic = topic_propose_from_petition(actor=self.actor, **data)
        return self._topic_response(topic, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=io.TopicOutputSerializer)
    @action(detail=True, methods=["post"])
    def support(self, request: Request, pk: str) -> Response:
        return self._topic_response(topic_support(topic=self.get_object(),
                                                           actor=self.actor))

    @extend_schema(request=io.TopicScheduleInputSerializer, responses=io.TopicOutputSerializer)
    @action(detail=True, methods=["post"])
    def schedule(self, request: Request, pk: str) -> Response:
        topic = self._staff_topic()
        data = validated(io.TopicScheduleInputSerializer, request.data)
        data["session"] = selectors.session_get_for_staff(user=request.user,
                                                          session_id=data["session"])
        return self._topic_response(topic_schedule(topic=topic, actor=self.actor,
                                                            **data))

    @extend_schema(request=io.OpinionInputSerializer,
                   responses={201: io.OpinionOutputSerializer})
    @action(detail=True, methods=["post"])
    def opinions(self, request: Request, pk: str) -> Response:
        topic = self._staff_topic()
        opinion = topic_opinion_add(topic=topic, actor=self.actor,
                                             **validated(io.OpinionInputSerializer, request.data))
        return Response(io.OpinionOutputSerializer(opinion).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=io.DecideInputSerializer, responses=io.TopicOutputSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str) -> Response:
        topic = self._staff_topic()
        return self._topic_response(topic_decide(
            topic=topic, actor=self.actor, **validated(io.DecideInputSerializer, request.data)))

    @extend_schema(request=io.ActionItemInputSerializer,
                   responses={201: io.ActionItemOutputSerializer})
    @action(detail=True, methods=["post"], url_path="action-items")
    def action_items(self, request: Request, pk: str) -> Response:
        topic = self._staff_topic()
        data = validated(io.ActionItemInputSerializer, request.data)
        body_id = data.pop("owner_body")
        body = (None if body_id is None else
                selectors.body_get_for_compound(body_id=body_id, compound_id=topic.compound_id))
        item = action_item_add(topic=topic, actor=self.actor, owner_body=body, **data)
        return Response(io.ActionItemOutputSerializer(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=io.TopicOutputSerializer)
    @action(detail=True, methods=["post"])
    def settle(self, request: Request, pk: str) -> Response:
        return self._topic_response(topic_settle_on_the_spot(
            topic=self._staff_topic(), actor=self.actor))

    @extend_schema(request=io.RateInputSerializer, responses={204: None})
    @action(detail=True, methods=["post"])
    def rate(self, request: Request, pk: str) -> Response:
        topic_rate(topic=self.get_object(), actor=self.actor,
                            **validated(io.RateInputSerializer, request.data))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=io.OutcomeInputSerializer, responses=io.TopicOutputSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str) -> Response:
        topic = self._staff_topic()
        return self._topic_response(topic_close(
            topic=topic, actor=self.actor, **validated(io.OutcomeInputSerializer, request.data)))

    @extend_schema(request=io.RejectInputSerializer, responses=io.TopicOutputSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        topic = self._staff_topic()
        return self._topic_response(topic_reject(
            topic=topic, actor=self.actor, **validated(io.RejectInputSerializer, request.data)))


class ActionItemViewSet(_SignedInMixin, mixins.ListModelMixin, viewsets.GenericViewSet[ActionItem]):
    lookup_value_regex = ID_LOOKUP_REGEX
    serializer_class = io.ActionItemOutputSerializer
    filterset_class = filters.ActionItemFilter

    def get_queryset(self) -> QuerySet[ActionItem]:
        return selectors.action_item_list(user=self.request.user)

    def get_object(self) -> ActionItem:
        return selectors.action_item_get_for_user(user=self.request.user,
                                                  action_item_id=int(self.kwargs["pk"]))

    @extend_schema(request=io.ProgressInputSerializer, responses=io.ActionItemOutputSerializer)
    @action(detail=True, methods=["post"])
    def progress(self, request: Request, pk: str) -> Response:
        data = validated(io.ProgressInputSerializer, request.data)
        item = action_item_progress(item=self.get_object(), actor=self.actor,
                                             progress=data["progress"], note=data["note"],
                                             photo=data["photo"])
        return Response(io.ActionItemOutputSerializer(item).data)

    @extend_schema(request=None, responses=io.ActionItemOutputSerializer)
    @action(detail=True, methods=["post"], url_path="tick-off")
    def tick_off(self, request: Request, pk: str) -> Response:
        item = action_item_tick_off(item=self.get_object(), actor=self.actor)
        return Response(io.ActionItemOutputSerializer(item).data)


class NeedViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[Need]):
    serializer_class = io.NeedOutputSerializer
    filterset_class = filters.NeedFilter

    def get_queryset(self) -> QuerySet[Need]:
        return selectors.need_list(user=self.request.user)


class ResourceViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[Resource]):
    serializer_class = io.ResourceOutputSerializer
    filterset_class = filters.ResourceFilter

    def get_queryset(self) -> QuerySet[Resource]:
        return selectors.resource_list(user=self.request.user)


class ProjectViewSet(_SignedInMixin, mixins.ListModelMixin, viewsets.GenericViewSet[Project]):
    lookup_value_regex = ID_LOOKUP_REGEX
    serializer_class = io.ProjectOutputSerializer
    filterset_class = filters.ProjectFilter

    def get_queryset(self) -> QuerySet[Project]:
        return selectors.project_list(user=self.request.user)

    @extend_schema(request=None, responses=io.ProjectOutputSerializer)
    @action(detail=True, methods=["post"], url_path="tick-off")
    def tick_off(self, request: Request, pk: str) -> Response:
        project = selectors.project_get_for_staff(user=request.user, project_id=int(pk))
        project = project_tick_off(project=project, actor=self.actor)
        return Response(io.ProjectOutputSerializer(
            selectors.project_get_listed(user=request.user, project_id=project.pk)).data)


class SurveyViewSet(_SignedInMixin, mixins.ListModelMixin, viewsets.GenericViewSet[Survey]):
    lookup_value_regex = ID_LOOKUP_REGEX
    serializer_class = io.SurveyOutputSerializer
    filterset_class = filters.SurveyFilter

    def get_queryset(self) -> QuerySet[Survey]:
        return selectors.survey_list(user=self.request.user)

    @extend_schema(request=io.SurveyAnswerInputSerializer,
                   responses={201: io.SurveyAnswerOutputSerializer})
    @action(detail=True, methods=["post"])
    def answers(self, request: Request, pk: str) -> Response:
        survey = selectors.survey_get_for_user(user=request.user, survey_id=int(pk))
        data = validated(io.SurveyAnswerInputSerializer, request.data)
        if "responses" in data:
            # isdigit() alone lets "²" through, which int() refuses; ids are ASCII, ≤ 15 digits.
            responses = {int(key): value for key, value in data["responses"].items()
                         if key.isascii() and key.isdigit() and len(key) <= 15}
            answer = survey_respond(survey=survey, actor=self.actor, responses=responses)
        elif "satisfaction" in data:
            answer = survey_answer_submit(survey=survey, actor=self.actor, **data)
        else:
            raise ApplicationError(_("请填写答卷。"))
        return Response(io.SurveyAnswerOutputSerializer(answer).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(responses=io.SurveyResultSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def results(self, request: Request) -> Response:
        rows = selectors.survey_results(compounds=rules.visible_compounds(request.user))
        return Response(io.SurveyResultSerializer(rows, many=True).data)


class PublishedTopicViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[Topic]):
    """公示: published outcomes, open to anyone."""

    serializer_class = io.PublishedTopicOutputSerializer
    permission_classes = [AllowAny]
    filterset_class = None

    def get_queryset(self) -> QuerySet[Topic]:
        compound = self.request.query_params.get("compound")
        return selectors.published_topics(
            compound_id=int(compound) if compound and compound.isdigit() else None)


