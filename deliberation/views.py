"""Pages: residents on a phone, the staff dashboard under /deliberation/staff/, the public 公示.

Every view parses (a form), calls one service, renders or redirects. Objects are loaded through
the permission-scoped getters in deliberation.selectors (404 for outsiders).
Permission map: resident pages need a signed-in user and a compound they live in; staff pages
need `rules.staff_compounds(user)` to cover the object's compound; results and the iCal feed
are public notices.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import View

from accounts.models import User
from accounts.views import ResidentLoginRequiredMixin
from core.actions import ActionView as CoreActionView
from core.actions import StaffRequiredMixin, first_error
from core.exceptions import ApplicationError
from core.types import signed_in_user
from deliberation import conf, rules, selectors
from deliberation import forms as delib_forms
from deliberation.ical import calendar_for_sessions
from deliberation.models import (
    ActionItem,
    ListReview,
    Need,
    Project,
    Satisfaction,
    Session,
    Survey,
    SurveyQuestion,
    Topic,
    TopicComment,
)
from deliberation.services.lists import (
    list_review_complete,
    need_create,
    need_resolve,
    project_create,
    project_tick_off,
    resource_create,
)
from deliberation.services.participation import (
    COMMENT_OPEN_STATUSES,
    notice_preference_set,
    session_attendance_record,
    session_sign_up,
    session_sign_up_cancel,
    topic_comment_add,
    topic_comment_edit,
    topic_comment_hide,
)
from deliberation.services.sessions import (
    agenda_item_add,
    session_call_joint,
    session_publish,
    session_record_minutes,
    session_sign_in,
)
from deliberation.services.surveys import (
    survey_create,
    survey_open,
    survey_question_add,
    survey_question_remove,
    survey_respond,
)
from deliberation.services.topics import (
    action_item_add,
    action_item_progress,
    action_item_tick_off,
    rating_summary,
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
from territory.models import Compound


class _SignedInMixin(LoginRequiredMixin):
    request: HttpRequest

    @property
    def actor(self) -> User:
        """The user the services act for: the LoginRequiredMixin gate lets only them through."""
        return signed_in_user(self.request.user)


class ActionView(_SignedInMixin, CoreActionView):
    """POST: the object as the user may see it, one service, back to where the user was."""

    def redirect_to(self, obj: Any) -> str:
        return self.request.META.get("HTTP_REFERER") or reverse("deliberation:home")


# --- residents (phone) ------------------------------------------------------------------------

class HomeView(View):
    """The resident's phone view: propose, support, agenda, results, rate, survey."""

    def get(self, request: HttpRequest) -> HttpResponse:
        compound = (selectors.compound_get_for_resident(user=request.user)
                    if request.user.is_authenticated else None)
        if compound is None:
            if rules.user_is_deliberation_staff_anywhere(request.user):
                return redirect("deliberation:staff-dashboard")
            return redirect("deliberation:results")
        # Signed in: only a signed-in user lives in a compound.
        user = signed_in_user(request.user)
        return render(request, "deliberation/home.html", {
            "compound": compound,
            "topics": selectors.topic_list_open_for_resident(compound=compound, user=user),
            "sessions": selectors.session_list_upcoming(compound=compound, user=user),
            "now": timezone.now(),
            "surveys": selectors.survey_list_open_for_household(compound=compound, user=user),
            "survey_results": selectors.survey_list_published(compound=compound,
                                                              today=timezone.localdate()),
            "threshold": conf.support_threshold(),
            "results": selectors.published_topics(compound_id=compound.pk)[:10],
            "can_staff": rules.user_is_deliberation_staff(user, compound.pk),
        })


