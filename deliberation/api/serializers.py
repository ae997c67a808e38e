"""Input serializers are plain; output serializers map the models."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from deliberation import rules
from deliberation.models import (
    ActionItem,
    AgendaItem,
    InvitedBody,
    Milestone,
    Need,
    Project,
    Resource,
    Satisfaction,
    Session,
    Survey,
    SurveyAnswer,
    Topic,
    TopicOpinion,
)

# --- output -----------------------------------------------------------------------------------

class AgendaItemOutputSerializer(serializers.ModelSerializer[AgendaItem]):
    class Meta:
        model = AgendaItem
        fields = ["id", "title", "topic", "starts_at", "duration_minutes", "position"]


class SessionOutputSerializer(serializers.ModelSerializer[Session]):
    compound_name = serializers.CharField(source="compound.name", read_only=True)
    agenda = AgendaItemOutputSerializer(source="agenda_items", many=True, read_only=True)

    class Meta:
        model = Session
        fields = ["id", "compound", "compound_name", "kind", "period", "title", "starts_at",
                  "ends_at", "place", "mode", "online_link", "invited_bodies", "status",
                  "minutes", "held_at", "published_at", "agenda"]


class TopicOutputSerializer(serializers.ModelSerializer[Topic]):
    compound_name = serializers.CharField(source="compound.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    proposer_name = serializers.SerializerMethodField(
        help_text="提议人：本小区工作人员和提议人本人看到全名，其他居民看到隐去名字的形式（王**）。")

    def get_proposer_name(self, topic: Topic) -> str:
        request = self.context.get("request")
        # A list's rows are one child serializer: the viewer's staff check once a compound.
        staff_of: dict[int, bool] = self.__dict__.setdefault("_proposer_staff_of", {})
        return rules.proposer_label(topic, getattr(request, "user", None), staff_of=staff_of)

    class Meta:
        model = Topic
        fields = ["id", "compound", "compound_name", "title", "description", "channel", "scale",
                  "status", "status_label", "proposer_name", "petition_id", "support_count",
                  "session", "decision_text", "decision_mode", "eligible_voters", "votes_for",
                  "votes_against", "votes_abstain", "decided_at", "review_on",
                  "evaluation_ends_at", "evaluation_note", "outcome", "closed_at",
                  "published_at", "created_at"]


class PublishedTopicOutputSerializer(serializers.ModelSerializer[Topic]):
    compound_name = serializers.CharField(source="compound.name", read_only=True)

    class Meta:
        model = Topic
        fields = ["id", "compound", "compound_name", "title", "status", "decision_text",
                  "outcome", "published_at"]


class OpinionOutputSerializer(serializers.ModelSerializer[TopicOpinion]):
    class Meta:
        model = TopicOpinion
        fields = ["id", "topic", "speaker", "stance", "body", "created_at"]


class ActionItemOutputSerializer(serializers.ModelSerializer[ActionItem]):
    class Meta:
        model = ActionItem
        fields = ["id", "topic", "title", "owner_user", "owner_body", "owner_name", "deadline",
                  "progress", "progress_note", "status", "done_at"]


class NeedOutputSerializer(serializers.ModelSerializer[Need]):
    class Meta:
        model = Need
        fields = ["id", "compound", "title", "detail", "source", "status", "topic",
                  "petition_id", "resolution", "resolved_at", "created_at"]


class ResourceOutputSerializer(serializers.ModelSerializer[Resource]):
    class Meta:
        model = Resource
        fields = ["id", "compound", "kind", "name", "body", "offers", "contact"]


class MilestoneOutputSerializer(serializers.ModelSerializer[Milestone]):
    class Meta:
        model = Milestone
        fields = ["id", "title", "due_on", "done_on"]


class ProjectOutputSerializer(serializers.ModelSerializer[Project]):
    milestones = MilestoneOutputSerializer(many=True, read_only=True)
    needs: serializers.PrimaryKeyRelatedField[Need] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True)
    resources: serializers.PrimaryKeyRelatedField[Resource] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True)

    class Meta:
        model = Project
        fields = ["id", "compound", "kind", "title", "owner_name", "owner_body", "budget",
                  "status", "ticked_off_at", "topic", "needs", "resources", "milestones"]


class SurveyOutputSerializer(serializers.ModelSerializer[Survey]):
    answer_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Survey
        fields = ["id", "compound", "kind", "year", "quarter", "title", "opens_on",
                  "closes_on", "opened_at", "answer_count"]


class SurveyAnswerOutputSerializer(serializers.ModelSerializer[SurveyAnswer]):
    class Meta:
        model = SurveyAnswer
        fields = ["id", "survey", "satisfaction", "comment", "created_at"]


# The rows of selectors.survey_results, always given many=True (the stubs would type one row).
class SurveyResultSerializer(serializers.Serializer[Any]):
    compound_id = serializers.IntegerField()
    compound = serializers.CharField()
    year = serializers.IntegerField()
    quarter = serializers.IntegerField()
    # The API's field "label"; DRF's metaclass moves declared fields off the class, but the
    # stubs see it override Field.label (the field's own label).
    label = serializers.CharField()  # type: ignore[assignment]
    total = serializers.IntegerField()
    satisfied = serializers.IntegerField()
    basically = serializers.IntegerField()
    dissatisfied = serializers.IntegerField()
    rate = serializers.FloatField()


# --- input ------------------------------------------------------------------------------------
# Input only: they validate request data and never hold an instance (hence Serializer[Any]).

class TopicProposeInputSerializer(serializers.Serializer[Any]):
    compound = serializers.IntegerField()
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    scale = serializers.ChoiceField(choices=Topic.Scale.choices, default=Topic.Scale.SMALL)


class TopicOfflineInputSerializer(TopicProposeInputSerializer):
    proposer_name = serializers.CharField(max_length=50)


class TopicFromPetitionInputSerializer(serializers.Serializer[Any]):
    """The topic's title and text are read by every resident of the compound: for a petition
    that is not public, or anonymous, staff write both (the petition's words stay in it)."""

    petition_id = serializers.IntegerField(min_value=1)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True,
                                        default="")


