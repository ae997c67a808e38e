"""The street admins' tool: every deliberation model, in Chinese; actions call the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.admin import GenericModelAdmin, GenericTabularInline
from core.admin_scope import ScopedChoicesMixin, choice_scope_register
from core.exceptions import ApplicationError
from core.images import ADMIN_PHOTO_OVERRIDES
from core.types import signed_in_user
from deliberation.models import (
    ActionEvidence,
    ActionItem,
    AgendaItem,
    ListReview,
    Milestone,
    Need,
    Project,
    Resource,
    Session,
    SessionAttendance,
    SessionSignUp,
    Survey,
    SurveyAnswer,
    SurveyOption,
    SurveyQuestion,
    Topic,
    TopicComment,
    TopicOpinion,
    TopicRating,
    TopicStatusChange,
    TopicSupport,
)
from deliberation.services.lists import list_review_complete, need_resolve, project_tick_off
from deliberation.services.sessions import (
    session_cancel,
    session_next_for_compound,
    session_publish,
    sessions_schedule_monthly,
)
from deliberation.services.surveys import survey_open, surveys_generate_quarterly
from deliberation.services.topics import (
    action_item_tick_off,
    topic_schedule,
    topic_settle_on_the_spot,
)

# The rows of each model a staff member may pick in the admin (core.admin_scope): everything
# hangs from a compound, whose community decides.
COMMUNITY_PATH = "compound__community__path"
choice_scope_register(Session, COMMUNITY_PATH)
choice_scope_register(Topic, COMMUNITY_PATH)
choice_scope_register(Need, COMMUNITY_PATH)
choice_scope_register(Resource, COMMUNITY_PATH)
choice_scope_register(Project, COMMUNITY_PATH)
choice_scope_register(Survey, COMMUNITY_PATH)
choice_scope_register(ListReview, COMMUNITY_PATH)
choice_scope_register(AgendaItem, f"session__{COMMUNITY_PATH}")
choice_scope_register(SessionAttendance, f"session__{COMMUNITY_PATH}")
choice_scope_register(SessionSignUp, f"session__{COMMUNITY_PATH}")
choice_scope_register(TopicComment, f"topic__{COMMUNITY_PATH}")
choice_scope_register(ActionItem, f"topic__{COMMUNITY_PATH}")
choice_scope_register(TopicOpinion, f"topic__{COMMUNITY_PATH}")
choice_scope_register(TopicRating, f"topic__{COMMUNITY_PATH}")
choice_scope_register(TopicSupport, f"topic__{COMMUNITY_PATH}")
choice_scope_register(TopicStatusChange, f"topic__{COMMUNITY_PATH}")
choice_scope_register(ActionEvidence, f"action_item__topic__{COMMUNITY_PATH}")
choice_scope_register(Milestone, f"project__{COMMUNITY_PATH}")
choice_scope_register(SurveyAnswer, f"survey__{COMMUNITY_PATH}")
choice_scope_register(SurveyQuestion, f"survey__{COMMUNITY_PATH}")


# Django's admin classes are not subscriptable at run time: the model is named for mypy only.


def _each(modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Any],
          call: Any) -> None:
    done = 0
    for obj in queryset:
        try:
            call(obj)
            done += 1
        except ApplicationError as error:
            modeladmin.message_user(request, f"{obj}：{error.message}", messages.ERROR)
    if done:
        modeladmin.message_user(request, _("已处理 %(count)s 条。") % {"count": done})


class AgendaItemInline(GenericTabularInline[AgendaItem, Session]):
    model = AgendaItem
    extra = 0
    raw_id_fields = ["topic"]


@admin.register(Session)
class SessionAdmin(ScopedChoicesMixin, GenericModelAdmin[Session]):
    list_display = ["title", "compound", "kind", "starts_at", "place", "mode", "status",
                    "published_at"]
    list_filter = ["kind", "status", "mode", "compound"]
    search_fields = ["title", "place", "minutes"]
    date_hierarchy = "starts_at"
    inlines = [AgendaItemInline]
    list_select_related = ["compound"]
    actions = ["publish", "cancel", "schedule_now"]

    @admin.action(description=_("公示所选议事会的决议"))
    def publish(self, request: HttpRequest, queryset: QuerySet[Session]) -> None:
        _each(self, request, queryset,
              lambda session: session_publish(session=session, actor=signed_in_user(request.user)))

    @admin.action(description=_("取消所选议事会"))
    def cancel(self, request: HttpRequest, queryset: QuerySet[Session]) -> None:
        _each(self, request, queryset,
              lambda session: session_cancel(session=session, actor=signed_in_user(request.user)))

    @admin.action(description=_("立即生成各小区月度议事日"))
    def schedule_now(self, request: HttpRequest, queryset: QuerySet[Session]) -> None:
        count = sessions_schedule_monthly(today=timezone.localdate())
        self.message_user(request, _("新生成 %(count)s 场议事会。") % {"count": count})


class StatusChangeInline(GenericTabularInline[TopicStatusChange, Topic]):
    model = TopicStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ["old_status", "new_status", "actor", "reason", "at"]


class ActionItemInline(GenericTabularInline[ActionItem, Topic]):
    model = ActionItem
    extra = 0
    fields = ["title", "owner_name", "deadline", "progress", "status"]
    readonly_fields = ["status"]


@admin.register(Topic)
class TopicAdmin(ScopedChoicesMixin, GenericModelAdmin[Topic]):
    list_display = ["title", "compound", "status", "channel", "scale", "support_count",
                    "session", "petition_id", "published_at"]
    list_filter = ["status", "channel", "scale", "compound"]
    search_fields = ["title", "description", "proposer_name", "decision_text", "outcome"]
    list_select_related = ["compound", "session"]
    raw_id_fields = ["proposer", "recorded_by", "session"]
    # The evaluation window is the services' to open (a later end cannot be typed in).
    readonly_fields = ["status", "support_count", "evaluation_ends_at"]
    inlines = [ActionItemInline, StatusChangeInline]
    actions = ["settle", "put_on_next_session"]

    @admin.action(description=_("现场议定（直接进入评议）"))
    def settle(self, request: HttpRequest, queryset: QuerySet[Topic]) -> None:
        _each(self, request, queryset,
              lambda topic: topic_settle_on_the_spot(topic=topic,
                                                     actor=signed_in_user(request.user)))

    @admin.action(description=_("列入下一次议事会"))
    def put_on_next_session(self, request: HttpRequest, queryset: QuerySet[Topic]) -> None:
        def schedule(topic: Topic) -> None:
            session = session_next_for_compound(compound_id=topic.compound_id)
            topic_schedule(topic=topic, session=session, actor=signed_in_user(request.user))

        _each(self, request, queryset, schedule)


@admin.register(ActionItem)
class ActionItemAdmin(ScopedChoicesMixin, GenericModelAdmin[ActionItem]):
    list_display = ["title", "topic", "owner_name", "deadline", "progress", "status", "done_at"]
    list_filter = ["status", "deadline", "topic__compound"]
    search_fields = ["title", "owner_name", "topic__title"]
    list_select_related = ["topic"]
    raw_id_fields = ["topic", "owner_user", "owner_body"]
    readonly_fields = ["status", "done_at", "reminded_before_at", "reminded_after_at"]
    actions = ["tick_off"]

    @admin.action(description=_("销号"))
    def tick_off(self, request: HttpRequest, queryset: QuerySet[ActionItem]) -> None:
        _each(self, request, queryset.select_related("topic"),
              lambda item: action_item_tick_off(item=item, actor=signed_in_user(request.user)))


@admin.register(Need)
class NeedAdmin(ScopedChoicesMixin, GenericModelAdmin[Need]):
    list_display = ["title", "compound", "source", "status", "topic", "petition_id",
                    "created_at"]
    list_filter = ["source", "status", "compound"]
    search_fields = ["title", "detail", "resolution"]
    raw_id_fields = ["topic", "survey_answer"]
    readonly_fields = ["status", "resolved_at"]
    actions = ["resolve"]

    @admin.action(description=_("标记为已解决"))
    def resolve(self, request: HttpRequest, queryset: QuerySet[Need]) -> None:
        _each(self, request, queryset, lambda need: need_resolve(
            need=need, actor=signed_in_user(request.user), resolution=str(_("后台标记解决"))))


@admin.register(Resource)
class ResourceAdmin(ScopedChoicesMixin, GenericModelAdmin[Resource]):
    list_display = ["name", "kind", "compound", "contact"]
    list_filter = ["kind", "compound"]
    search_fields = ["name", "offers", "contact"]
    raw_id_fields = ["body", "party_member"]


class MilestoneInline(GenericTabularInline[Milestone, Project]):
    model = Milestone
    extra = 0


@admin.register(Project)
class ProjectAdmin(ScopedChoicesMixin, GenericModelAdmin[Project]):
    list_display = ["title", "kind", "compound", "owner_name", "budget", "status",
                    "ticked_off_at"]
    list_filter = ["kind", "status", "compound"]
    search_fields = ["title", "owner_name"]
    filter_horizontal = ["needs", "resources"]
    raw_id_fields = ["topic", "owner_body"]
    readonly_fields = ["status", "ticked_off_at"]
    inlines = [MilestoneInline]
    actions = ["tick_off"]

    @admin.action(description=_("项目销号"))
    def tick_off(self, request: HttpRequest, queryset: QuerySet[Project]) -> None:
        _each(self, request, queryset,
              lambda project: project_tick_off(project=project, actor=signed_in_user(request.user)))


def _survey_is_draft(obj: Survey | SurveyQuestion | None) -> bool:
    """A survey's questions and options are edited only while it is a draft: the answers refer
    to them once it is opened."""
    survey = obj.survey if isinstance(obj, SurveyQuestion) else obj
    return survey is None or survey.is_draft


class _FrozenOnceOpenedMixin:
    """For the inlines, whose `obj` is the survey or question they sit in."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _survey_is_draft(obj) and super().has_add_permission(request, obj)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _survey_is_draft(obj) and super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _survey_is_draft(obj) and super().has_delete_permission(request, obj)  # type: ignore[misc]