class TopicCreateView(ResidentLoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        if selectors.compound_get_for_resident(user=request.user) is None:
            raise Http404
        return render(request, "deliberation/topic_form.html",
                      {"form": delib_forms.TopicProposeForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        compound = selectors.compound_get_for_resident(user=request.user)
        if compound is None:
            raise Http404
        form = delib_forms.TopicProposeForm(request.POST)
        if form.is_valid():
            try:
                topic = topic_propose(compound=compound, actor=signed_in_user(request.user),
                                               **form.cleaned_data)
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("提议已提交，邀请邻居附议吧。"))
                return redirect("deliberation:topic-detail", pk=topic.pk)
        return render(request, "deliberation/topic_form.html", {"form": form}, status=400)


STEP_LABELS = [_lazy("提"), _lazy("议"), _lazy("决"), _lazy("做"), _lazy("评"), _lazy("结")]


class TopicDetailView(ResidentLoginRequiredMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request.user)
        topic = selectors.topic_get_for_user(user=user, topic_id=pk)
        is_staff = rules.user_is_deliberation_staff(user, topic.compound_id)
        ratings = rating_summary(topic)
        comments = list(selectors.topic_comment_list(topic=topic))
        now = timezone.now()
        context: dict[str, Any] = {
            "topic": topic, "is_staff": is_staff, "step_labels": STEP_LABELS,
            "proposer": rules.proposer_label(topic, user),
            "changes": selectors.topic_status_change_list(topic=topic),
            "opinions": selectors.topic_opinion_list(topic=topic),
            "items": selectors.action_item_list_for_topic(topic=topic),
            "ratings": ratings, "rating_count": sum(ratings.values()),
            "distribution": rating_distribution(ratings),
            "has_supported": selectors.topic_household_supported(topic=topic, user=user),
            "has_rated": selectors.topic_household_rating(topic=topic, user=user) is not None,
            "is_resident": rules.user_is_compound_resident(user, topic.compound_id),
            "rate_form": delib_forms.RateForm(),
            "is_rating_open": (topic.status == Topic.Status.EVALUATING
                               and (topic.evaluation_ends_at is None
                                    or now < topic.evaluation_ends_at)),
            "comments": comments,
            # Only the thread's last comment can still be edited (nobody has replied to it).
            "editable_comment_id": (comments[-1].pk if comments and comments[-1].author_id
                                    == user.pk and not comments[-1].is_hidden else None),
            "comment_form": delib_forms.CommentForm(),
            "is_discussion_open": topic.status in COMMENT_OPEN_STATUSES,
            "now": now,
        }
        if is_staff:
            sessions = selectors.session_list_planned(compound_id=topic.compound_id)
            bodies = selectors.body_list(compound_id=topic.compound_id)
            context.update({
                "schedule_form": delib_forms.TopicScheduleForm(sessions=sessions,
                                                               initial={"session": sessions[:1]
                                                                        and sessions[0].pk}),
                "opinion_form": delib_forms.OpinionForm(),
                "decide_form": delib_forms.DecideForm(initial={
                    "review_on": timezone.localdate() + timedelta(days=90)}),
                "action_form": delib_forms.ActionItemForm(bodies=bodies),
                "progress_form": delib_forms.ProgressForm(),
                "outcome_form": delib_forms.OutcomeForm(),
                "reject_form": delib_forms.RejectForm(),
            })
        return render(request, "deliberation/topic_detail.html", context)


def rating_distribution(ratings: dict[str, int]) -> list[dict[str, Any]]:
    """The 评's distribution for its bars: each answer's label, count and share (of n)."""
    total = sum(ratings.values())
    return [{"value": value, "label": label, "count": ratings.get(value, 0),
             "percent": round(100 * ratings.get(value, 0) / total) if total else 0}
            for value, label in Satisfaction.choices]


def _topic_url(topic: Topic) -> str:
    return reverse("deliberation:topic-detail", args=[topic.pk])


class TopicSupportView(ActionView):
    success_message = _lazy("已附议。")

    def load(self, **kwargs: Any) -> Topic:
        return selectors.topic_get_for_user(user=self.request.user, topic_id=kwargs["pk"])

    def perform(self, obj: Topic, data: dict[str, Any]) -> None:
        topic_support(topic=obj, actor=self.actor)

    def redirect_to(self, obj: Topic) -> str:
        return _topic_url(obj)


class TopicRateView(TopicSupportView):
    form_class = delib_forms.RateForm
    success_message = _lazy("感谢您的评议。")

    def perform(self, obj: Topic, data: dict[str, Any]) -> None:
        topic_rate(topic=obj, actor=self.actor, **data)


class SessionDetailView(ResidentLoginRequiredMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request.user)
        session = selectors.session_get_for_user(user=user, session_id=pk)
        is_staff = rules.user_is_deliberation_staff(user, session.compound_id)
        context: dict[str, Any] = {
            "session": session, "is_staff": is_staff,
            "agenda": selectors.session_agenda_item_list(session=session),
            "signed_in": selectors.session_is_signed_in_by(session=session, user=user),
            "signed_up": selectors.session_sign_up_get(session=session, user=user) is not None,
            "sign_up_count": selectors.session_sign_up_count(session=session),
            "is_resident": rules.user_is_compound_resident(user, session.compound_id),
            "is_before_start": timezone.now() < session.starts_at,
        }
        if is_staff:
            sign_in_url = request.build_absolute_uri(
                reverse("deliberation:session-sign-in", args=[session.pk])
                + f"?code={session.sign_in_code}")
            context.update({
                "qr_svg": segno.make(sign_in_url, error="m").svg_inline(scale=4),
                "sign_in_url": sign_in_url,
                "attendance_count": selectors.session_attendance_count(session=session),
                "agenda_form": delib_forms.AgendaItemForm(),
                "minutes_form": delib_forms.MinutesForm(initial={"minutes": session.minutes}),
                "proposed": selectors.topic_list_proposed(compound_id=session.compound_id),
            })
        return render(request, "deliberation/session_detail.html", context)


class SessionSignInView(ResidentLoginRequiredMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        session = selectors.session_get_for_user(user=request.user, session_id=pk)
        form = delib_forms.SignInForm(initial={"code": request.GET.get("code", "")})
        return render(request, "deliberation/sign_in.html", {"session": session, "form": form})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        session = selectors.session_get_for_user(user=request.user, session_id=pk)
        form = delib_forms.SignInForm(request.POST)
        if form.is_valid():
            try:
                session_sign_in(session=session, actor=signed_in_user(request.user),
                                         code=form.cleaned_data["code"])
            except ApplicationError as error:
                form.add_error("code", error.message)
            else:
                messages.success(request, _("签到成功。"))
                return redirect("deliberation:session-detail", pk=session.pk)
        return render(request, "deliberation/sign_in.html", {"session": session, "form": form},
                      status=400)


class SessionSignUpView(ActionView):
    success_message = _lazy("已报名，届时请准时参加。")

    def load(self, **kwargs: Any) -> Session:
        return selectors.session_get_for_user(user=self.request.user, session_id=kwargs["pk"])

    def perform(self, obj: Session, data: dict[str, Any]) -> None:
        session_sign_up(session=obj, actor=self.actor)

    def redirect_to(self, obj: Session) -> str:
        return reverse("deliberation:session-detail", args=[obj.pk])


class SessionSignUpCancelView(SessionSignUpView):
    success_message = _lazy("已取消报名。")

    def perform(self, obj: Session, data: dict[str, Any]) -> None:
        session_sign_up_cancel(session=obj, actor=self.actor)


class TopicCommentCreateView(TopicSupportView):
    form_class = delib_forms.CommentForm
    success_message = _lazy("发言已发布。")

    def perform(self, obj: Topic, data: dict[str, Any]) -> None:
        topic_comment_add(topic=obj, actor=self.actor, **data)

    def redirect_to(self, obj: Topic) -> str:
        return f"{_topic_url(obj)}#comments"


class TopicCommentUpdateView(ActionView):
    form_class = delib_forms.CommentForm
    success_message = _lazy("发言已修改。")

    def load(self, **kwargs: Any) -> TopicComment:
        return selectors.topic_comment_get_for_user(user=self.request.user,
                                                    comment_id=kwargs["pk"])

    def perform(self, obj: TopicComment, data: dict[str, Any]) -> None:
        topic_comment_edit(comment=obj, actor=self.actor, **data)

    def redirect_to(self, obj: TopicComment) -> str:
        return f"{reverse('deliberation:topic-detail', args=[obj.topic_id])}#comment-{obj.pk}"


class MyTopicsView(ResidentLoginRequiredMixin, View):
    """A resident's own topics and the step each is at, on one page; and their SMS opt-in."""

    def get(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request.user)
        preference = selectors.notice_preference_get(user=user)
        return render(request, "deliberation/my_topics.html", {
            "topics": selectors.topic_list_mine(user=user)[:100],
            "step_labels": STEP_LABELS,
            "notice_form": delib_forms.NoticePreferenceForm(
                initial={"sms_opt_in": preference.sms_opt_in if preference else False}),
        })


class NoticePreferenceView(ActionView):
    form_class = delib_forms.NoticePreferenceForm
    success_message = _lazy("通知设置已保存。")

    def perform(self, obj: None, data: dict[str, Any]) -> None:
        notice_preference_set(actor=self.actor, **data)

    def redirect_to(self, obj: None) -> str:
        return reverse("deliberation:my-topics")


class SurveyAnswerView(ResidentLoginRequiredMixin, View):
    """One answer a household: once given, every member sees it instead of a blank form; outside
    the window the page says so (and, once closed, links to the results)."""

    template_name = "deliberation/survey_form.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        survey = selectors.survey_get_for_user(user=request.user, survey_id=pk)
        questions = list(selectors.survey_question_list(survey=survey))
        return self._render(request, survey, delib_forms.SurveyAnswerForm(questions=questions))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        survey = selectors.survey_get_for_user(user=request.user, survey_id=pk)
        questions = list(selectors.survey_question_list(survey=survey))
        form = delib_forms.SurveyAnswerForm(request.POST, questions=questions)
        if form.is_valid():
            try:
                survey_respond(survey=survey, actor=signed_in_user(request.user),
                               responses=form.responses())
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("感谢您填写问卷。"))
                return redirect("deliberation:home")
        return self._render(request, survey, form, status=400)

    def _render(self, request: HttpRequest, survey: Survey, form: forms.Form,
                status: int = 200) -> HttpResponse:
        answer = selectors.survey_household_answer(user=signed_in_user(request.user),
                                                  survey=survey)
        today = timezone.localdate()
        return render(request, self.template_name, {
            "survey": survey, "form": form, "answer": answer,
            "responses": selectors.survey_answer_responses(answer=answer) if answer else [],
            "is_open": survey.is_open_on(today), "is_closed": survey.is_closed_on(today),
        }, status=status)


class SurveyResultDetailView(ResidentLoginRequiredMixin, View):
    """A survey's results with bar charts: the residents' once it has closed; its staff see them
    from the start, and alone see the short texts."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request.user)
        survey = selectors.survey_get_for_user(user=user, survey_id=pk)
        is_staff = rules.user_is_deliberation_staff(user, survey.compound_id)
        is_closed = survey.is_closed_on(timezone.localdate())
        if not (is_closed or is_staff):
            raise Http404
        return render(request, "deliberation/survey_results.html", {
            "survey": survey, "is_staff": is_staff, "is_closed": is_closed,
            "results": selectors.survey_results_get(survey=survey, with_texts=is_staff),
        })


# --- public -----------------------------------------------------------------------------------

class ResultsView(View):
    """公示: decisions of each published session and each topic's outcome, with the date."""

    def get(self, request: HttpRequest) -> HttpResponse:
        compound_id = request.GET.get("compound")
        compound_id_int = int(compound_id) if compound_id and compound_id.isdigit() else None
        return render(request, "deliberation/results.html", {
            "sessions": selectors.published_sessions(compound_id=compound_id_int)[:24],
            "topics": selectors.published_topics(compound_id=compound_id_int)[:50],
            "held_count": selectors.session_held_count(compound_id=compound_id_int),
        })


class CompoundCalendarView(View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        compound = selectors.compound_get(compound_id=pk)
        sessions = selectors.session_list_for_calendar(compound=compound)
        body = calendar_for_sessions(sessions, name=_("%s议事日") % compound.name,
                                     host=request.get_host())
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'inline; filename="compound-{compound.pk}.ics"'
        return response


# --- staff ------------------------------------------------------------------------------------

class StaffMixin(StaffRequiredMixin, View):
    """The core staff gate, whose staff here are whoever runs deliberation for at least one
    compound (staff in scope or a branch secretary, not a role; a superuser only while a
    compound exists)."""

    def has_access(self, user: User) -> bool:
        return rules.user_is_deliberation_staff_anywhere(user)

    @property
    def actor(self) -> User:
        """The user the services act for: the gate lets only the signed-in through."""
        return signed_in_user(self.request.user)

    def staff_compounds(self) -> QuerySet[Compound]:
        return rules.staff_compounds(self.request.user)


class DashboardView(StaffMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        compounds = self.staff_compounds()
        now = timezone.now()
        return render(request, "deliberation/staff/dashboard.html", {
            "compounds": compounds.order_by("name"),
            "upcoming": selectors.session_list_planned_in(compounds=compounds, now=now),
            "recent": selectors.session_list_held_in(compounds=compounds),
            "topics": selectors.topic_list_open(compounds=compounds),
            "counts": selectors.topic_counts_by_status(compounds=compounds),
            "steps": Topic.Status.choices,
            "open_items": selectors.action_item_open_count(compounds=compounds),
            # Each form its own ids: both ask for a title (a label names one field only).
            "offline_form": delib_forms.TopicOfflineForm(compounds=compounds,
                                                         auto_id="id_offline_%s"),
            "petition_form": delib_forms.TopicFromPetitionForm(auto_id="id_petition_%s"),
        })


class SessionCreateView(StaffMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        form = delib_forms.SessionJointForm(compounds=self.staff_compounds())
        return render(request, "deliberation/staff/session_form.html", {"form": form})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = delib_forms.SessionJointForm(request.POST,
                                            compounds=self.staff_compounds())
        if form.is_valid():
            try:
                session = session_call_joint(actor=self.actor, **form.cleaned_data)
            except (ApplicationError, ValidationError) as error:
                form.add_error(None, error.message if isinstance(error, ApplicationError)
                               else "；".join(error.messages))
            else:
                messages.success(request, _("联席会议已发起。"))
                return redirect("deliberation:session-detail", pk=session.pk)
        return render(request, "deliberation/staff/session_form.html", {"form": form},
                      status=400)


class TopicOfflineCreateView(StaffMixin, View):
    def post(self, request: HttpRequest) -> HttpResponse:
        form = delib_forms.TopicOfflineForm(request.POST, compounds=self.staff_compounds())
        if not form.is_valid():
            messages.error(request, first_error(form))
            return redirect("deliberation:staff-dashboard")
        try:
            topic = topic_propose_offline(actor=self.actor, **form.cleaned_data)
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect("deliberation:staff-dashboard")
        messages.success(request, _("线下提议已代录。"))
        return redirect("deliberation:topic-detail", pk=topic.pk)


class TopicFromPetitionCreateView(StaffMixin, View):
    """诉求转议: a dispatcher refers a big petition; petitions decides who may."""

    def post(self, request: HttpRequest) -> HttpResponse:
        form = delib_forms.TopicFromPetitionForm(request.POST)
        if not form.is_valid():
            messages.error(request, first_error(form))
            return redirect("deliberation:staff-dashboard")
        try:
            topic = topic_propose_from_petition(actor=self.actor, **form.cleaned_data)
        except ApplicationError as error:
            messages.error(request, error.message)
        except Http404:
            messages.error(request, _("找不到该诉求，或您无权处理。"))
        else:
            messages.success(request, _("诉求已转为议题。"))
            return redirect("deliberation:topic-detail", pk=topic.pk)
        return redirect("deliberation:staff-dashboard")


class SessionActionView(ActionView):
    def load(self, **kwargs: Any) -> Session:
        return selectors.session_get_for_staff(user=self.request.user, session_id=kwargs["pk"])

    def redirect_to(self, obj: Session) -> str:
        return reverse("deliberation:session-detail", args=[obj.pk])


class SessionAgendaAddView(SessionActionView):
    form_class = delib_forms.AgendaItemForm
    success_message = _lazy("议程已添加。")

    def perform(self, obj: Session, data: dict[str, Any]) -> None:
        agenda_item_add(session=obj, actor=self.actor, **data)


class SessionMinutesView(SessionActionView):
    form_class = delib_forms.MinutesForm
    success_message = _lazy("会议纪要已保存。")

    def perform(self, obj: Session, data: dict[str, Any]) -> None:
        session_record_minutes(session=obj, actor=self.actor, **data)


class SessionSignInSheetView(StaffMixin, View):
    """The paper sign-in list to print: the residents signed up, masked names and rooms, a
    line to sign on, and blank lines for whoever comes unannounced. Staff enter it afterwards
    (SessionAttendanceRecordView) on the same page."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        session = selectors.session_get_for_staff(user=request.user, session_id=pk)
        sheet = selectors.session_sign_in_sheet(session=session)
        return render(request, "deliberation/staff/sign_in_sheet.html", {
            "session": session, "sheet": sheet, "blank_lines": range(8),
            "agenda": selectors.session_agenda_item_list(session=session),
            "is_started": timezone.now() >= session.starts_at,
            "record_form": delib_forms.AttendanceRecordForm(listed=_listed(sheet)),
        })


def _listed(sheet: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return [(row["user_id"], f"{row['name']} {row['household']}") for row in sheet
            if not row["has_attended"]]


class SessionAttendanceRecordView(SessionActionView):
    form_class = delib_forms.AttendanceRecordForm

    def form_kwargs(self, obj: Session) -> dict[str, Any]:
        return {"listed": _listed(selectors.session_sign_in_sheet(session=obj))}

    def perform(self, obj: Session, data: dict[str, Any]) -> int:
        return session_attendance_record(session=obj, actor=self.actor, user_ids=data["users"])

    def success_text(self, result: int) -> str:
        return _("已补录 %(count)s 人签到。") % {"count": result}

    def redirect_to(self, obj: Session) -> str:
        return reverse("deliberation:session-sign-in-sheet", args=[obj.pk])


class TopicCommentHideView(ActionView):
    form_class = delib_forms.CommentHideForm
    success_message = _lazy("发言已屏蔽，理由已记录。")

    def load(self, **kwargs: Any) -> TopicComment:
        return selectors.topic_comment_get_for_staff(user=self.request.user,
                                                     comment_id=kwargs["pk"])

    def perform(self, obj: TopicComment, data: dict[str, Any]) -> None:
        topic_comment_hide(comment=obj, actor=self.actor, **data)

    def redirect_to(self, obj: TopicComment) -> str:
        return f"{reverse('deliberation:topic-detail', args=[obj.topic_id])}#comment-{obj.pk}"


class SessionPublishView(SessionActionView):
    success_message = _lazy("决议已公示。")

    def perform(self, obj: Session, data: dict[str, Any]) -> None:
        session_publish(session=obj, actor=self.actor)


class TopicActionView(ActionView):
    def load(self, **kwargs: Any) -> Topic:
        return selectors.topic_get_for_staff(user=self.request.user, topic_id=kwargs["pk"])

    def redirect_to(self, obj: Topic) -> str:
        return _topic_url(obj)


class TopicScheduleView(TopicActionView):
    form_class = delib_forms.TopicScheduleForm
    success_message = _lazy("已列入议程。")

    def form_kwargs(self, obj: Topic) -> dict[str, Any]:
        return {"sessions": selectors.session_list_for_compound(compound_id=obj.compound_id)}

    def perform(self, obj: Topic, data: dict[str, Any]) -> None:
        topic_schedule(topic=obj, actor=self.actor, **data)


class TopicOpinionAddView(TopicActionView):
    form_class = delib_forms.OpinionForm
    success_message = _lazy("意见已记录。")

    def perform(self, obj: Topic, data: dict[str, Any]) -> None:
        topic_opinion_add(topic=obj, actor=self.actor, **data)


class TopicDecideView(TopicActionView):
    form_class = delib_forms.DecideForm
    success_message = _lazy("决议已记录。")

    def perform(self, obj: Topic, data: dict[str, Any]) -> None:
        topic_decide(topic=obj, actor=self.actor, **data)


class ActionItemCreateView(TopicActionView):
    form_class = delib_forms.ActionItemForm
    success_message = _lazy("落实事项已分解。")

    def form_kwargs(self, obj: Topic) -> dict[str, Any]:
        return {"bodies": selectors.body_list(compound_id=obj.compound_id)}

    def perform(self, obj: Topic, data: dict[str, Any]) -> None:
        action_item_add(topic=obj, actor=self.actor, **data)


class TopicSettleView(TopicActionView):
    success_message = _lazy("已现场议定，进入评议。")

    def perform(self, obj: Topic, data: dict[str, Any]) -> None:
        topic_settle_on_the_spot(topic=obj, actor=self.actor)


class TopicCloseView(TopicActionView):
    form_class = delib_forms.OutcomeForm
    success_message = _lazy("议题已办结并公示。")

    def perform(self, obj: Topic, data: dict[str, Any]) -> None:
        topic_close(topic=obj, actor=self.actor, **data)


class TopicRejectView(TopicActionView):
    form_class = delib_forms.RejectForm
    success_message = _lazy("已不予受理并公示理由。")

    def perform(self, obj: Topic, data: dict[str, Any]) -> None:
        topic_reject(topic=obj, actor=self.actor, **data)


class ActionItemBoardView(StaffMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        items = selectors.action_item_list(user=request.user).open_first()
        return render(request, "deliberation/staff/actions.html", {
            "items": items[:200], "today": timezone.localdate(),
            "progress_form": delib_forms.ProgressForm(),
        })


class ActionItemActionView(ActionView):
    def load(self, **kwargs: Any) -> ActionItem:
        return selectors.action_item_get_for_user(user=self.request.user,
                                                  action_item_id=kwargs["pk"])


class ActionItemProgressView(ActionItemActionView):
    form_class = delib_forms.ProgressForm
    success_message = _lazy("进展已更新。")

    def perform(self, obj: ActionItem, data: dict[str, Any]) -> None:
        action_item_progress(item=obj, actor=self.actor, progress=data["progress"],
                                      note=data["note"], photo=data.get("photo"))


class TickOffConfirmView(LoginRequiredMixin, View):
    """销号 in two steps: a page that shows what is being closed, then a POST that confirms.

    Ticking off cannot be undone (an action item's last one sends the topic to the residents'
    evaluation; a project's resolves its needs), so one stray click must not do it. A page and
    a checkbox: no script needed. After it, back to `next` (a path on this site) or the default.
    """

    template_name = ""

    def load(self, request: HttpRequest, pk: int) -> Any:
        raise NotImplementedError

    def tick_off(self, request: HttpRequest, obj: Any) -> None:
        raise NotImplementedError

    def context(self, obj: Any) -> dict[str, Any]:
        return {}

    def default_back(self, obj: Any) -> str:
        raise NotImplementedError

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = self.load(request, pk)
        form = delib_forms.TickOffConfirmForm(initial={"next": request.GET.get("next", "")})
        return self._render(request, obj, form)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = self.load(request, pk)
        form = delib_forms.TickOffConfirmForm(request.POST)
        if form.is_valid():
            try:
                self.tick_off(request, obj)
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("已销号：%s") % obj.title)
                return redirect(_local_url(request, form.cleaned_data["next"])
                                or self.default_back(obj))
        return self._render(request, obj, form, status=400)

    def _render(self, request: HttpRequest, obj: Any, form: forms.Form,
                status: int = 200) -> HttpResponse:
        back_url = _local_url(request, form["next"].value() or "") or self.default_back(obj)
        return render(request, self.template_name, {
            "object": obj, "form": form, "today": timezone.localdate(), "back_url": back_url,
            **self.context(obj)}, status=status)


class ActionItemTickOffView(TickOffConfirmView):
    template_name = "deliberation/staff/action_tick_off.html"

    def load(self, request: HttpRequest, pk: int) -> ActionItem:
        return selectors.action_item_get_for_staff(user=request.user, action_item_id=pk)

    def tick_off(self, request: HttpRequest, obj: ActionItem) -> None:
        action_item_tick_off(item=obj, actor=signed_in_user(request.user))

    def context(self, obj: ActionItem) -> dict[str, Any]:
        return {"item": obj, "evidence_count": selectors.action_item_evidence_count(item=obj),
                "is_last_open": selectors.action_item_is_last_open(item=obj)}

    def default_back(self, obj: ActionItem) -> str:
        return _topic_url(obj.topic)


def _local_url(request: HttpRequest, url: str) -> str:
    """`url` if it is a path on this site, else "" (a `next` is never an outside address)."""
    if url.startswith("/") and url_has_allowed_host_and_scheme(
            url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return ""


class ListsView(StaffMixin, View):
    """The three lists: needs, resources, projects; and the quarterly review."""

    def get(self, request: HttpRequest) -> HttpResponse:
        compounds = self.staff_compounds()
        user = request.user
        return render(request, "deliberation/staff/lists.html", {
            "needs": selectors.need_list(user=user).order_by("status", "-id")[:200],
            "resources": selectors.resource_list(user=user)[:200],
            "projects": selectors.project_list(user=user)[:100],
            "reviews": selectors.list_review_list_open(compounds=compounds),
            # Each form its own ids: they share field names (a label names one field only).
            "need_form": delib_forms.NeedForm(compounds=compounds, auto_id="id_need_%s"),
            "resource_form": delib_forms.ResourceForm(compounds=compounds,
                                                      auto_id="id_resource_%s"),
            "project_form": delib_forms.ProjectForm(compounds=compounds,
                                                    auto_id="id_project_%s"),
        })


class _ListCreateView(StaffMixin):
    form_class: type[delib_forms.CompoundChoiceMixin]

    def create(self, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def post(self, request: HttpRequest) -> HttpResponse:
        form = self.form_class(request.POST, compounds=self.staff_compounds())
        if not form.is_valid():
            messages.error(request, first_error(form))
        else:
            try:
                self.create(form.cleaned_data)
            except ApplicationError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("已加入清单。"))
        return redirect("deliberation:staff-lists")


class NeedCreateView(_ListCreateView):
    form_class = delib_forms.NeedForm

    def create(self, data: dict[str, Any]) -> None:
        need_create(actor=self.actor, **data)


class ResourceCreateView(_ListCreateView):
    form_class = delib_forms.ResourceForm

    def create(self, data: dict[str, Any]) -> None:
        resource_create(actor=self.actor, **data)


class ProjectCreateView(_ListCreateView):
    form_class = delib_forms.ProjectForm

    def create(self, data: dict[str, Any]) -> None:
        project_create(actor=self.actor, **data)


class ProjectTickOffView(TickOffConfirmView):
    template_name = "deliberation/staff/project_tick_off.html"

    def load(self, request: HttpRequest, pk: int) -> Project:
        return selectors.project_get_for_staff(user=request.user, project_id=pk)

    def tick_off(self, request: HttpRequest, obj: Project) -> None:
        project_tick_off(project=obj, actor=signed_in_user(request.user))

    def context(self, obj: Project) -> dict[str, Any]:
        return {"project": obj, "milestones": selectors.milestone_list(project=obj),
                "needs": selectors.need_list_unresolved(project=obj)}

    def default_back(self, obj: Project) -> str:
        return reverse("deliberation:staff-lists")


class _ListActionView(ActionView):
    def redirect_to(self, obj: Any) -> str:
        return reverse("deliberation:staff-lists")


class NeedResolveView(_ListActionView):
    form_class = delib_forms.ResolveForm
    success_message = _lazy("需求已解决。")

    def load(self, **kwargs: Any) -> Need:
        return selectors.need_get_for_staff(user=self.request.user, need_id=kwargs["pk"])

    def perform(self, obj: Any, data: dict[str, Any]) -> None:
        need_resolve(need=obj, actor=self.actor, **data)


class ListReviewCompleteView(_ListActionView):
    success_message = _lazy("本季度清单复盘已完成。")

    def load(self, **kwargs: Any) -> ListReview:
        return selectors.list_review_get_for_staff(user=self.request.user,
                                                   review_id=kwargs["pk"])

    def perform(self, obj: Any, data: dict[str, Any]) -> None:
        list_review_complete(review=obj, actor=self.actor)


class SurveyResultsView(StaffMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        compounds = self.staff_compounds()
        return render(request, "deliberation/staff/surveys.html", {
            "results": selectors.survey_results(compounds=compounds),
            "surveys": selectors.survey_list_for_staff(user=request.user)[:60],
            "today": timezone.localdate(),
        })


class SurveyCreateView(StaffMixin, View):
    """A new questionnaire, a draft: its questions are added on its build page."""

    def get(self, request: HttpRequest) -> HttpResponse:
        today = timezone.localdate()
        form = delib_forms.SurveyCreateForm(compounds=self.staff_compounds(), initial={
            "opens_on": today, "closes_on": today + timedelta(days=14)})
        return render(request, "deliberation/staff/survey_create.html", {"form": form})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = delib_forms.SurveyCreateForm(request.POST, compounds=self.staff_compounds())
        if form.is_valid():
            try:
                survey = survey_create(actor=self.actor, **form.cleaned_data)
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("问卷已创建，请添加题目。"))
                return redirect("deliberation:survey-build", pk=survey.pk)
        return render(request, "deliberation/staff/survey_create.html", {"form": form},
                      status=400)


class SurveyBuildView(StaffMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        survey = selectors.survey_get_for_staff(user=request.user, survey_id=pk)
        return render(request, "deliberation/staff/survey_build.html", {
            "survey": survey, "questions": selectors.survey_question_list(survey=survey),
            "question_form": delib_forms.SurveyQuestionForm(),
            "today": timezone.localdate(),
        })


class SurveyActionView(ActionView):
    def load(self, **kwargs: Any) -> Survey:
        return selectors.survey_get_for_staff(user=self.request.user, survey_id=kwargs["pk"])

    def redirect_to(self, obj: Survey) -> str:
        return reverse("deliberation:survey-build", args=[obj.pk])


class SurveyQuestionAddView(SurveyActionView):
    form_class = delib_forms.SurveyQuestionForm
    success_message = _lazy("题目已添加。")

    def perform(self, obj: Survey, data: dict[str, Any]) -> None:
        survey_question_add(survey=obj, actor=self.actor, **data)


class SurveyOpenView(SurveyActionView):
    success_message = _lazy("问卷已发布，本小区居民可在开放时间内填写。")

    def perform(self, obj: Survey, data: dict[str, Any]) -> None:
        survey_open(survey=obj, actor=self.actor)


class SurveyQuestionDeleteView(ActionView):
    success_message = _lazy("题目已删除。")

    def load(self, **kwargs: Any) -> SurveyQuestion:
        return selectors.survey_question_get_for_staff(user=self.request.user,
                                                       question_id=kwargs["pk"])

    def perform(self, obj: SurveyQuestion, data: dict[str, Any]) -> None:
        survey_question_remove(question=obj, actor=self.actor)

    def redirect_to(self, obj: SurveyQuestion) -> str:
        return reverse("deliberation:survey-build", args=[obj.survey_id])