class TopicScheduleInputSerializer(serializers.Serializer[Any]):
    session = serializers.IntegerField()
    starts_at = serializers.TimeField(required=False, allow_null=True, default=None)
    duration_minutes = serializers.IntegerField(min_value=1, max_value=600, default=20)


class OpinionInputSerializer(serializers.Serializer[Any]):
    speaker = serializers.CharField(max_length=50)
    stance = serializers.ChoiceField(choices=TopicOpinion.Stance.choices,
                                     default=TopicOpinion.Stance.NEUTRAL)
    body = serializers.CharField()


class DecideInputSerializer(serializers.Serializer[Any]):
    decision_text = serializers.CharField()
    mode = serializers.ChoiceField(choices=Topic.DecisionMode.choices)
    review_on = serializers.DateField()
    eligible_voters = serializers.IntegerField(min_value=1, required=False, allow_null=True,
                                               default=None)
    votes_for = serializers.IntegerField(min_value=0, default=0)
    votes_against = serializers.IntegerField(min_value=0, default=0)
    votes_abstain = serializers.IntegerField(min_value=0, default=0)


class ActionItemInputSerializer(serializers.Serializer[Any]):
    title = serializers.CharField(max_length=200)
    deadline = serializers.DateField()
    owner_name = serializers.CharField(max_length=100, required=False, allow_blank=True,
                                       default="")
    owner_body = serializers.IntegerField(required=False, allow_null=True, default=None)


class ProgressInputSerializer(serializers.Serializer[Any]):
    progress = serializers.IntegerField(min_value=0, max_value=100)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    photo = serializers.ImageField(required=False, allow_null=True, default=None)


class OutcomeInputSerializer(serializers.Serializer[Any]):
    outcome = serializers.CharField()
    evaluation_note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000,
        help_text="线下评议记录：没有居民在线评议时必填（评议会或入户回访的参加人数和意见）。")


class RejectInputSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=300)


class RateInputSerializer(serializers.Serializer[Any]):
    score = serializers.ChoiceField(choices=Satisfaction.choices)
    comment = serializers.CharField(max_length=300, required=False, allow_blank=True,
                                    default="")


class JointSessionInputSerializer(serializers.Serializer[Any]):
    compound = serializers.IntegerField()
    title = serializers.CharField(max_length=100)
    starts_at = serializers.DateTimeField()
    place = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    mode = serializers.ChoiceField(choices=Session.Mode.choices, default=Session.Mode.OFFLINE)
    online_link = serializers.CharField(max_length=300, required=False, allow_blank=True,
                                        default="")
    invited_bodies = serializers.ListField(child=serializers.ChoiceField(
        choices=InvitedBody.choices), required=False)


class SignInInputSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(max_length=8)


class MinutesInputSerializer(serializers.Serializer[Any]):
    minutes = serializers.CharField()


class SurveyAnswerInputSerializer(serializers.Serializer[Any]):
    """A quarterly survey's three fields, or `responses` for any survey: question id → option
    id (single choice), option ids (multiple choice), score 1–5 or text."""

    responses = serializers.DictField(child=serializers.JSONField(), required=False)
    satisfaction = serializers.ChoiceField(choices=Satisfaction.choices, required=False)
    comment = serializers.CharField(max_length=500, required=False, allow_blank=True,
                                    default="")
    need = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class EmptySerializer(serializers.Serializer[Any]):
    pass