class SurveyQuestionInline(_FrozenOnceOpenedMixin, GenericTabularInline[SurveyQuestion, Survey]):
    model = SurveyQuestion
    extra = 0
    fields = ["position", "kind", "text", "is_required"]
    show_change_link = True


class SurveyOptionInline(_FrozenOnceOpenedMixin,
                         GenericTabularInline[SurveyOption, SurveyQuestion]):
    model = SurveyOption
    extra = 0
    fields = ["position", "label"]


@admin.register(Survey)
class SurveyAdmin(ScopedChoicesMixin, GenericModelAdmin[Survey]):
    list_display = ["title", "compound", "kind", "opens_on", "closes_on", "opened_at"]
    list_filter = ["kind", "year", "quarter", "compound"]
    search_fields = ["title"]
    readonly_fields = ["opened_at", "created_by"]
    inlines = [SurveyQuestionInline]
    actions = ["open_surveys", "generate_now"]

    @admin.action(description=_("发布所选问卷（发布后题目不能再改）"))
    def open_surveys(self, request: HttpRequest, queryset: QuerySet[Survey]) -> None:
        _each(self, request, queryset,
              lambda survey: survey_open(survey=survey, actor=signed_in_user(request.user)))

    @admin.action(description=_("立即生成本季度测评（季末）"))
    def generate_now(self, request: HttpRequest, queryset: QuerySet[Survey]) -> None:
        count = surveys_generate_quarterly(today=timezone.localdate())
        self.message_user(request, _("新生成 %(count)s 份测评。") % {"count": count})


