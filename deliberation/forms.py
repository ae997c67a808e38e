"""Forms parse input only; the services decide."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.widgets import IsoDateInput, IsoDateTimeInput
from deliberation.models import (
    InvitedBody,
    Need,
    Project,
    Resource,
    Satisfaction,
    Session,
    SurveyQuestion,
    Topic,
    TopicOpinion,
)
from governance.models import Body
from territory.models import Compound


class TopicProposeForm(forms.Form):
    title = forms.CharField(label=_("议题"), max_length=200)
    description = forms.CharField(label=_("具体情况"), widget=forms.Textarea(attrs={"rows": 4}),
                                  required=False)
    scale = forms.ChoiceField(label=_("事项大小"), choices=Topic.Scale.choices,
                              initial=Topic.Scale.SMALL)


class CompoundChoiceMixin(forms.Form):
    compound = forms.ModelChoiceField(label=_("小区"), queryset=Compound.objects.none())

    def __init__(self, *args: Any, compounds: QuerySet[Compound] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if compounds is not None:
            # self.fields holds this form's copies of the declared fields: the one above.
            field = cast("forms.ModelChoiceField[Compound]", self.fields["compound"])
            field.queryset = compounds.order_by("name")
            first_two = list(compounds.values_list("pk", flat=True)[:2])
            if len(first_two) == 1:
                self.fields["compound"].initial = first_two[0]


class TopicOfflineForm(CompoundChoiceMixin, TopicProposeForm):
    proposer_name = forms.CharField(label=_("提议人"), max_length=50)


class SessionJointForm(CompoundChoiceMixin):
    title = forms.CharField(label=_("会议名称"), max_length=100, initial=_("联席会议"))
    starts_at = forms.DateTimeField(label=_("开始时间"),
                                    widget=IsoDateTimeInput())
    place = forms.CharField(label=_("地点"), max_length=100, required=False)
    mode = forms.ChoiceField(label=_("形式"), choices=Session.Mode.choices)
    online_link = forms.CharField(label=_("线上会议链接"), max_length=300, required=False)
    invited_bodies = forms.MultipleChoiceField(label=_("参会主体"), choices=InvitedBody.choices,
                                               widget=forms.CheckboxSelectMultiple,
                                               initial=list(InvitedBody.values))


class AgendaItemForm(forms.Form):
    title = forms.CharField(label=_("议程"), max_length=200)
    starts_at = forms.TimeField(label=_("开始"), required=False,
                                widget=forms.TimeInput(attrs={"type": "time"}))
    duration_minutes = forms.IntegerField(label=_("时长(分钟)"), min_value=1, max_value=600,
                                          initial=15)


class MinutesForm(forms.Form):
    minutes = forms.CharField(label=_("会议纪要"), widget=forms.Textarea(attrs={"rows": 6}))


class SignInForm(forms.Form):
    code = forms.CharField(label=_("签到码"), max_length=8)


class TopicScheduleForm(forms.Form):
    session = forms.ModelChoiceField(label=_("议事会"), queryset=Session.objects.none())
    starts_at = forms.TimeField(label=_("开始"), required=False,
                                widget=forms.TimeInput(attrs={"type": "time"}))
    duration_minutes = forms.IntegerField(label=_("时长(分钟)"), min_value=1, max_value=600,
                                          initial=20)

    def __init__(self, *args: Any, sessions: QuerySet[Session] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if sessions is not None:
            # self.fields holds this form's copies of the declared fields: the one above.
            cast("forms.ModelChoiceField[Session]", self.fields["session"]).queryset = sessions


class OpinionForm(forms.Form):
    speaker = forms.CharField(label=_("发言人/主体"), max_length=50)
    stance = forms.ChoiceField(label=_("态度"), choices=TopicOpinion.Stance.choices)
    body = forms.CharField(label=_("意见"), widget=forms.Textarea(attrs={"rows": 2}))


class DecideForm(forms.Form):
    decision_text = forms.CharField(label=_("决议内容"), widget=forms.Textarea(attrs={"rows": 3}))
    mode = forms.ChoiceField(label=_("决议方式"), choices=Topic.DecisionMode.choices)
    eligible_voters = forms.IntegerField(label=_("应到人数"), min_value=1, required=False)
    votes_for = forms.IntegerField(label=_("赞成"), min_value=0, initial=0)
    votes_against = forms.IntegerField(label=_("反对"), min_value=0, initial=0)
    votes_abstain = forms.IntegerField(label=_("弃权"), min_value=0, initial=0)
    review_on = forms.DateField(label=_("评议日期"), widget=IsoDateInput())


class ActionItemForm(forms.Form):
    title = forms.CharField(label=_("落实事项"), max_length=200)
    owner_name = forms.CharField(label=_("责任人"), max_length=100, required=False)
    owner_body = forms.ModelChoiceField(label=_("责任主体"), queryset=Body.objects.none(),
                                        required=False)
    deadline = forms.DateField(label=_("完成时限"), widget=IsoDateInput())

    def __init__(self, *args: Any, bodies: QuerySet[Body] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if bodies is not None:
            # self.fields holds this form's copies of the declared fields: the one above.
            cast("forms.ModelChoiceField[Body]", self.fields["owner_body"]).queryset = bodies


class ProgressForm(forms.Form):
    progress = forms.IntegerField(label=_("进度(%)"), min_value=0, max_value=100)
    note = forms.CharField(label=_("进展说明"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))
    photo = forms.FileField(label=_("佐证照片"), required=False)


class TickOffConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("我已核实该事项已落实完成，确认销号"),
        error_messages={"required": _("请勾选确认后再销号。")})
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class OutcomeForm(forms.Form):
    outcome = forms.CharField(label=_("办理结果"), widget=forms.Textarea(attrs={"rows": 3}))
    evaluation_note = forms.CharField(
        label=_("线下评议记录"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("没有居民在线评议时必填：评议会或入户回访的参加人数和意见。"))


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("不予受理理由"), max_length=300)


class RateForm(forms.Form):
    score = forms.ChoiceField(label=_("您的评价"), choices=Satisfaction.choices,
                              widget=forms.RadioSelect)
    comment = forms.CharField(label=_("意见"), max_length=300, required=False)


class SurveyAnswerForm(forms.Form):
    """One field a question (`q<id>`); `responses()` gives what survey_respond takes. Whether a
    question must be answered is the service's to say (its message names the question)."""

    def __init__(self, *args: Any, questions: list[SurveyQuestion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            self.fields[f"q{question.pk}"] = _answer_field(question)

    def responses(self) -> dict[int, Any]:
        return {question.pk: self.cleaned_data.get(f"q{question.pk}")
                for question in self.questions}


def _answer_field(question: SurveyQuestion) -> forms.Field:
    optional = _("（选答）")  # not inside the f-string: xgettext does not read those
    label = question.text if question.is_required else f"{question.text}{optional}"
    options = [(str(option.pk), option.label) for option in question.options.all()]
    if question.kind == SurveyQuestion.Kind.SINGLE:
        return forms.ChoiceField(label=label, choices=options, widget=forms.RadioSelect,
                                 required=False)
    if question.kind == SurveyQuestion.Kind.MULTIPLE:
        return forms.MultipleChoiceField(label=label, choices=options, required=False,
                                         widget=forms.CheckboxSelectMultiple)
    if question.kind == SurveyQuestion.Kind.SCALE:
        scores = [(str(score), str(score)) for score in range(1, 6)]
        return forms.ChoiceField(label=label, choices=scores, required=False,
                                 widget=forms.RadioSelect(attrs={"class": "survey-scale"}),
                                 help_text=_("1 分最低，5 分最高"))
    return forms.CharField(label=label, max_length=500, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


class SurveyCreateForm(CompoundChoiceMixin):
    title = forms.CharField(label=_("问卷名称"), max_length=100)
    description = forms.CharField(label=_("说明"), required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    opens_on = forms.DateField(label=_("开始日期"), widget=IsoDateInput())
    closes_on = forms.DateField(label=_("截止日期"), widget=IsoDateInput())


class SurveyQuestionForm(forms.Form):
    kind = forms.ChoiceField(label=_("题型"), choices=SurveyQuestion.Kind.choices)
    text = forms.CharField(label=_("题目"), max_length=200)
    is_required = forms.BooleanField(label=_("必答"), required=False, initial=True)
    options = forms.CharField(label=_("选项（选择题填写，每行一个）"), required=False,
                              max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))

    def clean_options(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["options"].splitlines()
                if line.strip()]


class NeedForm(CompoundChoiceMixin):
    title = forms.CharField(label=_("需求"), max_length=200)
    source = forms.ChoiceField(label=_("来源"), choices=Need.Source.choices)


class ResourceForm(CompoundChoiceMixin):
    kind = forms.ChoiceField(label=_("类型"), choices=Resource.Kind.choices)
    name = forms.CharField(label=_("名称"), max_length=100)
    offers = forms.CharField(label=_("可提供"), max_length=500)


class ProjectForm(CompoundChoiceMixin):
    kind = forms.ChoiceField(label=_("类型"), choices=Project.Kind.choices)
    title = forms.CharField(label=_("项目"), max_length=200)
    owner_name = forms.CharField(label=_("牵头人/单位"), max_length=100)
    budget = forms.DecimalField(label=_("预算(元)"), min_value=0, max_digits=12,
                                decimal_places=2, initial=0)


class ResolveForm(forms.Form):
    resolution = forms.CharField(label=_("解决情况"), max_length=300)


class TopicFromPetitionForm(forms.Form):
    petition_id = forms.IntegerField(label=_("诉求编号"), min_value=1)
    title = forms.CharField(label=_("议题名称"), max_length=200, required=False)
    description = forms.CharField(
        label=_("议题说明"), max_length=2000, required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("未同意公开或匿名的诉求必填：由工作人员概括，不得引用诉求原文或诉求人信息。"),
    )


class CommentForm(forms.Form):
    body = forms.CharField(label=_("说说您的看法"), max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 3}))


class CommentHideForm(forms.Form):
    reason = forms.CharField(label=_("屏蔽理由"), max_length=200)


class NoticePreferenceForm(forms.Form):
    sms_opt_in = forms.BooleanField(
        label=_("议事会通知同时发短信到我的手机"), required=False,
        help_text=_("站内信总会收到；短信可随时关闭。"))


class AttendanceRecordForm(forms.Form):
    """补录: tick the residents of the printed list who signed it."""

    users = forms.TypedMultipleChoiceField(label=_("已在纸质签到表上签名"), coerce=int,
                                           widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, listed: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.TypedMultipleChoiceField, self.fields["users"]).choices = listed