@admin.register(SurveyQuestion)
class SurveyQuestionAdmin(ScopedChoicesMixin, GenericModelAdmin[SurveyQuestion]):
    list_display = ["text", "survey", "position", "kind", "is_required"]
    list_filter = ["kind", "survey__compound"]
    search_fields = ["text", "survey__title"]
    list_select_related = ["survey"]
    raw_id_fields = ["survey"]
    inlines = [SurveyOptionInline]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _survey_is_draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _survey_is_draft(obj) and super().has_delete_permission(request, obj)


@admin.register(SurveyAnswer)
class SurveyAnswerAdmin(ScopedChoicesMixin, GenericModelAdmin[SurveyAnswer]):
    list_display = ["survey", "household", "satisfaction", "created_at"]
    list_filter = ["satisfaction", "survey__year", "survey__quarter", "survey__compound"]
    search_fields = ["comment"]
    raw_id_fields = ["survey", "household", "user"]


@admin.register(ListReview)
class ListReviewAdmin(ScopedChoicesMixin, GenericModelAdmin[ListReview]):
    list_display = ["compound", "year", "quarter", "created_at", "reviewed_at", "reviewed_by"]
    list_filter = ["year", "quarter", "compound"]
    readonly_fields = ["reviewed_at", "reviewed_by"]
    actions = ["complete"]

    @admin.action(description=_("标记为已复盘"))
    def complete(self, request: HttpRequest, queryset: QuerySet[ListReview]) -> None:
        _each(self, request, queryset,
              lambda review: list_review_complete(review=review,
                                                  actor=signed_in_user(request.user)))


@admin.register(TopicOpinion)
class TopicOpinionAdmin(ScopedChoicesMixin, GenericModelAdmin[TopicOpinion]):
    list_display = ["topic", "speaker", "stance", "created_at"]
    list_filter = ["stance"]
    search_fields = ["speaker", "body", "topic__title"]
    raw_id_fields = ["topic", "recorded_by"]


@admin.register(TopicRating)
class TopicRatingAdmin(ScopedChoicesMixin, GenericModelAdmin[TopicRating]):
    list_display = ["topic", "user", "score", "created_at"]
    list_filter = ["score"]
    search_fields = ["topic__title", "comment"]
    raw_id_fields = ["topic", "user"]


@admin.register(TopicSupport)
class TopicSupportAdmin(ScopedChoicesMixin, GenericModelAdmin[TopicSupport]):
    list_display = ["topic", "user", "created_at"]
    search_fields = ["topic__title"]
    raw_id_fields = ["topic", "user"]


@admin.register(TopicStatusChange)
class TopicStatusChangeAdmin(ScopedChoicesMixin, GenericModelAdmin[TopicStatusChange]):
    list_display = ["topic", "old_status", "new_status", "actor", "at"]
    list_filter = ["new_status"]
    search_fields = ["topic__title", "reason"]
    raw_id_fields = ["topic", "actor"]


@admin.register(SessionAttendance)
class SessionAttendanceAdmin(ScopedChoicesMixin, GenericModelAdmin[SessionAttendance]):
    list_display = ["session", "user", "signed_in_at"]
    list_filter = ["session__compound"]
    raw_id_fields = ["session", "user"]


@admin.register(ActionEvidence)
class ActionEvidenceAdmin(ScopedChoicesMixin, GenericModelAdmin[ActionEvidence]):
    list_display = ["action_item", "caption", "uploaded_by", "created_at"]
    formfield_overrides = ADMIN_PHOTO_OVERRIDES
    search_fields = ["caption", "action_item__title"]
    raw_id_fields = ["action_item", "uploaded_by"]


@admin.register(SessionSignUp)
class SessionSignUpAdmin(ScopedChoicesMixin, GenericModelAdmin[SessionSignUp]):
    list_display = ["session", "household", "created_at", "cancelled_at"]
    list_filter = ["session__compound"]
    raw_id_fields = ["session", "user", "household"]
    readonly_fields = ["created_at"]


@admin.register(TopicComment)
class TopicCommentAdmin(ScopedChoicesMixin, GenericModelAdmin[TopicComment]):
    """The discussion's record: hiding (with its reason) is done on the topic page, where the
    service audits it; here the rows are read."""

    list_display = ["topic", "author_label", "created_at", "edited_at", "hidden_at",
                    "hidden_reason"]
    list_filter = ["topic__compound"]
    search_fields = ["body"]
    readonly_fields = ["topic", "author", "author_label", "body", "created_at", "edited_at",
                       "hidden_at", "hidden_by", "hidden_reason"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
